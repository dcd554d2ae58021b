import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { cobsDecode, cobsEncode } from './cobs.js';
import { decodeMessage, encodeMessage, serializeMessage, wrapFrame } from './codec.js';
import { crc16CcittFalse } from './crc16.js';
import { SerialFrameDecoder } from './frame-decoder.js';
import type { SerialMessage } from './messages.js';
import { sampleMessages } from './sample-messages.js';

function decodeAll(bytes: Uint8Array): SerialMessage[] {
  const d = new SerialFrameDecoder();
  return d.pushMessages(bytes).flatMap((e) => (e.kind === 'message' ? [e.message] : []));
}

describe('CRC-16/CCITT-FALSE', () => {
  it('has the catalogued check value 0x29B1 for "123456789"', () => {
    expect(crc16CcittFalse(new TextEncoder().encode('123456789'))).toBe(0x29b1);
  });
});

describe('COBS', () => {
  it('encodes the textbook examples', () => {
    expect([...cobsEncode(Uint8Array.from([0x00]))]).toEqual([0x01, 0x01]);
    expect([...cobsEncode(Uint8Array.from([0x11, 0x22, 0x00, 0x33]))]).toEqual([
      0x03, 0x11, 0x22, 0x02, 0x33,
    ]);
    expect([...cobsEncode(Uint8Array.from([0x11, 0x00, 0x00, 0x00]))]).toEqual([
      0x02, 0x11, 0x01, 0x01, 0x01,
    ]);
  });

  it('round-trips runs around the 254-byte block boundary', () => {
    for (const n of [0, 1, 253, 254, 255, 508, 600]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : (i % 255) + 1));
      const enc = cobsEncode(data);
      expect(enc.includes(0)).toBe(false);
      expect([...cobsDecode(enc)]).toEqual([...data]);
    }
  });

  it('rejects a code byte that points past the end', () => {
    expect(() => cobsDecode(Uint8Array.from([0x05, 0x01]))).toThrow(
      expect.objectContaining({ code: ErrorCode.WireBadFraming }),
    );
  });
});

describe('message codec', () => {
  it.each(sampleMessages.map((m) => [`${m.type} seq ${m.seq}`, m] as const))(
    'round-trips %s',
    (_name, msg) => {
      const wire = encodeMessage(msg);
      expect(wire[wire.length - 1]).toBe(0);
      expect(wire.subarray(0, -1).includes(0)).toBe(false);
      expect(decodeAll(wire)).toEqual([msg]);
    },
  );

  it('lays out the header as version, type, seq (LE)', () => {
    const content = serializeMessage({ type: 'pong', seq: 0x1234, tmst: 0x01020304 });
    expect([...content]).toEqual([0x01, 0x04, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01]);
    // The worked example of PROTOCOL.md §6, byte for byte.
    expect(Buffer.from(encodeMessage({ type: 'pong', seq: 0x1234, tmst: 0x01020304 })).toString('hex')).toBe(
      '0b01043412040302013d3b00',
    );
  });

  it('rejects a bad protocol version with WireBadVersion', () => {
    const content = serializeMessage({ type: 'ping', seq: 1 });
    content[0] = 2;
    expect(() => decodeMessage(content)).toThrow(expect.objectContaining({ code: ErrorCode.WireBadVersion }));
    const events = new SerialFrameDecoder().pushMessages(wrapFrame(content));
    expect(events).toHaveLength(1);
    expect(events[0]?.kind === 'error' && events[0].error.code).toBe(ErrorCode.WireBadVersion);
  });

  it('rejects an unknown type, a short body, trailing bytes and bad enum values', () => {
    expect(() => decodeMessage(Uint8Array.from([1, 0x7e, 0, 0]))).toThrow(
      expect.objectContaining({ code: ErrorCode.WireUnknownMessage }),
    );
    expect(() => decodeMessage(Uint8Array.from([1, 0x04, 0, 0, 1, 2]))).toThrow(
      expect.objectContaining({ code: ErrorCode.WireTruncated }),
    );
    expect(() => decodeMessage(Uint8Array.from([1, 0x03, 0, 0, 9]))).toThrow(
      expect.objectContaining({ code: ErrorCode.WireBadField }),
    );
    const ack = serializeMessage({ type: 'txpk-ack', seq: 1, id: 1, status: 'OK' });
    ack[6] = 99;
    expect(() => decodeMessage(ack)).toThrow(expect.objectContaining({ code: ErrorCode.WireBadField }));
  });

  it('refuses to encode out-of-range values', () => {
    const big = { ...(sampleMessages[4] as SerialMessage), payload: new Uint8Array(256) } as SerialMessage;
    expect(() => encodeMessage(big)).toThrow(expect.objectContaining({ code: ErrorCode.WireBadField }));
    expect(() => encodeMessage({ type: 'pong', seq: 70_000, tmst: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.WireBadField }),
    );
  });
});

describe('SerialFrameDecoder', () => {
  const wire = encodeMessage(sampleMessages[4] as SerialMessage);

  it('finds a frame split across two chunks at every split point', () => {
    for (let split = 0; split <= wire.length; split++) {
      const d = new SerialFrameDecoder();
      const events = [...d.pushMessages(wire.subarray(0, split)), ...d.pushMessages(wire.subarray(split))];
      expect(events, `split at ${split}`).toEqual([{ kind: 'message', message: sampleMessages[4] }]);
    }
  });

  it('finds a frame delivered one byte at a time', () => {
    const d = new SerialFrameDecoder();
    const events = [...wire].flatMap((b) => d.pushMessages(Uint8Array.of(b)));
    expect(events).toEqual([{ kind: 'message', message: sampleMessages[4] }]);
  });

  it('finds two frames in one chunk', () => {
    const two = new Uint8Array([...encodeMessage(sampleMessages[2] as SerialMessage), ...wire]);
    expect(decodeAll(two)).toEqual([sampleMessages[2], sampleMessages[4]]);
  });

  it('skips leading garbage and a partial frame, then resynchronises', () => {
    const garbage = Uint8Array.from([0x13, 0x37, 0xff, 0x00, 0x99, ...wire.subarray(3)]);
    const d = new SerialFrameDecoder();
    const events = d.pushMessages(new Uint8Array([...garbage, ...wire]));
    expect(events.filter((e) => e.kind === 'message')).toEqual([
      { kind: 'message', message: sampleMessages[4] },
    ]);
    expect(events.filter((e) => e.kind === 'error').length).toBeGreaterThanOrEqual(1);
  });

  it('drops a frame with a bad CRC and counts it, keeping the next frame', () => {
    const content = serializeMessage(sampleMessages[7] as SerialMessage);
    const bad = wrapFrame(content);
    const copy = Uint8Array.from(bad);
    copy[3] = copy[3] === 0x55 ? 0x56 : 0x55;
    const d = new SerialFrameDecoder();
    const events = d.pushMessages(new Uint8Array([...copy, ...bad]));
    expect(events[0]?.kind === 'error' && events[0].error.code).toBe(ErrorCode.WireBadChecksum);
    expect(events[1]).toEqual({ kind: 'message', message: sampleMessages[7] });
    expect(d.counters().badChecksum).toBe(1);
  });

  it('drops an oversize frame once, counts it, and decodes the frame after it', () => {
    const d = new SerialFrameDecoder();
    const flood = new Uint8Array(2000).fill(0x41);
    const events = [
      ...d.pushMessages(flood),
      ...d.pushMessages(flood),
      ...d.pushMessages(Uint8Array.of(0, ...wire)),
    ];
    const errors = events.filter((e) => e.kind === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.kind === 'error' && errors[0].error.code).toBe(ErrorCode.WireOversize);
    expect(events.at(-1)).toEqual({ kind: 'message', message: sampleMessages[4] });
    expect(d.counters().oversize).toBe(1);
  });

  it('reports too-short frames as WireTruncated', () => {
    const events = new SerialFrameDecoder().pushMessages(Uint8Array.from([0x02, 0x05, 0x00]));
    expect(events).toHaveLength(1);
    expect(events[0]?.kind === 'error' && isMaverickError(events[0].error, ErrorCode.WireTruncated)).toBe(
      true,
    );
  });
});
