/**
 * The EU Information System's rules for a plot's geolocation (EUDR, Art. 2(28)
 * and the IS GeoJSON guidance): a plot above 4 ha needs a polygon, a ring is
 * closed with at least 4 positions (3 distinct corners), and a polygon does
 * not cross itself. Also the polygon's geodesic area, to catch an `--area-ha`
 * that does not match the boundary drawn.
 */
import type { PlotGeometry } from './plots.js';

/** EUDR: plots of more than 4 ha are described by a polygon, not a point. */
export const POINT_MAX_HA = 4;
/** WGS84 semi-major axis (m): the sphere of the spherical-excess area below. */
const EARTH_RADIUS_M = 6_378_137;

type Position = [number, number];

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

function distinctPositions(ring: readonly Position[]): number {
  return new Set(ring.map(([lon, lat]) => `${lon},${lat}`)).size;
}

/** Orientation of c relative to a→b: > 0 left, < 0 right, 0 collinear. */
function cross(a: Position, b: Position, c: Position): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

function onSegment(a: Position, b: Position, p: Position): boolean {
  return (
    Math.min(a[0], b[0]) <= p[0] &&
    p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] &&
    p[1] <= Math.max(a[1], b[1])
  );
}

/** Whether segments p1p2 and q1q2 share any point (touching counts). */
export function segmentsIntersect(p1: Position, p2: Position, q1: Position, q2: Position): boolean {
  const d1 = cross(q1, q2, p1);
  const d2 = cross(q1, q2, p2);
  const d3 = cross(p1, p2, q1);
  const d4 = cross(p1, p2, q2);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return (
    (d1 === 0 && onSegment(q1, q2, p1)) ||
    (d2 === 0 && onSegment(q1, q2, p2)) ||
    (d3 === 0 && onSegment(p1, p2, q1)) ||
    (d4 === 0 && onSegment(p1, p2, q2))
  );
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
    const corners = distinctPositions(ring);
    if (corners < 3)
      return `ring ${r + 1} has ${corners} distinct position(s); a ring needs at least 3 corners`;
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
