import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../errors.js';
import { decodeCbor } from './cbor-decode.js';
import { encodeCbor } from './cbor-encode.js';
import {
  definitionFromCbor,
  definitionToCbor,
  plotDefinitionFromGeoJson,
  plotDefinitionHash,
} from './plots.js';

const square = [
  [10.1234564, 45.0],
  [10.125, 45.0],
  [10.125, 45.002],
  [10.1234564, 45.0],
];

describe('plot definitions', () => {
  it('converts GeoJSON degrees to micro-degrees, rounding, and round-trips through CBOR', () => {
    const def = plotDefinitionFromGeoJson(52_000, { type: 'Polygon', coordinates: [square] });
    expect(def.geometry.coordinates).toEqual([
      [
        [10_123_456, 45_000_000],
        [10_125_000, 45_000_000],
        [10_125_000, 45_002_000],
        [10_123_456, 45_000_000],
      ],
    ]);
    expect(definitionFromCbor(decodeCbor(encodeCbor(definitionToCbor(def))))).toEqual(def);
    expect(plotDefinitionHash(def)).toHaveLength(32);
  });

  it('the hash changes when the geometry or area changes', () => {
    const a = plotDefinitionFromGeoJson(52_000, { type: 'Point', coordinates: [10, 45] });
    const b = plotDefinitionFromGeoJson(52_001, { type: 'Point', coordinates: [10, 45] });
    const c = plotDefinitionFromGeoJson(52_000, { type: 'Point', coordinates: [10, 45.000001] });
    const hashes = new Set([a, b, c].map((d) => Buffer.from(plotDefinitionHash(d)).toString('hex')));
    expect(hashes.size).toBe(3);
  });

  it.each([
    ['an open ring', { type: 'Polygon', coordinates: [square.slice(0, 3).concat([[1, 1]])] }],
    ['latitude out of range', { type: 'Point', coordinates: [10, 91] }],
    [
      'a LineString',
      {
        type: 'LineString',
        coordinates: [
          [0, 0],
          [1, 1],
        ],
      },
    ],
    ['no geometry', null],
    ['NaN', { type: 'Point', coordinates: [Number.NaN, 1] }],
  ])('refuses %s with BundleMalformed', (_name, geometry) => {
    let err: unknown;
    try {
      plotDefinitionFromGeoJson(1, geometry);
    } catch (e) {
      err = e;
    }
    expect(isMaverickError(err, ErrorCode.BundleMalformed)).toBe(true);
  });

  it('definitionFromCbor survives arbitrary CBOR values (only MaverickError)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          definitionFromCbor(decodeCbor(bytes));
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
