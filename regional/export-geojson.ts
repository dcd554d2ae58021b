/**
 * EUDR export: per plot and period, a GeoJSON FeatureCollection (RFC 7946:
 * WGS84, [lon, lat]) in the form the EU Deforestation Regulation information
 * system takes — a Point for plots of at most 4 ha, a Polygon above
 * (Regulation (EU) 2023/1115 Art. 2(28)) — with Maverick's evidence summary and
 * the digests of the bundles it rests on, plus a verification report that
 * re-verifies every one of those bundles from its stored signed bytes.
 */
import { verifyBundle } from '../proto/bundle/bundle.js';
import type { MicroPosition, PlotDefinition, TimeSource } from '../proto/bundle/types.js';
import { ErrorCode, isMaverickError, MaverickError } from '../proto/errors.js';
import type { GatewayRegistry } from './registry.js';
import type { RegionalAlert, RegionalStore } from './store.js';

/** EUDR threshold: plots above 4 ha need a polygon. */
export const EUDR_POINT_MAX_M2 = 40_000;

export interface PlotExportRequest {
  plotId: string;
  /** Unix ms, inclusive. */
  from: number;
  to: number;
}

export interface BundleCheck {
  gatewayId: string;
  seq: number;
  digest: string;
  valid: boolean;
  reason?: string;
}

export interface VerificationReport {
  plotId: string;
  period: { from: string; to: string };
  generatedAt: string;
  /** Bundles used as evidence, each re-verified from its stored bytes. */
  bundles: BundleCheck[];
  /** Bundles carrying evidence for the plot that a chain conflict holds back (reason ChainDisputed); their uplinks are left out. */
  heldBack: BundleCheck[];
  /** True only when every used bundle verifies and none was held back. */
  allBundlesValid: boolean;
  /** Per gateway: the covered sequence range and any sequence numbers missing inside it. */
  chains: { gatewayId: string; firstSeq: number; lastSeq: number; missing: [number, number][] }[];
  alerts: RegionalAlert[];
  uplinks: number;
  timeSources: Record<TimeSource, number>;
  geometry: { type: 'Point' | 'Polygon'; areaHa: number; eudrCompliant: boolean; issue?: string };
}

export interface PlotExport {
  geojson: GeoJsonFeatureCollection;
  report: VerificationReport;
}

export interface GeoJsonFeatureCollection {
  type: 'FeatureCollection';
  features: {
    type: 'Feature';
    geometry: { type: 'Point'; coordinates: number[] } | { type: 'Polygon'; coordinates: number[][][] };
    properties: Record<string, unknown>;
  }[];
}

const degrees = (micro: number): number => micro / 1e6;
const position = ([lon, lat]: MicroPosition): number[] => [degrees(lon), degrees(lat)];

/** Area-weighted centroid of the exterior ring (planar approximation, fine at plot scale). */
function centroid(ring: MicroPosition[]): MicroPosition {
  let twiceArea = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < ring.length - 1; i++) {
    const [x0, y0] = ring[i] as MicroPosition;
    const [x1, y1] = ring[i + 1] as MicroPosition;
    const cross = x0 * y1 - x1 * y0;
    twiceArea += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  if (twiceArea === 0) return ring[0] as MicroPosition;
  return [Math.round(cx / (3 * twiceArea)), Math.round(cy / (3 * twiceArea))];
}

function eudrGeometry(def: PlotDefinition): {
  geometry: GeoJsonFeatureCollection['features'][number]['geometry'];
  report: VerificationReport['geometry'];
} {
  const areaHa = def.areaM2 / 10_000;
  const g = def.geometry;
  if (def.areaM2 <= EUDR_POINT_MAX_M2) {
    const point = g.type === 'Point' ? g.coordinates : centroid(g.coordinates[0] as MicroPosition[]);
    return {
      geometry: { type: 'Point', coordinates: position(point) },
      report: { type: 'Point', areaHa, eudrCompliant: true },
    };
  }
  if (g.type === 'Polygon') {
    return {
      geometry: { type: 'Polygon', coordinates: g.coordinates.map((ring) => ring.map(position)) },
      report: { type: 'Polygon', areaHa, eudrCompliant: true },
    };
  }
  return {
    geometry: { type: 'Point', coordinates: position(g.coordinates) },
    report: {
      type: 'Point',
      areaHa,
      eudrCompliant: false,
      issue: `plot is ${areaHa} ha but registered only as a point; EUDR needs a polygon above 4 ha (re-register it with \`maverick plot add\`)`,
    },
  };
}

/**
 * The plot alone in the EUDR form (a Point up to 4 ha, a Polygon above), for an evidence pack:
 * geometry and area, no telemetry. Refused when the plot cannot meet the rules.
 */
export function plotGeoJson(plotId: string, definition: PlotDefinition): GeoJsonFeatureCollection {
  const { geometry, report } = eudrGeometry(definition);
  if (!report.eudrCompliant)
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `plot ${plotId}: ${report.issue ?? 'not EUDR compliant'}`,
    );
  return {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        geometry,
        properties: { ProductionPlace: plotId, Area: Number((definition.areaM2 / 10_000).toFixed(4)) },
      },
    ],
  };
}

function missingRanges(seqs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < seqs.length; i++) {
    const [a, b] = [seqs[i - 1] as number, seqs[i] as number];
    if (b > a + 1) out.push([a + 1, b - 1]);
  }
  return out;
}

export async function exportPlot(
  store: RegionalStore,
  registry: GatewayRegistry,
  request: PlotExportRequest,
  now: () => number = Date.now,
): Promise<PlotExport> {
  const carried = await store.evidenceForPlot(request);
  if (carried.length === 0) {
    throw new MaverickError(
      ErrorCode.RegionalStore,
      `no evidence for plot ${request.plotId} in the requested period`,
      {
        hint: 'check the plot id and the period; bundles reach the regional node only after sync',
      },
    );
  }
  const checks: BundleCheck[] = [];
  const heldBack: BundleCheck[] = [];
  const hashes = new Set<string>();
  const seqsByGateway = new Map<string, number[]>();
  for (const digest of new Set(carried.map((e) => e.digest))) {
    const stored = await store.getBundleByDigest(digest);
    if (!stored) continue;
    const { gatewayId } = stored;
    seqsByGateway.set(gatewayId, [...(seqsByGateway.get(gatewayId) ?? []), stored.seq]);
    if (stored.disputed) {
      // Part of a chain conflict: kept as proof, never evidence until an operator resolves it.
      heldBack.push({ gatewayId, seq: stored.seq, digest, valid: false, reason: 'ChainDisputed' });
      continue;
    }
    for (const p of stored.plots) if (p.plotId === request.plotId) hashes.add(p.geometryHash);
    try {
      // Re-verified from the stored signed bytes, not trusted from the database.
      verifyBundle(stored.cose, (kid) => registry.resolveStored(kid)?.publicKey);
      checks.push({ gatewayId, seq: stored.seq, digest, valid: true });
    } catch (err) {
      if (!isMaverickError(err)) throw err;
      checks.push({ gatewayId, seq: stored.seq, digest, valid: false, reason: err.codeName });
    }
  }
  const used = new Set(checks.map((c) => c.digest));
  const evidence = carried.filter((e) => used.has(e.digest));
  if (evidence.length === 0) {
    throw new MaverickError(
      ErrorCode.RegionalChain,
      `all evidence for plot ${request.plotId} in the period is held back by chain disputes (${heldBack.length} bundles)`,
      { hint: '`maverick regional alerts` lists the equivocations and broken links to resolve' },
    );
  }
  const order = (a: BundleCheck, b: BundleCheck) => a.gatewayId.localeCompare(b.gatewayId) || a.seq - b.seq;
  checks.sort(order);
  heldBack.sort(order);
  // The most recent geometry of the plot in the period stands for it.
  let definition: PlotDefinition | undefined;
  for (const hash of hashes) definition = (await store.getPlotDefinition(hash))?.definition ?? definition;
  if (!definition) {
    throw new MaverickError(
      ErrorCode.RegionalStore,
      `plot ${request.plotId} has evidence but its geometry never arrived`,
      {
        hint: 'the bundle that first carried the plot is missing; sync it from the gateway',
      },
    );
  }
  const timeSources: Record<TimeSource, number> = { gps: 0, ntp: 0, 'host-unsynced': 0 };
  const devices = new Set<string>();
  const fields = new Map<string, number>();
  for (const { uplink } of evidence) {
    timeSources[uplink.timeSource]++;
    devices.add(Buffer.from(uplink.devEui).toString('hex'));
    for (const r of uplink.readings) fields.set(r.field, (fields.get(r.field) ?? 0) + 1);
  }
  // Open alerts only: a gap that has since filled is closed and no longer a finding.
  const alerts = (await Promise.all([...seqsByGateway.keys()].map((g) => store.listAlerts(g)))).flat();
  const { geometry, report: geometryReport } = eudrGeometry(definition);
  const period = { from: new Date(request.from).toISOString(), to: new Date(request.to).toISOString() };
  const first = evidence[0]?.uplink.receivedAt as number;
  const last = evidence[evidence.length - 1]?.uplink.receivedAt as number;
  const geojson: GeoJsonFeatureCollection = {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        geometry,
        properties: {
          ProductionPlace: request.plotId,
          Area: Number((definition.areaM2 / 10_000).toFixed(4)),
          evidence: {
            period,
            firstObservation: new Date(first).toISOString(),
            lastObservation: new Date(last).toISOString(),
            uplinks: evidence.length,
            devices: devices.size,
            readingsPerField: Object.fromEntries([...fields].sort()),
            timeSources,
            bundles: checks.map((c) => ({ gatewayId: c.gatewayId, seq: c.seq, digest: c.digest })),
          },
        },
      },
    ],
  };
  const report: VerificationReport = {
    plotId: request.plotId,
    period,
    generatedAt: new Date(now()).toISOString(),
    bundles: checks,
    heldBack,
    allBundlesValid: checks.every((c) => c.valid) && heldBack.length === 0,
    chains: await Promise.all(
      [...seqsByGateway].map(async ([gatewayId, seqs]) => {
        const sorted = [...new Set(seqs)].sort((a, b) => a - b);
        const [firstSeq, lastSeq] = [sorted[0] as number, sorted[sorted.length - 1] as number];
        // Gaps in the gateway's chain within the covered range (bundles without this plot are not gaps).
        const held = (await store.listBundles(gatewayId))
          .map((b) => b.seq)
          .filter((q) => q >= firstSeq && q <= lastSeq);
        return { gatewayId, firstSeq, lastSeq, missing: missingRanges(held) };
      }),
    ),
    alerts,
    uplinks: evidence.length,
    timeSources,
    geometry: geometryReport,
  };
  return { geojson, report };
}

/** GeoJSON text with every coordinate written with 6 decimals (micro-degree precision, EUDR). */
export function geoJsonText(collection: GeoJsonFeatureCollection): string {
  const marker = '\u0000coord:';
  const fixed = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(fixed)
      : typeof value === 'number'
        ? `${marker}${value.toFixed(6)}`
        : value;
  const text = JSON.stringify(
    {
      ...collection,
      features: collection.features.map((f) => ({
        ...f,
        geometry: { ...f.geometry, coordinates: fixed(f.geometry.coordinates) },
      })),
    },
    null,
    2,
  );
  return text.replace(/"\\u0000coord:(-?\d+\.\d{6})"/g, '$1');
}
