import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asPlainJson, plainJsonCopy } from './plain-json.js';

/** The oracle: what the JSON text round trip gives. */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');

/** JSON-like trees with what JSON changes: undefined, -0, NaN and infinities, Dates. */
const leaf = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.double(),
  fc.constant(-0),
  fc.integer(),
  fc.date({ noInvalidDate: true }),
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 5 }),
}));

describe('plainJsonCopy', () => {
  it('equals the JSON round trip for anything JSON-like, undefined and odd numbers included', () => {
    fc.assert(
      fc.property(tree.object, (value) => {
        expect(plainJsonCopy(value)).toStrictEqual(roundTrip(value));
      }),
      { numRuns: 500 },
    );
  });

  it('copies: changing the original afterwards leaves the copy alone', () => {
    const original = { rx: [{ rssi: -60, extra: undefined }], nested: { a: 1 } };
    const copy = plainJsonCopy(original) as typeof original;
    original.rx[0]!.rssi = 0;
    original.nested.a = 2;
    expect(copy).toStrictEqual({ rx: [{ rssi: -60 }], nested: { a: 1 } });
  });

  it('keeps a key named __proto__ as an own property, as JSON.parse does', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copy = plainJsonCopy(value) as Record<string, unknown>;
    expect(copy).toStrictEqual(roundTrip(value));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
  });

  it('refuses what JSON refuses: a BigInt, a cycle', () => {
    expect(() => plainJsonCopy({ n: 1n })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => plainJsonCopy(cyclic)).toThrow(TypeError);
  });
});

describe('asPlainJson', () => {
  it('equals the JSON round trip, and hands the value itself back only when it already is one', () => {
    fc.assert(
      fc.property(tree.object, (value) => {
        const plain = asPlainJson(value);
        expect(plain).toStrictEqual(roundTrip(value));
        if (plain === value) expect(JSON.stringify(value)).toBe(JSON.stringify(roundTrip(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps plain metadata as it is and copies what JSON would change', () => {
    const plain = { rx: [{ rssi: -60, dataRate: { sf: 7 } }], ok: true, name: 'a' };
    expect(asPlainJson(plain)).toBe(plain);
    for (const odd of [
      { rx: [{ rssi: -60, time: undefined }] },
      { n: Number.NaN },
      { n: -0 },
      { at: new Date(0) },
      { list: [1, undefined] },
      { nested: Object.create(null) as object },
    ]) {
      const result = asPlainJson(odd);
      expect(result).not.toBe(odd);
      expect(result).toStrictEqual(roundTrip(odd));
    }
  });

  it('refuses what JSON refuses', () => {
    expect(() => asPlainJson({ n: 1n })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => asPlainJson(cyclic)).toThrow(TypeError);
  });
});
