/**
 * Every published LoRaWAN 1.0.x vector in shared/vectors/lorawan-1.0.json,
 * run against proto/lorawan. Each test is named with the vector id and its
 * source so the citation shows in the test output.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  aesCmac,
  b0Mic,
  decodeJoinAccept,
  decodePhy,
  decryptFrmPayload,
  deriveSessionKeys,
  encodeDataFrame,
  encodeJoinAccept,
  encodeJoinRequest,
  frmCrypt,
  fromHex,
  hexToLittleEndian,
  joinAcceptPlaintext,
  reconstructFCnt,
  toHex,
  verifyDataMic,
  verifyJoinRequest,
} from '../proto/lorawan/index.js';

interface Vector {
  id: string;
  source: string;
  kind: string;
  [field: string]: unknown;
}

const repoRoot = resolve(import.meta.dirname, '..');
const vectorsPath = resolve(repoRoot, '..', 'shared', 'vectors', 'lorawan-1.0.json');
const file = JSON.parse(readFileSync(vectorsPath, 'utf8')) as {
  kinds: Record<string, string>;
  vectors: Vector[];
};

const str = (v: Vector, key: string) => v[key] as string;
const bytes = (v: Vector, key: string) => fromHex(str(v, key));
const num = (hex: string) => Number.parseInt(hex, 16);
const title = (v: Vector) => `${v.id} — ${v.source}`;

function byKind(kind: string): Vector[] {
  return file.vectors.filter((v) => v.kind === kind);
}

const handlers: Record<string, (v: Vector) => void> = {
  cmac(v) {
    expect(toHex(aesCmac(bytes(v, 'key'), bytes(v, 'message')))).toBe(str(v, 'mac'));
  },
  'frm-crypt'(v) {
    const devAddr = hexToLittleEndian(str(v, 'devAddr'), 4, 'devAddr');
    const dir = v.dir as 0 | 1;
    const fCnt = v.fCnt as number;
    expect(toHex(frmCrypt(bytes(v, 'key'), dir, devAddr, fCnt, bytes(v, 'plain')))).toBe(str(v, 'cipher'));
    expect(toHex(frmCrypt(bytes(v, 'key'), dir, devAddr, fCnt, bytes(v, 'cipher')))).toBe(str(v, 'plain'));
  },
  'b0-mic'(v) {
    const devAddr = hexToLittleEndian(str(v, 'devAddr'), 4, 'devAddr');
    const mic = b0Mic(bytes(v, 'key'), v.dir as 0 | 1, devAddr, v.fCnt as number, bytes(v, 'msg'));
    expect(toHex(mic)).toBe(str(v, 'mic'));
  },
  data(v) {
    const f = v.frame as {
      uplink: boolean;
      confirmed?: boolean;
      devAddr: string;
      fCnt: number;
      adr?: boolean;
      ack?: boolean;
      fOpts?: string;
      fPort?: number;
      payload: string;
    };
    const keys = { nwkSKey: bytes(v, 'nwkSKey'), appSKey: bytes(v, 'appSKey') };
    const mType = `${f.confirmed ? 'Confirmed' : 'Unconfirmed'}Data${f.uplink ? 'Up' : 'Down'}` as const;
    const phy = encodeDataFrame(
      {
        mType,
        devAddr: f.devAddr,
        fCnt32: f.fCnt,
        fCtrl: { adr: f.adr ?? false, ack: f.ack ?? false },
        fOpts: f.fOpts ? fromHex(f.fOpts) : undefined,
        fPort: f.fPort,
        payload: fromHex(f.payload),
      },
      keys,
    );
    expect(toHex(phy)).toBe(str(v, 'phy'));
    const frame = decodePhy(bytes(v, 'phy'));
    if (frame.kind !== 'data') throw new Error(`expected a data frame, got ${frame.kind}`);
    expect(frame).toMatchObject({
      mType,
      uplink: f.uplink,
      confirmed: f.confirmed ?? false,
      devAddr: f.devAddr,
    });
    expect(frame.fCtrl.adr).toBe(f.adr ?? false);
    expect(frame.fCtrl.ack).toBe(f.ack ?? false);
    expect(frame.fPort).toBe(f.fPort);
    expect(toHex(frame.fOpts)).toBe(f.fOpts ?? '');
    const fCnt32 = reconstructFCnt(undefined, frame.fCnt16);
    expect(fCnt32).toBe(f.fCnt);
    expect(verifyDataMic(frame, keys.nwkSKey, fCnt32)).toBe(true);
    expect(verifyDataMic(frame, keys.appSKey, fCnt32)).toBe(false);
    const key = frame.fPort === 0 ? keys.nwkSKey : keys.appSKey;
    expect(toHex(decryptFrmPayload(frame, key, fCnt32))).toBe(f.payload);
  },
  'data-mic'(v) {
    const frame = decodePhy(bytes(v, 'phy'));
    if (frame.kind !== 'data') throw new Error(`expected a data frame, got ${frame.kind}`);
    expect(toHex(frame.mic)).toBe(str(v, 'mic'));
    expect(verifyDataMic(frame, bytes(v, 'nwkSKey'), frame.fCnt16)).toBe(true);
    const msg = frame.phy.subarray(0, frame.phy.length - 4);
    const recomputed = b0Mic(
      bytes(v, 'nwkSKey'),
      frame.uplink ? 0 : 1,
      frame.phy.subarray(1, 5),
      frame.fCnt16,
      msg,
    );
    expect(toHex(recomputed)).toBe(str(v, 'mic'));
  },
  'join-request'(v) {
    const appKey = bytes(v, 'appKey');
    const fields = {
      joinEui: str(v, 'joinEui'),
      devEui: str(v, 'devEui'),
      devNonce: num(str(v, 'devNonce')),
    };
    expect(toHex(encodeJoinRequest(fields, appKey))).toBe(str(v, 'phy'));
    const frame = decodePhy(bytes(v, 'phy'));
    if (frame.kind !== 'join-request') throw new Error(`expected a join-request, got ${frame.kind}`);
    expect(frame).toMatchObject(fields);
    expect(verifyJoinRequest(frame, appKey)).toBe(true);
    expect(verifyJoinRequest(frame, new Uint8Array(16).fill(0xa5))).toBe(false);
  },
  'join-accept'(v) {
    const appKey = bytes(v, 'appKey');
    const raw = v.fields as {
      appNonce: string;
      netId: string;
      devAddr: string;
      dlSettings: number;
      rxDelay: number;
    };
    const fields = {
      appNonce: num(raw.appNonce),
      netId: raw.netId,
      devAddr: raw.devAddr,
      rx1DrOffset: (raw.dlSettings >>> 4) & 0x07,
      rx2DataRate: raw.dlSettings & 0x0f,
      rxDelay: raw.rxDelay,
    };
    const plain = joinAcceptPlaintext(fields, appKey);
    if (v.plaintext !== undefined) expect(toHex(plain)).toBe(str(v, 'plaintext'));
    expect(toHex(plain.subarray(plain.length - 4))).toBe(str(v, 'mic'));
    const phy = encodeJoinAccept(fields, appKey);
    if (v.phy !== undefined) expect(toHex(phy)).toBe(str(v, 'phy'));
    const decoded = decodeJoinAccept(v.phy !== undefined ? bytes(v, 'phy') : phy, appKey);
    expect(decoded).toEqual(fields);
    expect(decodePhy(phy).kind).toBe('join-accept');
  },
  'session-keys'(v) {
    const keys = deriveSessionKeys(
      bytes(v, 'appKey'),
      num(str(v, 'appNonce')),
      str(v, 'netId'),
      num(str(v, 'devNonce')),
    );
    expect(toHex(keys.nwkSKey)).toBe(str(v, 'nwkSKey'));
    expect(toHex(keys.appSKey)).toBe(str(v, 'appSKey'));
  },
};

describe('published LoRaWAN 1.0.x vectors', () => {
  it('has a handler for every kind in the file, and vectors of every kind', () => {
    expect(Object.keys(handlers).sort()).toEqual(Object.keys(file.kinds).sort());
    for (const kind of Object.keys(file.kinds)) expect(byKind(kind).length).toBeGreaterThan(0);
  });

  for (const kind of Object.keys(handlers)) {
    describe(kind, () => {
      for (const v of byKind(kind)) it(title(v), () => handlers[kind](v));
    });
  }

  it('covers every vector in the file', () => {
    const covered = Object.keys(handlers).reduce((n, k) => n + byKind(k).length, 0);
    expect(covered).toBe(file.vectors.length);
  });
});
