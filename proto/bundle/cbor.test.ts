import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { decodeCbor } from './cbor-decode.js';
import { type CborKey, type CborValue, cborEqual, encodeCbor } from './cbor-encode.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (isMaverickError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('deterministic CBOR encoder (RFC 8949 Appendix A vectors, §4.2.1 rules)', () => {
  it.each<[CborValue, string]>([
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [100, '1864'],
    [1000, '1903e8'],
    [1000000, '1a000f4240'],
    [1000000000000, '1b000000e8d4a51000'],
    [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'],
    [-1000, '3903e7'],
    [new Uint8Array(0), '40'],
    ['', '60'],
    ['a', '6161'],
    ['\u00fc', '62c3bc'],
    [[1, 2, 3], '83010203'],
    [[1, [2, 3], [4, 5]], '8301820203820405'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
  ])('%o encodes as %s', (value, expected) => {
    expect(hex(encodeCbor(value))).toBe(expected);
    expect(hex(encodeCbor(decodeCbor(bytes(expected))))).toBe(expected);
  });

  it('sorts map keys bytewise by their encoding, whatever the insertion order', () => {
    const map = new Map<number | string, CborValue>([
      ['b', 1],
      [100, 2],
      ['a', 3],
      [-1, 4],
      [10, 5],
    ]);
    // 0a < 1864 < 20 < 6161 < 6162
    expect(hex(encodeCbor(map))).toBe('a50a0518640220046161036162' + '01');
  });

  it('refuses floats and unsafe integers instead of silently changing them', () => {
    expect(codeOf(() => encodeCbor(1.5))).toBe(ErrorCode.BundleMalformed);
    expect(codeOf(() => encodeCbor(2 ** 60))).toBe(ErrorCode.BundleMalformed);
  });
});

describe('strict decoder rejects every non-canonical form', () => {
  it.each<[string, string, number]>([
    ['non-shortest uint (24 in two bytes)', '190018', ErrorCode.BundleNonCanonical],
    ['non-shortest small uint', '1817', ErrorCode.BundleNonCanonical],
    ['non-shortest length', '5801ff', ErrorCode.BundleNonCanonical],
    ['non-shortest 8-byte', '1b00000000ffffffff', ErrorCode.BundleNonCanonical],
    ['indefinite byte string', '5f4101ff', ErrorCode.BundleNonCanonical],
    ['indefinite array', '9f01ff', ErrorCode.BundleNonCanonical],
    ['unsorted map keys', 'a202000100', ErrorCode.BundleNonCanonical],
    ['length-first (not bytewise) order', 'a2616101186400', ErrorCode.BundleNonCanonical],
    ['duplicate map key', 'a201000100', ErrorCode.BundleNonCanonical],
    ['half float', 'f93c00', ErrorCode.BundleNonCanonical],
    ['double float', 'fb3ff0000000000000', ErrorCode.BundleNonCanonical],
    ['tag inside', 'c11a5f000000', ErrorCode.BundleNonCanonical],
    ['trailing bytes', '0000', ErrorCode.BundleNonCanonical],
    ['truncated argument', '1901', ErrorCode.BundleMalformed],
    ['truncated byte string', '4401', ErrorCode.BundleMalformed],
    ['array count beyond input', '9a7fffffff', ErrorCode.BundleMalformed],
    ['invalid UTF-8', '62c328', ErrorCode.BundleMalformed],
    ['integer beyond 2^53', '1b0020000000000000', ErrorCode.BundleMalformed],
    ['undefined simple value', 'f7', ErrorCode.BundleMalformed],
    ['reserved additional info', '1c', ErrorCode.BundleMalformed],
    ['array map key', 'a1800000', ErrorCode.BundleMalformed],
    ['empty input', '', ErrorCode.BundleMalformed],
  ])('%s (%s)', (_name, input, code) => {
    expect(codeOf(() => decodeCbor(bytes(input)))).toBe(code);
  });

  it('caps nesting depth', () => {
    const deep = new Uint8Array(40).fill(0x81);
    expect(codeOf(() => decodeCbor(Uint8Array.of(...deep, 0x00)))).toBe(ErrorCode.BundleMalformed);
  });

  it('requires the expected top-level tag when one is asked for', () => {
    expect(decodeCbor(bytes('d28100'), { topLevelTag: 18 })).toEqual([0]);
    expect(codeOf(() => decodeCbor(bytes('8100'), { topLevelTag: 18 }))).toBe(ErrorCode.BundleMalformed);
    expect(codeOf(() => decodeCbor(bytes('d28100')))).toBe(ErrorCode.BundleNonCanonical);
  });
});

const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeInteger(),
    fc.integer({ min: -30, max: 30 }),
    fc.uint8Array({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.constantFrom<CborValue>(true, false, null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .array(
        fc.tuple(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 5 })), tie('value')),
        { maxLength: 5 },
      )
      .map((entries) => new Map(entries)),
  ),
})).value;

describe('properties', () => {
  it('decode(encode(v)) re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const once = encodeCbor(v);
        expect(hex(encodeCbor(decodeCbor(once, { maxDepth: 64 })))).toBe(hex(once));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes byte strings as views of the input when asked, to the same values', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const bytes = encodeCbor(v);
        const viewed = decodeCbor(bytes, { maxDepth: 64, byteStringViews: true });
        expect(cborEqual(viewed, decodeCbor(bytes, { maxDepth: 64 }))).toBe(true);
      }),
      { numRuns: 500 },
    );
    const bytes = encodeCbor([Uint8Array.of(1, 2, 3)]);
    const [copied] = decodeCbor(bytes) as Uint8Array[];
    const [viewed] = decodeCbor(bytes, { byteStringViews: true }) as Uint8Array[];
    expect(copied?.buffer).not.toBe(bytes.buffer);
    expect(viewed?.buffer).toBe(bytes.buffer);
  });

  it('cborEqual holds exactly when the canonical encodings are equal', () => {
    fc.assert(
      fc.property(cborValue, cborValue, (a, b) => {
        // A value equals its decoded encoding (map keys back in canonical order) …
        expect(cborEqual(a, decodeCbor(encodeCbor(a), { maxDepth: 64 }))).toBe(true);
        // … and two values are equal as values exactly when their bytes are.
        expect(cborEqual(a, b)).toBe(hex(encodeCbor(a)) === hex(encodeCbor(b)));
      }),
      { numRuns: 2000 },
    );
    expect(
      cborEqual(
        new Map<CborKey, CborValue>([
          [1, 'x'],
          [0, 'y'],
        ]),
        new Map<CborKey, CborValue>([
          [0, 'y'],
          [1, 'x'],
        ]),
      ),
    ).toBe(true);
    expect(cborEqual([1, [2, 3]], [1, [2, 4]])).toBe(false);
    expect(cborEqual(Uint8Array.of(1), '\u0001')).toBe(false);
    expect(cborEqual(undefined, undefined)).toBe(false);
  });

  it('random bytes: only MaverickError escapes, and anything accepted is canonical', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        let decoded: CborValue;
        try {
          decoded = decodeCbor(input);
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
          return;
        }
        expect(hex(encodeCbor(decoded))).toBe(hex(input));
      }),
      { numRuns: 20000 },
    );
  });
});
