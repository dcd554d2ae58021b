/**
 * The bundle payload's content model (BUNDLE.md §3): keys, the rules every
 * payload obeys, and `buildPayload`, the one place a payload map (format 1/2)
 * or statement map (format 3) and its telemetry block are made from content.
 * The encoder (payload.ts) writes what it builds; the decoder
 * (payload-decode.ts) builds again from what it decoded and accepts the
 * payload only when both agree, so there is one byte form per content.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { SALT_SEED_BYTES } from '../proof/leaf.js';
import { bundleMerkleRootLanes } from '../proof/leaf-lanes.js';
import { type CborMap, type CborValue, encodeCbor } from './cbor-encode.js';
import { compareText, encodeTelemetry, sortUplinks, sourceCounts } from './columnar.js';
import { deviceSummaryToCbor, summarizeDevices } from './device-summaries.js';
import { plotToCbor } from './plots.js';
import { sha256 } from './sha256.js';
import {
  BUNDLE_FORMAT_VERSION,
  type BundleCommitment,
  type BundleContent,
  type DeviceSummary,
  type PlotReference,
  TIME_SOURCES,
} from './types.js';

export const PayloadKey = {
  version: 0,
  seq: 1,
  prevHash: 2,
  timeRange: 3,
  timeSources: 4,
  plots: 5,
  devices: 6,
  telemetry: 7,
} as const;

/** Format 3 statement keys beyond 0..6 (PROOF.md §3); key 7 there is the telemetry digest. */
export const StatementKey = { telemetryDigest: 7, leaves: 8, root: 9 } as const;
/** Format 3 telemetry block: the salt seed beside format 2's keys 0, 1, 2. */
export const TELEMETRY_SALT_SEED = 3;

export function payloadMalformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `bundle payload: ${message}`);
}
const malformed = payloadMalformed;

function sortedPlots(plots: PlotReference[]): PlotReference[] {
  const sorted = [...plots].sort((a, b) => compareText(a.plotId, b.plotId));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.plotId === sorted[i - 1]?.plotId)
      throw malformed(`plot ${sorted[i]?.plotId} listed twice`);
  }
  return sorted;
}

/**
 * Format 3 leaves nothing to the sealer's taste (BUNDLE.md §3): at least one uplink, the time
 * range is exactly the earliest and latest reception, and the plot list is exactly the plots
 * the uplinks name. Formats 1 and 2 were signed without these rules and keep verifying.
 */
function checkFormat3Scope(content: BundleContent, plots: PlotReference[]): void {
  const { uplinks, timeRange } = content;
  if (uplinks.length === 0) throw malformed('a format 3 bundle holds at least one uplink');
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const u of uplinks) {
    start = Math.min(start, u.receivedAt);
    end = Math.max(end, u.receivedAt);
  }
  if (timeRange.start !== start || timeRange.end !== end) {
    throw malformed(`format 3: the time range must be the first and last reception, ${start}..${end}`);
  }
  const named = new Set(uplinks.map((u) => u.plotId).filter((p): p is string => p !== null));
  if (plots.length !== named.size || plots.some((p) => !named.has(p.plotId))) {
    throw malformed('format 3: the plot list must be exactly the plots its uplinks name');
  }
}

export interface BuiltPayload {
  map: CborMap;
  /** The device summaries the map holds (in CBOR form there). */
  summaries: DeviceSummary[];
  /** The telemetry block and its bytes; absent when built for a decoder (`decoded`). */
  telemetry?: CborMap;
  telemetryBytes?: Uint8Array;
  /** Format 3 only. */
  commitment?: BundleCommitment;
}

export interface BuildOptions {
  /** Format 3: the bundle's salt seed (it goes into the telemetry and salts the leaves). */
  saltSeed?: Uint8Array;
  /**
   * Built for a decoder: the uplinks come from the strict telemetry decoder
   * (columnar-decode.ts), which accepted the block only in the one form encodeTelemetry gives
   * them and returned them in canonical order, so they are neither sorted nor encoded again
   * (no `telemetry` in the result); a format 3 statement then signs the telemetry digest the
   * decoder checked against the bytes it inflated.
   */
  decoded?: { telemetryDigest?: Uint8Array };
}

/**
 * The payload map (format 1/2) or statement map (format 3, without telemetry) and the
 * telemetry block, from the content. Format 3 needs the bundle's salt seed.
 */
export function buildPayload(content: BundleContent, options: BuildOptions = {}): BuiltPayload {
  const { saltSeed } = options;
  const { seq, prevHash, timeRange } = content;
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw malformed(`sequence number ${seq} is not an unsigned integer`);
  if (!(prevHash instanceof Uint8Array) || prevHash.length !== 32)
    throw malformed('previous hash must be 32 bytes');
  if (
    !Number.isSafeInteger(timeRange.start) ||
    !Number.isSafeInteger(timeRange.end) ||
    timeRange.start < 0 ||
    timeRange.end < timeRange.start
  ) {
    throw malformed(`time range ${timeRange.start}..${timeRange.end} is not an ordered pair of Unix ms`);
  }
  const plots = sortedPlots(content.plots);
  const plotIndexById = new Map(plots.map((p, i) => [p.plotId, i]));
  const plotIndex = (id: string): number => {
    const i = plotIndexById.get(id);
    if (i === undefined) throw malformed(`uplink refers to plot ${id} which the bundle does not list`);
    return i;
  };
  for (const u of content.uplinks) {
    if (u.receivedAt < timeRange.start || u.receivedAt > timeRange.end) {
      throw malformed(
        `uplink at ${u.receivedAt} lies outside the time range ${timeRange.start}..${timeRange.end}`,
      );
    }
  }
  const version = content.version ?? BUNDLE_FORMAT_VERSION;
  if (version === 3) checkFormat3Scope(content, plots);
  const uplinks = options.decoded ? content.uplinks : sortUplinks(content.uplinks, plotIndex);
  const telemetry = options.decoded ? undefined : encodeTelemetry(uplinks, plotIndex, version);
  if (version === 3) {
    if (!(saltSeed instanceof Uint8Array) || saltSeed.length !== SALT_SEED_BYTES) {
      throw malformed(`format 3 needs a ${SALT_SEED_BYTES}-byte salt seed`);
    }
    telemetry?.set(TELEMETRY_SALT_SEED, saltSeed);
  }
  const telemetryBytes = telemetry ? encodeCbor(telemetry) : undefined;
  const counts = sourceCounts(uplinks);
  const summaries = summarizeDevices(uplinks);
  const devices = summaries.map((d) => deviceSummaryToCbor(d, plotIndex, version));
  const map: CborMap = new Map<number, CborValue>([
    [PayloadKey.version, version],
    [PayloadKey.seq, seq],
    [PayloadKey.prevHash, prevHash],
    [PayloadKey.timeRange, [timeRange.start, timeRange.end]],
    [PayloadKey.timeSources, TIME_SOURCES.map((s) => counts[s])],
    [PayloadKey.plots, plots.map(plotToCbor)],
    [PayloadKey.devices, devices],
  ]);
  const block = telemetry ? { telemetry, telemetryBytes } : {};
  if (version !== 3) return { map, summaries, ...block };
  const tree = bundleMerkleRootLanes(uplinks, saltSeed as Uint8Array);
  const telemetryDigest = options.decoded?.telemetryDigest ?? sha256(telemetryBytes as Uint8Array);
  const commitment = { telemetryDigest, leaves: tree.size, root: tree.root };
  map.set(StatementKey.telemetryDigest, commitment.telemetryDigest);
  map.set(StatementKey.leaves, commitment.leaves);
  map.set(StatementKey.root, commitment.root);
  return { map, summaries, ...block, commitment };
}
