import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eudrProblems, ringProblem } from './eudr.js';

const collection = (geometry: unknown, area = 6.2) =>
  JSON.stringify({
    type: 'FeatureCollection',
    features: [{ type: 'Feature', geometry, properties: { Area: area } }],
  });
const square: [number, number][] = [
  [11.5, 48.1],
  [11.51, 48.1],
  [11.51, 48.11],
  [11.5, 48.11],
  [11.5, 48.1],
];

describe('EUDR geolocation rules', () => {
  it('accepts a closed simple polygon and a point of at most 4 ha', () => {
    expect(eudrProblems(collection({ type: 'Polygon', coordinates: [square] }))).toEqual([]);
    expect(eudrProblems(collection({ type: 'Point', coordinates: [11.5, 48.1] }, 3.2))).toEqual([]);
  });

  it('names each broken rule', () => {
    const bowtie = [square[0], square[2], square[1], square[3], square[0]];
    expect(eudrProblems(collection({ type: 'Polygon', coordinates: [bowtie] }))).toEqual([
      'the ring intersects itself (edges 0 and 2)',
    ]);
    expect(eudrProblems(collection({ type: 'Point', coordinates: [11.5, 48.1] }, 12.5))).toEqual([
      'a plot of 12.5 ha must be a polygon, not a point',
    ]);
    expect(eudrProblems(collection({ type: 'Polygon', coordinates: [square.slice(0, 4)] }))).toEqual([
      'a polygon ring must be closed (first position repeated last)',
    ]);
    const triangle = [square[0], square[1], square[2], square[0]];
    expect(eudrProblems(collection({ type: 'Polygon', coordinates: [triangle] }))[0]).toMatch(
      /at least 4 distinct/,
    );
    expect(eudrProblems(collection({ type: 'Point', coordinates: [11.1234567, 48.1] }, 1))[0]).toMatch(
      /more than 6 decimals/,
    );
    expect(eudrProblems(collection({ type: 'Point', coordinates: [48.1, 181] }, 1))[0]).toMatch(
      /outside WGS 84/,
    );
    expect(eudrProblems('{"type":"FeatureCollection","features":[null]}')).toEqual([
      'a geometry must be a Point or a Polygon',
    ]);
    expect(eudrProblems('not json')).toEqual(['not JSON']);
  });

  it('a convex polygon never intersects itself; moving one vertex across the far side makes it (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 40 }),
        fc.double({ min: 0, max: 6.28, noNaN: true }),
        (n, phase) => {
          const ring: [number, number][] = Array.from({ length: n }, (_, i) => {
            const a = phase + (2 * Math.PI * i) / n;
            return [Math.round(1e6 * Math.cos(a)) / 1e6, Math.round(1e6 * Math.sin(a)) / 1e6];
          });
          ring.push(ring[0] as [number, number]);
          expect(ringProblem(ring)).toBeUndefined();
          // Swapping two non-adjacent vertices of a convex ring crosses two edges.
          const crossed = ring.slice();
          [crossed[1], crossed[2]] = [crossed[2] as [number, number], crossed[1] as [number, number]];
          expect(ringProblem(crossed)).toMatch(/intersects itself/);
        },
      ),
      { numRuns: 200 },
    );
  });
});
