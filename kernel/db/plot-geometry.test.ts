import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../../proto/errors.js';
import { areaDisagreement, eudrGeometryProblem, polygonAreaHa, ringAreaM2 } from './plot-geometry.js';
import { validatePlot } from './plots.js';

const R = 6_378_137;
const rad = (d: number) => (d * Math.PI) / 180;
/** Closed form for a lat/lon rectangle on the sphere: R² Δλ (sin φ₂ − sin φ₁) — the independent oracle. */
const cellM2 = (lon1: number, lat1: number, lon2: number, lat2: number) =>
  R * R * Math.abs(rad(lon2 - lon1)) * Math.abs(Math.sin(rad(lat2)) - Math.sin(rad(lat1)));
const rect = (lon1: number, lat1: number, lon2: number, lat2: number): [number, number][] => [
  [lon1, lat1],
  [lon2, lat1],
  [lon2, lat2],
  [lon1, lat2],
  [lon1, lat1],
];

describe('plot geometry (EUDR)', () => {
  it('computes the geodesic area of lat/lon rectangles as the closed form does', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -170, max: 170, noNaN: true }),
        fc.double({ min: -80, max: 80, noNaN: true }),
        fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
        fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
        (lon, lat, dLon, dLat) => {
          const expected = cellM2(lon, lat, lon + dLon, lat + dLat);
          expect(ringAreaM2(rect(lon, lat, lon + dLon, lat + dLat))).toBeCloseTo(expected, -1);
        },
      ),
    );
    // A hole is subtracted.
    const outer = rect(11, 48, 11.01, 48.01);
    const hole = rect(11.002, 48.002, 11.004, 48.004);
    expect(polygonAreaHa([outer, hole])).toBeCloseTo(
      (cellM2(11, 48, 11.01, 48.01) - cellM2(11.002, 48.002, 11.004, 48.004)) / 10_000,
      6,
    );
  });

  it('refuses a point above 4 ha, a ring with fewer than 4 distinct positions and a self-crossing polygon', () => {
    const refuse = (geometry: unknown, areaHa: number, pattern: RegExp) => {
      let err: unknown;
      try {
        validatePlot({ id: 'p', name: 'P', areaHa, geometry });
      } catch (e) {
        err = e;
      }
      expect(isMaverickError(err), String(err)).toBe(true);
      expect((err as Error).message).toMatch(pattern);
    };
    refuse({ type: 'Point', coordinates: [11.5, 48.1] }, 10, /10 ha needs a polygon/);
    expect(
      validatePlot({ id: 'p', name: 'P', areaHa: 4, geometry: { type: 'Point', coordinates: [11.5, 48.1] } }),
    ).toBeTruthy();
    refuse(
      {
        type: 'Polygon',
        coordinates: [
          [
            [11, 48],
            [11.01, 48],
            [11, 48],
            [11, 48],
          ],
        ],
      },
      1,
      /2 distinct/,
    );
    // A bow tie: edges 1 and 3 cross.
    const bowTie = [
      [11, 48],
      [11.01, 48.01],
      [11.01, 48],
      [11, 48.01],
      [11, 48],
    ];
    refuse({ type: 'Polygon', coordinates: [bowTie] }, 1, /crosses itself: edge 1 of ring 1 meets edge 3/);
    // A hole touching the outer ring crosses it too.
    refuse(
      { type: 'Polygon', coordinates: [rect(11, 48, 11.01, 48.01), rect(11.005, 48.005, 11.02, 48.006)] },
      1,
      /crosses itself/,
    );
    const triangle = {
      type: 'Polygon' as const,
      coordinates: [
        [
          [11, 48],
          [11.01, 48],
          [11, 48.01],
          [11, 48],
        ] as [number, number][],
      ],
    };
    // The EU Information System's rule as the pack verifier applies it: 4 distinct positions.
    expect(eudrGeometryProblem(triangle, 1)).toMatch(
      /3 distinct position\(s\); the EU Information System needs at least 4/,
    );
    const quad = { ...triangle, coordinates: [rect(11, 48, 11.01, 48.01) as [number, number][]] };
    expect(eudrGeometryProblem(quad, 1)).toBeUndefined();
  });

  it('warns when --area-ha differs from the polygon by more than 10 %', () => {
    const square = { type: 'Polygon' as const, coordinates: [rect(11, 48, 11.0134, 48.009)] };
    const drawn = polygonAreaHa(square.coordinates);
    expect(drawn).toBeGreaterThan(90);
    expect(areaDisagreement(square, drawn * 1.05)).toBeUndefined();
    expect(areaDisagreement(square, drawn * 0.85)).toMatch(/more than 10 % apart/);
    expect(areaDisagreement({ type: 'Point', coordinates: [11, 48] }, 3)).toBeUndefined();
  });
});
