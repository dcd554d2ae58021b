/**
 * The EU Information System's rules for a plot's geolocation (EUDR, Art. 2(28)
 * and the IS GeoJSON guidance): a plot above 4 ha needs a polygon, a ring is
 * closed with at least 4 distinct positions, and a polygon does not cross
 * itself: the same primitives and rule (proto/evidence/eudr.ts) the evidence
 * pack's GeoJSON is verified against, so a plot `plot add` takes never fails
 * the regulator's check. Also the polygon's geodesic area, to catch an `--area-ha`
 * that does not match the boundary drawn.
 */
import {
  distinctPositions,
  EUDR_MIN_DISTINCT_POSITIONS,
  EUDR_POINT_MAX_HA,
  type Position,
  segmentsIntersect,
} from '../../proto/evidence/eudr.js';
import type { PlotGeometry } from './plots.js';

/** EUDR: plots of more than 4 ha are described by a polygon, not a point. */
export const POINT_MAX_HA = EUDR_POINT_MAX_HA;
/** WGS84 semi-major axis (m): the sphere of the spherical-excess area below. */
const EARTH_RADIUS_M = 6_378_137;

const rad = (deg: number): number => (deg * Math.PI) / 180;

/**
 * Area of one ring on the sphere (m², always positive), by the line-integral
 * form of the spherical excess: Σ (λ₂ − λ₁)(2 + sin φ₁ + sin φ₂) · R² / 2.
 * Within a fraction of a percent of the ellipsoidal area for farm plots.
 */
export function ringAreaM2(ring: readonly Position[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [lon1, lat1] = ring[i] as Position;
    const [lon2, lat2] = ring[i + 1] as Position;
    sum += rad(lon2 - lon1) * (2 + Math.sin(rad(lat1)) + Math.sin(rad(lat2)));
  }
  return Math.abs((sum * EARTH_RADIUS_M * EARTH_RADIUS_M) / 2);
}

/** Outer ring minus holes, in hectares. */
export function polygonAreaHa(rings: readonly (readonly Position[])[]): number {
  const [outer, ...holes] = rings;
  if (!outer) return 0;
  const m2 = ringAreaM2(outer) - holes.reduce((total, h) => total + ringAreaM2(h), 0);
  return m2 / 10_000;
}

/** The first place where the polygon's edges cross or touch (other than neighbours at their shared corner). */
export function selfIntersection(rings: readonly (readonly Position[])[]): string | undefined {
  const edges: { ring: number; index: number; count: number; a: Position; b: Position }[] = [];
  rings.forEach((ring, r) => {
    for (let i = 0; i + 1 < ring.length; i++)
      edges.push({
        ring: r,
        index: i,
        count: ring.length - 1,
        a: ring[i] as Position,
        b: ring[i + 1] as Position,
      });
  });
  for (let x = 0; x < edges.length; x++) {
    for (let y = x + 1; y < edges.length; y++) {
      const e = edges[x]!;
      const f = edges[y]!;
      if (e.ring === f.ring) {
        const gap = Math.abs(e.index - f.index);
        if (gap === 1 || gap === e.count - 1) continue; // neighbours share a corner
      }
      if (segmentsIntersect(e.a, e.b, f.a, f.b)) {
        return `edge ${e.index + 1} of ring ${e.ring + 1} meets edge ${f.index + 1} of ring ${f.ring + 1}`;
      }
    }
  }
  return undefined;
}

/** Why this geometry breaks the IS rules for a plot of `areaHa`, or undefined when it does not. */
export function eudrGeometryProblem(geometry: PlotGeometry, areaHa: number): string | undefined {
  if (geometry.type === 'Point') {
    return areaHa > POINT_MAX_HA
      ? `a plot of ${areaHa} ha needs a polygon: EUDR allows a single point only up to ${POINT_MAX_HA} ha`
      : undefined;
  }
  for (const [r, ring] of geometry.coordinates.entries()) {
    // The same rule the evidence pack's GeoJSON is checked against (proto/evidence/eudr.ts).
    const distinct = distinctPositions(ring);
    if (distinct < EUDR_MIN_DISTINCT_POSITIONS)
      return `ring ${r + 1} has ${distinct} distinct position(s); the EU Information System needs at least ${EUDR_MIN_DISTINCT_POSITIONS}`;
  }
  const crossing = selfIntersection(geometry.coordinates);
  return crossing ? `the polygon crosses itself: ${crossing}` : undefined;
}

/** A warning when `areaHa` differs from the polygon's own area by more than 10 %. */
export function areaDisagreement(geometry: PlotGeometry, areaHa: number): string | undefined {
  if (geometry.type !== 'Polygon') return undefined;
  const drawn = polygonAreaHa(geometry.coordinates);
  if (Math.abs(drawn - areaHa) <= 0.1 * drawn) return undefined;
  return `the polygon encloses ${drawn.toFixed(2)} ha but --area-ha says ${areaHa} ha (more than 10 % apart); check both`;
}
