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
});
