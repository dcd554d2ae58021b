/**
 * The farm's plots: the land the evidence is about (EUDR asks for the
 * geolocation of every plot: a point for plots up to 4 ha, a polygon above).
 * Geometry is GeoJSON in WGS84, [longitude, latitude].
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { FarmDatabase } from './farm-db.js';
import { eudrGeometryProblem } from './plot-geometry.js';
import type { PlotDoc } from './schemas.js';

export type PlotGeometry =
  | { type: 'Point'; coordinates: [number, number] }
  | { type: 'Polygon'; coordinates: [number, number][][] };

export interface Plot {
  id: string;
  name: string;
  areaHa: number;
  geometry: PlotGeometry;
}

function invalid(field: string, message: string): MaverickError {
  return new MaverickError(ErrorCode.ConfigInvalid, `plot ${field}: ${message}`, { context: { field } });
}

function checkPosition(p: unknown, field: string): [number, number] {
  if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
    throw invalid(field, 'a position is [longitude, latitude] in degrees');
  }
  const [lon, lat] = p as [number, number];
  if (!(lon >= -180 && lon <= 180)) throw invalid(field, `longitude ${lon} is outside -180..180`);
  if (!(lat >= -90 && lat <= 90)) throw invalid(field, `latitude ${lat} is outside -90..90`);
  return [lon, lat];
}

export function validateGeometry(g: unknown): PlotGeometry {
  const geom = g as { type?: unknown; coordinates?: unknown };
  if (geom?.type === 'Point')
    return { type: 'Point', coordinates: checkPosition(geom.coordinates, 'geometry.coordinates') };
  if (geom?.type === 'Polygon') {
    const rings = geom.coordinates;
    if (!Array.isArray(rings) || rings.length === 0)
      throw invalid('geometry.coordinates', 'a Polygon needs at least one ring');
    const out = rings.map((ring, r) => {
      if (!Array.isArray(ring) || ring.length < 4) {
        throw invalid(
          `geometry.coordinates[${r}]`,
          'a ring needs at least 4 positions (closed: first = last)',
        );
      }
      const pts = ring.map((p, i) => checkPosition(p, `geometry.coordinates[${r}][${i}]`));
      const [a, b] = [pts[0]!, pts[pts.length - 1]!];
      if (a[0] !== b[0] || a[1] !== b[1])
        throw invalid(
          `geometry.coordinates[${r}]`,
          'the ring is not closed (first position must equal the last)',
        );
      return pts;
    });
    return { type: 'Polygon', coordinates: out };
  }
  throw invalid('geometry.type', 'must be "Point" or "Polygon" (GeoJSON, WGS84)');
}

export function validatePlot(input: {
  id: unknown;
  name: unknown;
  areaHa: unknown;
  geometry: unknown;
}): Plot {
  if (typeof input.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(input.id)) {
    throw invalid('id', '1..64 letters, digits, ".", "_" or "-"');
  }
  if (typeof input.name !== 'string' || input.name.trim() === '') throw invalid('name', 'must not be empty');
  const area = Number(input.areaHa);
  if (!Number.isFinite(area) || area <= 0 || area > 1_000_000)
    throw invalid('areaHa', 'a positive number of hectares');
  const geometry = validateGeometry(input.geometry);
  const problem = eudrGeometryProblem(geometry, area);
  if (problem) throw invalid('geometry', problem);
  return { id: input.id, name: input.name.trim(), areaHa: area, geometry };
}

export async function putPlot(db: FarmDatabase, plot: Plot): Promise<void> {
  const doc: PlotDoc = {
    id: plot.id,
    name: plot.name,
    areaHa4: Math.round(plot.areaHa * 10_000),
    geometry: plot.geometry as unknown as Record<string, unknown>,
    createdAt: Date.now(),
  };
  await db.plots.upsert(doc);
}

export async function listPlots(db: FarmDatabase): Promise<Plot[]> {
  const docs = await db.plots.find({ sort: [{ id: 'asc' }] }).exec();
  return docs.map((d) => ({
    id: d.id,
    name: d.name,
    areaHa: d.areaHa4 / 10_000,
    geometry: d.geometry as unknown as PlotGeometry,
  }));
}

export async function removePlot(db: FarmDatabase, id: string): Promise<boolean> {
  const res = await db.plots.bulkRemove([id]);
  return res.success.length > 0;
}
