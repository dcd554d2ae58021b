import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  DAY_START_MS,
  devEuiOf,
  plotReferences,
  simulatedDay,
} from '../../test/fixtures/bundle-simulated-day.js';
import { ErrorCode, isMaverickError } from '../errors.js';
import { bundleDigest, signBundle, verifyBundle } from './bundle.js';
import { decodeCbor } from './cbor-decode.js';
import { type CborMap, type CborValue, encodeCbor, encodeTaggedCbor } from './cbor-encode.js';
import { ALG_ED25519, type SigningKey } from './cose.js';
import { ed25519Sign, keyIdOf, publicKeyOf, randomSecretKey } from './ed25519.js';
import { decodeBundlePayload, encodeBundlePayload } from './payload.js';
import { type BundleContent, GENESIS_PREV_HASH, type UplinkRecord } from './types.js';
import { VarintReader, VarintWriter } from './varint.js';

const secretKey = randomSecretKey();
const publicKey = publicKeyOf(secretKey);
const key: SigningKey = { kid: keyIdOf(publicKey), secretKey };
const claims = { iss: 'gw-0016c001ff10a235', sub: 'farm:demo', iat: 1_763_700_000 };
const resolve = (kid: Uint8Array): Uint8Array | undefined =>
  Buffer.compare(kid, key.kid) === 0 ? publicKey : undefined;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function dayContent(compress: boolean, uplinks: UplinkRecord[] = simulatedDay()): BundleContent {
  return {
    seq: 7,
    prevHash: GENESIS_PREV_HASH,
    timeRange: { start: DAY_START_MS, end: DAY_START_MS + DAY_MS - 1 },
    plots: plotReferences(true),
    uplinks,
    compress,
  };
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (isMaverickError(err)) return err.code;
    throw err;
  }
  return undefined;
}

/** Signs hand-made payload bytes exactly as given (to test the payload checks behind a valid signature). */
function signRaw(payload: Uint8Array): Uint8Array {
  return signBundle(payload, key, claims);
}

describe('bundle payload', () => {
  it.each([false, true])('round-trips a simulated day (compress=%s) in canonical order', (compress) => {
    const content = dayContent(compress);
    const decoded = decodeBundlePayload(encodeBundlePayload(content));
    expect(decoded.uplinks).toHaveLength(content.uplinks.length);
    const byKey = (u: UplinkRecord): string => `${hex(u.devEui)}:${u.receivedAt}:${u.fCnt}`;
    const expected = new Map(content.uplinks.map((u) => [byKey(u), u]));
    for (const u of decoded.uplinks) {
      const original = expected.get(byKey(u));
      expect(original).toBeDefined();
      expect(u.timeSource).toBe(original?.timeSource);
      expect(u.plotId).toBe(original?.plotId);
      expect([...u.readings].sort((a, b) => a.field.localeCompare(b.field))).toEqual(
        [...(original?.readings ?? [])].sort((a, b) => a.field.localeCompare(b.field)),
      );
    }
    expect(decoded.compress).toBe(compress);
    expect(decoded.plots.map((p) => p.definition?.areaM2)).toEqual([62_000, 31_000]);
  });

  it('same content in any order gives identical bytes', () => {
    const a = dayContent(true);
    const shuffled = [...a.uplinks].reverse().map((u) => ({ ...u, readings: [...u.readings].reverse() }));
    const b = { ...a, uplinks: shuffled, plots: [...a.plots].reverse() };
    expect(hex(encodeBundlePayload(b))).toBe(hex(encodeBundlePayload(a)));
  });

  it('makes FCnt gaps, counter resets and unsynchronised time visible', () => {
    const dev = devEuiOf(9);
    const base = { devEui: dev, plotId: null, readings: [{ field: 't', scale: 0, value: 1 }] } as const;
    const uplinks: UplinkRecord[] = [
      { ...base, readings: [...base.readings], fCnt: 10, receivedAt: DAY_START_MS + 1000, timeSource: 'gps' },
      { ...base, readings: [...base.readings], fCnt: 11, receivedAt: DAY_START_MS + 2000, timeSource: 'ntp' },
      {
        ...base,
        readings: [...base.readings],
        fCnt: 15,
        receivedAt: DAY_START_MS + 3000,
        timeSource: 'host-unsynced',
      },
      { ...base, readings: [], fCnt: 0, receivedAt: DAY_START_MS + 4000, timeSource: 'host-unsynced' },
    ];
    const decoded = decodeBundlePayload(encodeBundlePayload({ ...dayContent(false, uplinks), plots: [] }));
    expect(decoded.devices).toEqual([
      {
        devEui: dev,
        plotId: null,
        uplinks: 4,
        fCntFirst: 10,
        fCntLast: 0,
        missingFCnt: [[12, 14]],
        counterResets: 1,
        sessions: [{ session: 0, uplinks: 4, fCntFirst: 10, fCntLast: 0 }],
      },
    ]);
    expect(decoded.timeSources).toEqual({ gps: 1, ntp: 1, 'host-unsynced': 2 });
    expect(decoded.uplinks[3]?.readings).toEqual([]);
  });

  it('counts FCnt gaps per session and shows every session (rejoin, counter reset) in the summary', () => {
    const dev = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const row = (session: number, fCnt: number, at: number): UplinkRecord => ({
      devEui: dev,
      plotId: null,
      fCnt,
      session,
      receivedAt: DAY_START_MS + at * 1000,
      timeSource: 'gps',
      readings: [],
    });
    // Session 0: 5, 6, 8 (7 lost); session 1 after a rejoin: 0, 1, 3 (2 lost); session 2: 0.
    const uplinks = [row(0, 5, 1), row(0, 6, 2), row(0, 8, 3), row(1, 0, 4), row(1, 1, 5), row(1, 3, 6)];
    uplinks.push(row(2, 0, 7));
    const decoded = decodeBundlePayload(encodeBundlePayload({ ...dayContent(true, uplinks), plots: [] }));
    expect(decoded.version).toBe(2);
    expect(decoded.devices).toEqual([
      {
        devEui: dev,
        plotId: null,
        uplinks: 7,
        fCntFirst: 5,
        fCntLast: 0,
        missingFCnt: [
          [7, 7],
          [2, 2],
        ],
        counterResets: 0,
        sessions: [
          { session: 0, uplinks: 3, fCntFirst: 5, fCntLast: 8 },
          { session: 1, uplinks: 3, fCntFirst: 0, fCntLast: 3 },
          { session: 2, uplinks: 1, fCntFirst: 0, fCntLast: 0 },
        ],
      },
    ]);
    expect(decoded.uplinks.map((u) => [u.session, u.fCnt])).toEqual(uplinks.map((u) => [u.session, u.fCnt]));
    // FCnt 0 twice at one instant in two sessions is two uplinks, not a duplicate.
    const same = [row(0, 0, 1), row(1, 0, 1)];
    expect(
      decodeBundlePayload(encodeBundlePayload({ ...dayContent(false, same), plots: [] })).uplinks,
    ).toHaveLength(2);
  });

  it('still reads format 1 (no sessions) and refuses to write sessions into it', () => {
    const v1 = decodeBundlePayload(encodeBundlePayload({ ...dayContent(true), version: 1 }));
    expect(v1.version).toBe(1);
    expect(v1.uplinks.every((u) => u.session === undefined)).toBe(true);
    const withSession = [{ ...(simulatedDay()[0] as UplinkRecord), session: 1 }];
    expect(codeOf(() => encodeBundlePayload({ ...dayContent(false, withSession), version: 1 }))).toBe(
      ErrorCode.BundleMalformed,
    );
  });

  it('refuses content it cannot represent faithfully', () => {
    const bad = (patch: Partial<UplinkRecord>): number | undefined =>
      codeOf(() =>
        encodeBundlePayload(dayContent(false, [{ ...(simulatedDay()[0] as UplinkRecord), ...patch }])),
      );
    expect(bad({ readings: [{ field: 'x', scale: 0, value: 1.5 }] })).toBe(ErrorCode.BundleMalformed);
    expect(bad({ receivedAt: DAY_START_MS - 1 })).toBe(ErrorCode.BundleMalformed);
    expect(bad({ plotId: 'unknown-plot' })).toBe(ErrorCode.BundleMalformed);
    expect(bad({ devEui: new Uint8Array(4) })).toBe(ErrorCode.BundleMalformed);
  });

  it('a later bundle may carry only the plot hash', () => {
    const decoded = decodeBundlePayload(
      encodeBundlePayload({ ...dayContent(true), plots: plotReferences(false) }),
    );
    expect(decoded.plots.every((p) => p.definition === undefined && p.geometryHash.length === 32)).toBe(true);
  });
});

describe('payload canonicality behind a valid signature', () => {
  const small = simulatedDay({ devices: 2, intervalMs: 3_600_000 });
  const good = encodeBundlePayload(dayContent(false, small));
  const root = decodeCbor(good) as CborMap;

  function variant(mutate: (m: CborMap) => void): Uint8Array {
    const copy = decodeCbor(good) as CborMap;
    mutate(copy);
    return encodeCbor(copy);
  }

  it('accepts the canonical payload', () => {
    expect(verifyBundle(signRaw(good), resolve).bundle.seq).toBe(7);
  });

  it.each<[string, () => Uint8Array, number]>([
    [
      'non-shortest integer',
      () => Uint8Array.of(...good.slice(0, 3), 0x18, 0x07, ...good.slice(4)),
      ErrorCode.BundleNonCanonical,
    ],
    ['trailing byte', () => Uint8Array.of(...good, 0x00), ErrorCode.BundleNonCanonical],
    [
      'unsorted top-level keys',
      () => {
        // Swap the order of keys 0 and 1 by hand: a1.. header then 01 07 00 02 ...
        const body = good.slice(1);
        expect(hex(body.slice(0, 4))).toBe('00020107');
        return Uint8Array.of(good[0] as number, 0x01, 0x07, 0x00, 0x02, ...body.slice(4));
      },
      ErrorCode.BundleNonCanonical,
    ],
    [
      'telemetry blocks out of device order',
      () => variant((m) => ((m.get(7) as CborMap).get(2) as CborValue[]).reverse()),
      ErrorCode.BundleNonCanonical,
    ],
    [
      'summary disagreeing with telemetry',
      () => variant((m) => m.set(4, [0, 0, 0])),
      ErrorCode.BundleMalformed,
    ],
    ['unknown top-level key', () => variant((m) => m.set(9, 1)), ErrorCode.BundleMalformed],
    ['wrong version', () => variant((m) => m.set(0, 3)), ErrorCode.BundleMalformed],
    [
      'float value',
      () => Uint8Array.of(...good.slice(0, 3), 0xf9, 0x47, 0x00, ...good.slice(4)),
      ErrorCode.BundleNonCanonical,
    ],
  ])('rejects %s', (_name, make, code) => {
    expect(root.get(1)).toBe(7);
    expect(codeOf(() => verifyBundle(signRaw(make()), resolve))).toBe(code);
  });

  it('enforces the rules BUNDLE.md §9 decides: maximal runs, plain first FCnt, zero unused bitmap bits', () => {
    const blockOf = (m: CborMap) => ((m.get(7) as CborMap).get(2) as CborValue[][])[0] as CborValue[];
    // Split the first time-source run in two: same rows, same sources, a second byte form.
    const split = variant((m) => {
      const bytes = blockOf(m)[5] as Uint8Array;
      expect(bytes[1]).toBeGreaterThan(1); // single-byte varints here: [source, length, ...]
      const [source, length] = [bytes[0] as number, bytes[1] as number];
      blockOf(m)[5] = Uint8Array.of(source, 1, source, length - 1, ...bytes.slice(2));
    });
    expect(codeOf(() => verifyBundle(signRaw(split), resolve))).toBe(ErrorCode.BundleNonCanonical);
    // Zigzag-coding the first FCnt doubles it: the summaries no longer match.
    const zigzagged = variant((m) => {
      const fcnts = blockOf(m)[4] as Uint8Array;
      const length = fcnts.findIndex((b) => (b & 0x80) === 0) + 1;
      const first = new VarintReader(fcnts.slice(0, length), 'fcnt').unsigned();
      const writer = new VarintWriter();
      writer.signed(first);
      blockOf(m)[4] = Uint8Array.of(...writer.result(), ...fcnts.slice(length));
    });
    expect(codeOf(() => verifyBundle(signRaw(zigzagged), resolve))).toBe(ErrorCode.BundleMalformed);
    // Three rows, the middle one without the field: presence 0b101 then five unused zero bits.
    const rows = [0, 1, 2].map(
      (i): UplinkRecord => ({
        devEui: devEuiOf(1),
        plotId: null,
        fCnt: i,
        receivedAt: DAY_START_MS + i,
        timeSource: 'gps',
        readings: i === 1 ? [] : [{ field: 'a', scale: 0, value: i }],
      }),
    );
    const three = encodeBundlePayload({ ...dayContent(false, rows), plots: [] });
    const withBit = decodeCbor(three) as CborMap;
    const block = ((withBit.get(7) as CborMap).get(2) as CborValue[][])[0] as CborValue[];
    const column = (block[6] as CborValue[][])[0] as CborValue[];
    expect(column[2]).toEqual(Uint8Array.of(0b1010_0000));
    column[2] = Uint8Array.of(0b1010_0001);
    expect(codeOf(() => verifyBundle(signRaw(encodeCbor(withBit)), resolve))).toBe(
      ErrorCode.BundleNonCanonical,
    );
  });

  it('rejects a decompression bomb with BundleDecompressionBomb', () => {
    const bomb = new Uint8Array(deflateRawSync(new Uint8Array(64 * 1024 * 1024)));
    const payload = variant((m) => m.set(7, bomb));
    expect(bomb.length).toBeLessThan(100_000);
    expect(codeOf(() => verifyBundle(signRaw(payload), resolve))).toBe(ErrorCode.BundleDecompressionBomb);
  });

  it('rejects compressed bytes that are not deflate', () => {
    const payload = variant((m) => m.set(7, Uint8Array.of(0xff, 0xff, 0xff)));
    expect(codeOf(() => verifyBundle(signRaw(payload), resolve))).toBe(ErrorCode.BundleMalformed);
  });
});

describe('COSE envelope', () => {
  const cose = signBundle(encodeBundlePayload(dayContent(true)), key, claims);

  it('verifies and reports header, claims and digest', () => {
    const v = verifyBundle(cose, resolve);
    expect(v.envelope.alg).toBe(-8);
    expect(hex(v.envelope.kid)).toBe(hex(key.kid));
    expect(v.envelope.claims).toEqual(claims);
    expect(hex(v.digest)).toBe(hex(bundleDigest(cose)));
    expect(cose[0]).toBe(0xd2); // tag 18
  });

  it('names the precise reason for each failure', () => {
    expect(codeOf(() => verifyBundle(cose, () => undefined))).toBe(ErrorCode.BundleUnknownKey);
    expect(codeOf(() => verifyBundle(cose, () => publicKeyOf(randomSecretKey())))).toBe(
      ErrorCode.BundleBadSignature,
    );
    expect(codeOf(() => verifyBundle(cose, resolve, { maxBytes: 100 }))).toBe(ErrorCode.BundleOversize);
    expect(codeOf(() => verifyBundle(cose.slice(1), resolve))).toBe(ErrorCode.BundleMalformed);
  });

  function resign(alg: number, unprotected: CborMap = new Map()): Uint8Array {
    const [, , payload] = decodeCbor(cose, { topLevelTag: 18 }) as [Uint8Array, CborMap, Uint8Array];
    const header: CborMap = new Map<number, CborValue>([
      [1, alg],
      [3, 'application/vnd.maverick.bundle+cbor'],
      [4, key.kid],
      [
        15,
        new Map<number, CborValue>([
          [1, claims.iss],
          [2, claims.sub],
          [6, claims.iat],
        ]),
      ],
    ]);
    const protectedBytes = encodeCbor(header);
    const sig = ed25519Sign(
      encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]),
      secretKey,
    );
    return encodeTaggedCbor(18, [protectedBytes, unprotected, payload, sig]);
  }

  it('accepts alg -19 (Ed25519, RFC 9864), refuses other algorithms and a non-empty unprotected header', () => {
    expect(verifyBundle(resign(ALG_ED25519), resolve).envelope.alg).toBe(-19);
    expect(codeOf(() => verifyBundle(resign(-7), resolve))).toBe(ErrorCode.BundleMalformed);
    expect(codeOf(() => verifyBundle(resign(-8, new Map([[1, -8]])), resolve))).toBe(
      ErrorCode.BundleMalformed,
    );
  });
});

describe('tamper evidence', () => {
  const small = signBundle(
    encodeBundlePayload(dayContent(true, simulatedDay({ devices: 2, intervalMs: 7_200_000 }))),
    key,
    claims,
  );

  it('flipping any single bit of a bundle makes verification fail (exhaustive)', () => {
    expect(small.length).toBeLessThan(1000);
    for (let i = 0; i < small.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const mutated = small.slice();
        mutated[i] = (mutated[i] as number) ^ (1 << bit);
        const code = codeOf(() => verifyBundle(mutated, resolve));
        if (code === undefined) throw new Error(`flip of byte ${i} bit ${bit} still verified`);
      }
    }
  });

  it('replacing any single byte of a day bundle with any other value fails (property)', () => {
    const day = signBundle(encodeBundlePayload(dayContent(true)), key, claims);
    fc.assert(
      fc.property(fc.nat({ max: day.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, xor) => {
        const mutated = day.slice();
        mutated[index] = (mutated[index] as number) ^ xor;
        expect(codeOf(() => verifyBundle(mutated, resolve))).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });
});
