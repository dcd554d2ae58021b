/**
 * Cayenne LPP: a round trip for every data type on its value grid, and the
 * decoder fuzzed with 100k+ arbitrary payloads (no throw, no hang).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCayenneLpp, encodeCayenneLpp } from '../kernel/codec/cayenne-lpp.js';
import { LPP_TYPES, type LppField, type LppType, lppSize, rawRange } from '../kernel/codec/cayenne-types.js';

/** Values the wire can carry exactly: a raw integer in range divided by the field's divisor. */
function fieldValue(field: LppField): fc.Arbitrary<number> {
  const [lo, hi] = rawRange(field);
  return fc.integer({ min: lo, max: hi }).map((raw) => (field.divisor === 1 ? raw : raw / field.divisor));
}

function typeValue(type: LppType): fc.Arbitrary<unknown> {
  if (type.fields.length === 1 && type.fields[0]!.name === undefined) return fieldValue(type.fields[0]!);
  return fc.record(Object.fromEntries(type.fields.map((f) => [f.name!, fieldValue(f)])));
}

describe('Cayenne LPP round trips', () => {
  for (const type of LPP_TYPES) {
    it(`${type.key} (type ${type.id}, ${lppSize(type)} bytes) survives encode → decode`, () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.integer({ min: 0, max: 255 }).map(String), typeValue(type), {
            minKeys: 1,
            maxKeys: 4,
          }),
          (channels) => {
            const bytes = encodeCayenneLpp({ [type.key]: channels });
            expect(bytes.length).toBe(Object.keys(channels).length * (2 + lppSize(type)));
            const result = decodeCayenneLpp(bytes);
            expect(result.errors).toEqual([]);
            expect(result.data).toEqual({ [type.key]: channels });
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('a payload mixing every type decodes back to the same object', () => {
    const mixed = fc.record(
      Object.fromEntries(
        LPP_TYPES.map((t) => [
          t.key,
          fc.dictionary(fc.integer({ min: 0, max: 255 }).map(String), typeValue(t), { maxKeys: 2 }),
        ]),
      ),
    );
    fc.assert(
      fc.property(mixed, (object) => {
        const nonEmpty = Object.fromEntries(
          Object.entries(object).filter(([, v]) => Object.keys(v).length > 0),
        );
        expect(decodeCayenneLpp(encodeCayenneLpp(nonEmpty)).data).toEqual(nonEmpty);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Cayenne LPP decoder fuzz', () => {
  it('100k arbitrary payloads: a result with data xor errors, never a throw', () => {
    const known = LPP_TYPES.map((t) => t.id);
    // Half pure noise, half "almost valid" frames built from known type ids so the fuzzer goes deep.
    const almostValid = fc
      .array(
        fc.tuple(
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom(...known),
          fc.uint8Array({ maxLength: 10 }),
        ),
        { maxLength: 8 },
      )
      .map((items) => new Uint8Array(items.flatMap(([ch, id, body]) => [ch, id, ...body])));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 242 }), almostValid), (bytes) => {
        // A boolean property rather than expect(): 100k expect() calls dominate the run time.
        const result = decodeCayenneLpp(bytes);
        return Array.isArray(result.errors) && (result.data === undefined) === result.errors.length > 0;
      }),
      { numRuns: 100_000 },
    );
  });
});
