/**
 * The EU Information System's geolocation rules for EUDR due-diligence statements, checked on
 * GeoJSON text: WGS 84 [longitude, latitude], at most 6 decimals, a Point only for plots of at
 * most 4 ha (a Polygon above), a polygon ring closed with at least 4 distinct positions and no
 * self-intersection. Browser-safe: the evidence verifier page runs it too.
 */

export const EUDR_POINT_MAX_HA = 4;

/** At least 4 distinct positions in a polygon ring (the closing repeat of the first not counted). */
export const EUDR_MIN_DISTINCT_POSITIONS = 4;

export type Position = [number, number];

function positionProblem(p: unknown): string | undefined {
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === 'number' && Number.isFinite(x)))
    return 'a position is [longitude, latitude] (no altitude)';
  const [lon, lat] = p as Position;
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) return `position ${lon},${lat} is outside WGS 84`;
  return undefined;
}

/** Orientation of the turn a → b → c: >0 left, <0 right, 0 collinear. */
function turn(a: Position, b: Position, c: Position): number {
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

/** Whether segments ab and cd share any point (touching counts). */
export function segmentsIntersect(a: Position, b: Position, c: Position, d: Position): boolean {
  const [d1, d2, d3, d4] = [turn(c, d, a), turn(c, d, b), turn(a, b, c), turn(a, b, d)];
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return (
    (d1 === 0 && onSegment(c, d, a)) ||
    (d2 === 0 && onSegment(c, d, b)) ||
    (d3 === 0 && onSegment(a, b, c)) ||
    (d4 === 0 && onSegment(a, b, d))
  );
}

export function distinctPositions(ring: readonly Position[]): number {
  return new Set(ring.map((p) => `${p[0]},${p[1]}`)).size;
}

/** Why a closed ring breaks the rules, or undefined. */
export function ringProblem(ring: Position[]): string | undefined {
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (!first || !last || first[0] !== last[0] || first[1] !== last[1])
    return 'a polygon ring must be closed (first position repeated last)';
  const distinct = distinctPositions(ring);
  if (distinct < EUDR_MIN_DISTINCT_POSITIONS)
    return `a polygon needs at least ${EUDR_MIN_DISTINCT_POSITIONS} distinct positions, this ring has ${distinct}`;
  const n = ring.length - 1;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a vertex; the first and the last edge share the closing one.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (
        segmentsIntersect(
          ring[i] as Position,
          ring[i + 1] as Position,
          ring[j] as Position,
          ring[j + 1] as Position,
        )
      )
        return `the ring intersects itself (edges ${i} and ${j})`;
    }
  }
  return undefined;
}

/** Every rule the GeoJSON text breaks (empty when it meets them all). */
export function eudrProblems(text: string): string[] {
  const problems: string[] = [];
  for (const m of text.matchAll(/-?\d+\.(\d+)/g)) {
    if ((m[1] as string).length > 6) {
      problems.push(`coordinate ${m[0]} has more than 6 decimals`);
      break;
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [...problems, 'not JSON'];
  }
  const features = (doc as { type?: unknown; features?: unknown }).features;
  if (
    (doc as { type?: unknown }).type !== 'FeatureCollection' ||
    !Array.isArray(features) ||
    features.length === 0
  )
    return [...problems, 'must be a FeatureCollection with at least one feature'];
  for (const f of features as ({
    geometry?: { type?: unknown; coordinates?: unknown };
    properties?: { Area?: unknown };
  } | null)[]) {
    const g = f?.geometry;
    const area = f?.properties?.Area;
    if (g?.type === 'Point') {
      const p = positionProblem(g.coordinates);
      if (p) problems.push(p);
      if (typeof area === 'number' && area > EUDR_POINT_MAX_HA)
        problems.push(`a plot of ${area} ha must be a polygon, not a point`);
    } else if (g?.type === 'Polygon' && Array.isArray(g.coordinates) && g.coordinates.length > 0) {
      for (const ring of g.coordinates as unknown[]) {
        const positions = Array.isArray(ring) ? ring : [];
        const p = positions.map(positionProblem).find((x) => x) ?? ringProblem(positions as Position[]);
        if (p) problems.push(p);
      }
    } else {
      problems.push('a geometry must be a Point or a Polygon');
    }
  }
  return problems;
}
