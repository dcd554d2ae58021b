import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import {
  decodeFragment,
  encodeFragment,
  fragmentCount,
  itemIdOf,
  SBD_MO_MTU,
  splitItem,
} from './fragment.js';
import {
  encodeSbdrbFrame,
  encodeSbdwbPayload,
  formatSbdix,
  moSucceeded,
  parseCsq,
  parseSbdix,
  parseSbdrbFrame,
  parseSbdwbResult,
  sbdChecksum,
} from './sbd-at.js';
import {
  bitIsSet,
  decodeStatusRecords,
  encodeStatusRecords,
  packStatusMessages,
  type StatusRecord,
  setBit,
} from './status.js';
import { ackTopic, parseUpTopic, upTopic } from './topics.js';

function code(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return isMaverickError(err) ? err.code : -1;
  }
  return undefined;
}

describe('fragments', () => {
  it('splits an item into ≤ MTU frames that reassemble to it, with a 9-byte header', () => {
    const item = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
    const frames = splitItem('bundle', item, SBD_MO_MTU).map(encodeFragment);
    expect(frames).toHaveLength(fragmentCount(5000, SBD_MO_MTU));
    expect(frames.length).toBe(Math.ceil(5000 / 331));
    expect(Math.max(...frames.map((f) => f.length))).toBe(SBD_MO_MTU);
    const decoded = frames.map(decodeFragment);
    expect(Buffer.concat(decoded.map((d) => d.payload))).toEqual(Buffer.from(item));
    expect(decoded.every((d) => Buffer.from(d.itemId).equals(Buffer.from(itemIdOf(item))))).toBe(true);
    expect(decoded.map((d) => d.index)).toEqual(decoded.map((_, i) => i));
  });

  it('round-trips kind and the status flag', () => {
    const f = {
      kind: 'commitment' as const,
      itemId: new Uint8Array([1, 2, 3, 4]),
      index: 2,
      count: 3,
      wantStatus: true,
      payload: new Uint8Array([9]),
    };
    expect(decodeFragment(encodeFragment(f))).toEqual(f);
    expect(encodeFragment(f)[0]).toBe(0x1a);
  });

  it('rejects bad frames with LinkFragment', () => {
    const good = encodeFragment({
      kind: 'bundle',
      itemId: new Uint8Array(4),
      index: 0,
      count: 1,
      wantStatus: false,
      payload: new Uint8Array([1]),
    });
    expect(code(() => decodeFragment(good.subarray(0, 9)))).toBe(ErrorCode.LinkFragment);
    expect(code(() => decodeFragment(Uint8Array.of(0x21, ...good.subarray(1))))).toBe(ErrorCode.LinkFragment);
    expect(code(() => decodeFragment(Uint8Array.of(0x17, ...good.subarray(1))))).toBe(ErrorCode.LinkFragment);
    const badIndex = good.slice();
    badIndex[6] = 1; // index 1 of 1
    expect(code(() => decodeFragment(badIndex))).toBe(ErrorCode.LinkFragment);
    expect(code(() => fragmentCount(100, 9))).toBe(ErrorCode.LinkFragment);
  });
});

describe('status records', () => {
  it('round-trips DONE and BITMAP records and packs them into ≤ 270-byte messages', () => {
    const bitmap = new Uint8Array(3);
    for (const i of [0, 5, 17]) setBit(bitmap, i);
    const records: StatusRecord[] = [
      { type: 'done', itemId: new Uint8Array([1, 2, 3, 4]), status: 'duplicate' },
      { type: 'bitmap', itemId: new Uint8Array([5, 6, 7, 8]), count: 18, bitmap },
    ];
    expect(decodeStatusRecords(encodeStatusRecords(records))).toEqual(records);
    const decoded = decodeStatusRecords(encodeStatusRecords(records))[1];
    expect(decoded?.type === 'bitmap' && [0, 5, 17, 1].map((i) => bitIsSet(decoded.bitmap, i))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    const many = Array.from(
      { length: 100 },
      (_, i): StatusRecord => ({ type: 'done', itemId: new Uint8Array([i, 0, 0, 0]), status: 'accepted' }),
    );
    const messages = packStatusMessages(many, 270);
    expect(messages.every((m) => m.length <= 270)).toBe(true);
    expect(messages.flatMap((m) => decodeStatusRecords(m))).toHaveLength(100);
  });

  it('rejects truncated and unknown records', () => {
    expect(code(() => decodeStatusRecords(new Uint8Array(0)))).toBe(ErrorCode.LinkFragment);
    expect(code(() => decodeStatusRecords(Uint8Array.of(0x11, 1, 2, 3, 4)))).toBe(ErrorCode.LinkFragment);
    expect(code(() => decodeStatusRecords(Uint8Array.of(0x11, 1, 2, 3, 4, 7)))).toBe(ErrorCode.LinkFragment);
    expect(code(() => decodeStatusRecords(Uint8Array.of(0x12, 1, 2, 3, 4, 0, 17, 0xff, 0xff)))).toBe(
      ErrorCode.LinkFragment,
    );
    expect(code(() => decodeStatusRecords(Uint8Array.of(0x99)))).toBe(ErrorCode.LinkFragment);
  });
});

describe('Iridium SBD responses (ISU AT Command Reference)', () => {
  it('computes the checksum of the reference example "hello" as 0x0214', () => {
    const hello = new TextEncoder().encode('hello');
    expect(sbdChecksum(hello)).toBe(0x0214);
    expect(Buffer.from(encodeSbdwbPayload(hello)).toString('hex')).toBe('68656c6c6f0214');
    expect(Buffer.from(encodeSbdrbFrame(hello)).toString('hex')).toBe('000568656c6c6f0214');
  });

  it('parses +SBDIX, +CSQ, +SBDWB results and +SBDRB frames', () => {
    const r = parseSbdix('+SBDIX: 0, 12, 1, 3, 20, 2');
    expect(r).toEqual({ moStatus: 0, momsn: 12, mtStatus: 1, mtmsn: 3, mtLength: 20, mtQueued: 2 });
    expect(moSucceeded(r)).toBe(true);
    expect(moSucceeded(parseSbdix('+SBDIX: 32, 12, 2, 0, 0, 0'))).toBe(false);
    expect(parseSbdix(formatSbdix(r))).toEqual(r);
    expect(parseCsq('+CSQ:4')).toBe(4);
    expect(parseSbdwbResult('2')).toBe(2);
    const frame = encodeSbdrbFrame(Uint8Array.of(1, 2, 3));
    expect(parseSbdrbFrame(frame.subarray(0, 4))).toBeUndefined();
    expect(parseSbdrbFrame(frame)).toEqual({ message: Uint8Array.of(1, 2, 3), consumed: 7 });
  });

  it('rejects garbled answers with LinkModem', () => {
    expect(code(() => parseSbdix('+SBDIX: 0, 12, 1'))).toBe(ErrorCode.LinkModem);
    expect(code(() => parseSbdix('+SBDIX: 99, 12, 1, 3, 20, 2'))).toBe(ErrorCode.LinkModem);
    expect(code(() => parseCsq('+CSQ:9'))).toBe(ErrorCode.LinkModem);
    expect(code(() => parseSbdwbResult('READY'))).toBe(ErrorCode.LinkModem);
    const bad = encodeSbdrbFrame(Uint8Array.of(1, 2, 3));
    bad[6] = 0;
    expect(code(() => parseSbdrbFrame(bad))).toBe(ErrorCode.LinkModem);
    expect(code(() => parseSbdrbFrame(Uint8Array.of(0xff, 0xff)))).toBe(ErrorCode.LinkModem);
  });
});

describe('MQTT topics', () => {
  it('builds and parses topics, refusing ids that would break them', () => {
    expect(upTopic('gw-1', 'bundle')).toBe('maverick/v1/gw/gw-1/up/bundle');
    expect(ackTopic('gw-1')).toBe('maverick/v1/gw/gw-1/ack');
    expect(parseUpTopic('maverick/v1/gw/gw-1/up/alarm')).toEqual({ gatewayId: 'gw-1', kind: 'alarm' });
    expect(parseUpTopic('maverick/v1/gw/gw-1/up/other')).toBeUndefined();
    expect(parseUpTopic('maverick/v1/gw/gw-1/ack')).toBeUndefined();
    expect(code(() => upTopic('a/b', 'bundle'))).toBe(ErrorCode.ConfigInvalid);
    expect(code(() => upTopic('a+', 'bundle'))).toBe(ErrorCode.ConfigInvalid);
  });
});
