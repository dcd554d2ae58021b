import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingsFromObject, toFixedPoint } from './fixed-point.js';

describe('fixed-point readings', () => {
  it('uses the fewest decimals that represent the value exactly', () => {
    expect(toFixedPoint(21)).toEqual({ value: 21, scale: -0 });
    expect(toFixedPoint(21.35)).toEqual({ value: 2135, scale: -2 });
    expect(toFixedPoint(0.1 + 0.2)).toEqual({ value: 3, scale: -1 });
    expect(toFixedPoint(-3.3)).toEqual({ value: -33, scale: -1 });
    expect(toFixedPoint(Number.NaN)).toBeUndefined();
    expect(toFixedPoint(1e300)).toBeUndefined();
  });

  it('round-trips any value with up to 6 decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 6 }), (units, decimals) => {
        const x = units / 10 ** decimals;
        const fp = toFixedPoint(x)!;
        // Exact in integers: the reading rescaled to `decimals` places is the original count of units.
        expect(-fp.scale).toBeLessThanOrEqual(decimals);
        expect(fp.value * 10 ** (decimals + fp.scale)).toBe(units);
      }),
    );
  });

  it('flattens numeric and boolean leaves of a Cayenne-shaped object in a stable order', () => {
    const readings = readingsFromObject({
      temperatureSensor: { '3': 27.2, '1': 21 },
      humiditySensor: { '2': 55.5 },
      label: 'ignored',
      digitalInput: { '5': true },
    });
    expect(readings).toEqual([
      { field: 'digitalInput.5', value: 1, scale: 0 },
      { field: 'humiditySensor.2', value: 555, scale: -1 },
      { field: 'temperatureSensor.1', value: 21, scale: -0 },
      { field: 'temperatureSensor.3', value: 272, scale: -1 },
    ]);
  });

  it('orders keys by string order whatever order the object holds them in, and caps paths', () => {
    const readings = readingsFromObject({ zeta: 1, alpha: { '10': 2, '9': 3 }, ['x'.repeat(129)]: 4 });
    expect(readings.map((r) => r.field)).toEqual(['alpha.10', 'alpha.9', 'zeta']);
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${(i * 7) % 20}`, i]));
    const fields = readingsFromObject(many).map((r) => r.field);
    expect(fields).toEqual(Object.keys(many).sort());
  });

  it('equals the plain definition (sorted walk, every leaf through toFixedPoint) on any object', () => {
    const reference = (object: Record<string, unknown>) => {
      const out: { field: string; value: number; scale: number }[] = [];
      const visit = (value: unknown, path: string, depth: number) => {
        if (out.length >= 64) return;
        if (typeof value === 'number') {
          const fp = toFixedPoint(value);
          if (fp) out.push({ field: path, ...fp });
        } else if (typeof value === 'boolean') out.push({ field: path, value: value ? 1 : 0, scale: 0 });
        else if (value !== null && typeof value === 'object' && depth < 4 && !Array.isArray(value))
          for (const key of Object.keys(value).sort())
            visit((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1);
      };
      visit(object, '', 0);
      return out.filter((r) => r.field.length > 0 && r.field.length <= 128);
    };
    const leaf = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string(), fc.constant(null));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('object'), fc.array(leaf, { maxLength: 2 })),
      object: fc.dictionary(fc.string({ maxLength: 6 }), tie('node'), { maxKeys: 6 }),
    }));
    fc.assert(
      fc.property(tree.object, (object) => {
        // JSON text compares -0 and 0 alike, as they are stored.
        expect(JSON.stringify(readingsFromObject(object))).toBe(JSON.stringify(reference(object)));
      }),
      { numRuns: 300 },
    );
  });
});
