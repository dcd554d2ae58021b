/**
 * Plot references (BUNDLE.md §4): a plot's definition (area + geometry in
 * micro-degrees) is carried once; every reference carries the SHA-256 of the
 * definition's deterministic CBOR so later bundles can name it by hash.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, MaverickError } from '../errors.js';
import { type CborMap, type CborValue, encodeCbor } from './cbor-encode.js';
import type { MicroPosition, PlotDefinition, PlotGeometry, PlotReference } from './types.js';

const GEOMETRY_POINT = 1;
const GEOMETRY_POLYGON = 2;
const MAX_LON = 180_000_000;
const MAX_LAT = 90_000_000;

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `plot reference: ${message}`);
}

function checkPosition([lon, lat]: MicroPosition): void {
  if (
    !Number.isSafeInteger(lon) ||
    !Number.isSafeInteger(lat) ||
    Math.abs(lon) > MAX_LON ||
    Math.abs(lat) > MAX_LAT
  ) {
    throw malformed(`position [${lon}, ${lat}] is not [lon, lat] in micro-degrees`);
  }
}

export function definitionToCbor(def: PlotDefinition): CborValue {
  if (!Number.isSafeInteger(def.areaM2) || def.areaM2 < 0)
    throw malformed(`area ${def.areaM2} m² is not an integer`);
  const g = def.geometry;
  if (g.type === 'Point') {
    checkPosition(g.coordinates);
    return [def.areaM2, [GEOMETRY_POINT, g.coordinates[0], g.coordinates[1]]];
  }
  if (g.coordinates.length === 0) throw malformed('a polygon needs an exterior ring');
  const rings = g.coordinates.map((ring) => {
    if (ring.length < 4) throw malformed('a polygon ring needs at least 4 positions (closed)');
    ring.forEach(checkPosition);
    const [first, last] = [ring[0] as MicroPosition, ring[ring.length - 1] as MicroPosition];
    if (first[0] !== last[0] || first[1] !== last[1]) throw malformed('a polygon ring must be closed');
    return ring.flat();
  });
  return [def.areaM2, [GEOMETRY_POLYGON, rings]];
}

function isInt(v: CborValue | undefined): v is number {
  return typeof v === 'number';
}

export function definitionFromCbor(value: CborValue): PlotDefinition {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !isInt(value[0]) ||
    value[0] < 0 ||
    !Array.isArray(value[1])
  ) {
    throw malformed('definition must be [area, geometry]');
  }
  const [areaM2, geometry] = value as [number, CborValue[]];
  let parsed: PlotGeometry;
  if (geometry[0] === GEOMETRY_POINT && geometry.length === 3 && isInt(geometry[1]) && isInt(geometry[2])) {
    parsed = { type: 'Point', coordinates: [geometry[1], geometry[2]] };
  } else if (geometry[0] === GEOMETRY_POLYGON && geometry.length === 2 && Array.isArray(geometry[1])) {
    const rings = geometry[1].map((ring) => {
      if (!Array.isArray(ring) || ring.length % 2 !== 0 || !ring.every(isInt))
        throw malformed('bad polygon ring');
      const positions: MicroPosition[] = [];
      for (let i = 0; i < ring.length; i += 2) positions.push([ring[i] as number, ring[i + 1] as number]);
      return positions;
    });
    parsed = { type: 'Polygon', coordinates: rings };
  } else {
    throw malformed('geometry must be [1, lon, lat] or [2, [* ring]]');
  }
  const def = { areaM2, geometry: parsed };
  definitionToCbor(def); // the same checks both ways: ranges, closed rings
  return def;
}

/** SHA-256 of the definition's deterministic CBOR: the name later bundles use for it. */
export function plotDefinitionHash(def: PlotDefinition): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(encodeCbor(definitionToCbor(def)))
      .digest(),
  );
}

export function plotToCbor(ref: PlotReference): CborMap {
  const map: CborMap = new Map<number, CborValue>([
    [0, ref.plotId],
    [1, ref.geometryHash],
  ]);
  if (ref.geometryHash.length !== 32) throw malformed('geometry hash must be 32 bytes');
  if (ref.definition) {
    const expected = plotDefinitionHash(ref.definition);
    if (Buffer.compare(expected, ref.geometryHash) !== 0)
      throw malformed(`hash of plot ${ref.plotId} does not match its definition`);
    map.set(2, definitionToCbor(ref.definition));
  }
  return map;
}

export function plotFromCbor(value: CborValue): PlotReference {
  if (!(value instanceof Map)) throw malformed('must be a map');
  const plotId = value.get(0);
  const geometryHash = value.get(1);
  if (typeof plotId !== 'string' || !(geometryHash instanceof Uint8Array) || geometryHash.length !== 32) {
    throw malformed('needs 0: plot id and 1: 32-byte geometry hash');
  }
  for (const key of value.keys())
    if (key !== 0 && key !== 1 && key !== 2) throw malformed(`unknown key ${key}`);
  const rawDefinition = value.get(2);
  if (rawDefinition === undefined) return { plotId, geometryHash };
  const definition = definitionFromCbor(rawDefinition);
  if (Buffer.compare(plotDefinitionHash(definition), geometryHash) !== 0) {
    throw malformed(`hash of plot ${plotId} does not match its definition`);
  }
  return { plotId, geometryHash, definition };
}

function toMicro(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw malformed(`coordinate ${String(value)} is not a number`);
  return Math.round(value * 1e6);
}

function microPosition(position: unknown): MicroPosition {
  if (!Array.isArray(position) || position.length < 2) throw malformed('a GeoJSON position is [lon, lat]');
  return [toMicro(position[0]), toMicro(position[1])];
}

/**
 * Converts a registered plot (GeoJSON Point or Polygon in WGS84 degrees, RFC 7946)
 * into the sealed form: micro-degrees, rounded (1e-6° ≈ 0.11 m, EUDR asks for 6 decimals).
 */
export function plotDefinitionFromGeoJson(areaM2: number, geometry: unknown): PlotDefinition {
  const g = geometry as { type?: unknown; coordinates?: unknown } | null;
  let def: PlotDefinition;
  if (g?.type === 'Point') {
    def = { areaM2, geometry: { type: 'Point', coordinates: microPosition(g.coordinates) } };
  } else if (g?.type === 'Polygon' && Array.isArray(g.coordinates)) {
    const rings = g.coordinates.map((ring: unknown) => {
      if (!Array.isArray(ring)) throw malformed('a polygon ring is an array of positions');
      return ring.map(microPosition);
    });
    def = { areaM2, geometry: { type: 'Polygon', coordinates: rings } };
  } else {
    throw malformed('plot geometry must be a GeoJSON Point or Polygon');
  }
  definitionToCbor(def); // range, closure and area checks
  return def;
}
