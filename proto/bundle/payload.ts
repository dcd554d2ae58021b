/**
 * The bundle payload (BUNDLE.md §3): a core-deterministic CBOR map with
 * integer keys. The encoder derives every summary (time sources, per-device
 * counts, FCnt gaps) from the uplinks, so summaries cannot disagree with the
 * telemetry; the decoder recomputes them and re-encodes the telemetry, so a
 * payload is accepted only in the one byte form its content has.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { decodeCbor } from './cbor-decode.js';
import { type CborMap, type CborValue, compareBytes, encodeCbor } from './cbor-encode.js';
import {
  compareText,
  decodeTelemetry,
  encodeTelemetry,
  sessionOf,
  sortUplinks,
  sourceCounts,
} from './columnar.js';
import { DEFAULT_MAX_INFLATED_BYTES, deflate, inflateCapped } from './deflate.js';
import { plotFromCbor, plotToCbor } from './plots.js';
import {
  BUNDLE_FORMAT_VERSION,
  type BundleContent,
  type BundleFormatVersion,
  type DecodedBundle,
  type DeviceSummary,
  type PlotReference,
  type SessionSummary,
  SUPPORTED_BUNDLE_FORMATS,
  TIME_SOURCES,
  type UplinkRecord,
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

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `bundle payload: ${message}`);
}

/**
 * Per-device summaries in the canonical device order. Gaps and backwards moves are found in
 * receive order within each session; a new session (rejoin, counter reset) starts its own count.
 */
export function summarizeDevices(sorted: UplinkRecord[]): DeviceSummary[] {
  const out: DeviceSummary[] = [];
  let current: DeviceSummary | undefined;
  let previousFCnt = new Map<number, number>();
  for (const u of sorted) {
    const session = sessionOf(u);
    if (!current || compareBytes(current.devEui, u.devEui) !== 0 || current.plotId !== u.plotId) {
      current = {
        devEui: u.devEui,
        plotId: u.plotId,
        uplinks: 0,
        fCntFirst: u.fCnt,
        fCntLast: u.fCnt,
        missingFCnt: [],
        counterResets: 0,
        sessions: [],
      };
      out.push(current);
      previousFCnt = new Map();
    }
    const previous = previousFCnt.get(session);
    if (previous === undefined) {
      current.sessions.push({ session, uplinks: 0, fCntFirst: u.fCnt, fCntLast: u.fCnt });
    } else if (u.fCnt > previous + 1) {
      current.missingFCnt.push([previous + 1, u.fCnt - 1]);
    } else if (u.fCnt <= previous) {
      current.counterResets++;
    }
    const summary = current.sessions.find((s) => s.session === session) as SessionSummary;
    summary.uplinks++;
    summary.fCntLast = u.fCnt;
    current.uplinks++;
    current.fCntLast = u.fCnt;
    previousFCnt.set(session, u.fCnt);
  }
  for (const device of out) device.sessions.sort((a, b) => a.session - b.session);
  return out;
}

/** A device summary as JSON (hex DevEUI, [first, last] FCnt): what `bundle verify --json` prints. */
export function deviceSummaryJson(d: DeviceSummary) {
  return {
    devEui: Buffer.from(d.devEui).toString('hex'),
    plotId: d.plotId,
    uplinks: d.uplinks,
    fCnt: [d.fCntFirst, d.fCntLast],
    missingFCnt: d.missingFCnt,
    counterResets: d.counterResets,
    sessions: d.sessions.map((x) => ({
      session: x.session,
      uplinks: x.uplinks,
      fCnt: [x.fCntFirst, x.fCntLast],
    })),
  };
}

function deviceSummaryToCbor(
  d: DeviceSummary,
  plotIndex: (id: string) => number,
  version: BundleFormatVersion,
): CborValue {
  const fields: CborValue[] = [
    d.devEui,
    d.plotId === null ? null : plotIndex(d.plotId),
    d.uplinks,
    d.fCntFirst,
    d.fCntLast,
    d.missingFCnt.flat(),
    d.counterResets,
  ];
  if (version >= 2) fields.push(d.sessions.map((s) => [s.session, s.uplinks, s.fCntFirst, s.fCntLast]));
  return fields;
}

function sortedPlots(plots: PlotReference[]): PlotReference[] {
  const sorted = [...plots].sort((a, b) => compareText(a.plotId, b.plotId));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.plotId === sorted[i - 1]?.plotId)
      throw malformed(`plot ${sorted[i]?.plotId} listed twice`);
  }
  return sorted;
}

interface BuiltPayload {
  map: CborMap;
  /** The device summaries the map holds (in CBOR form there). */
  summaries: DeviceSummary[];
  telemetry: CborMap;
  telemetryBytes: Uint8Array;
}

function buildPayload(content: BundleContent): BuiltPayload {
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
  const uplinks = sortUplinks(content.uplinks, plotIndex);
  const telemetry = encodeTelemetry(uplinks, plotIndex, version);
  const telemetryBytes = encodeCbor(telemetry);
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
  return { map, summaries, telemetry, telemetryBytes };
}

/** Deterministic payload bytes: same content (in any input order), same bytes. */
export function encodeBundlePayload(content: BundleContent): Uint8Array {
  const { map, telemetry, telemetryBytes } = buildPayload(content);
  // The uncompressed block is embedded as the map itself; the compressed one as a bstr.
  map.set(PayloadKey.telemetry, content.compress ? deflate(telemetryBytes) : telemetry);
  return encodeCbor(map);
}

export interface DecodePayloadOptions {
  /** Cap on the inflated telemetry block (default 16 MiB): beyond it, BundleDecompressionBomb. */
  maxInflatedBytes?: number;
}

function sameEncoding(a: CborValue | undefined, b: CborValue | undefined): boolean {
  return a !== undefined && b !== undefined && compareBytes(encodeCbor(a), encodeCbor(b)) === 0;
}

/** Strictly decodes a payload; throws BundleMalformed / BundleNonCanonical / BundleDecompressionBomb. */
export function decodeBundlePayload(bytes: Uint8Array, options: DecodePayloadOptions = {}): DecodedBundle {
  const root = decodeCbor(bytes);
  if (!(root instanceof Map)) throw malformed('must be a CBOR map');
  for (const key of root.keys()) {
    if (typeof key !== 'number' || key < 0 || key > PayloadKey.telemetry)
      throw malformed(`unknown key ${JSON.stringify(key)}`);
  }
  const version = root.get(PayloadKey.version);
  if (!SUPPORTED_BUNDLE_FORMATS.includes(version as BundleFormatVersion)) {
    throw malformed(`unsupported format version ${String(version)}`);
  }
  const format = version as BundleFormatVersion;
  const seq = root.get(PayloadKey.seq);
  const prevHash = root.get(PayloadKey.prevHash);
  const range = root.get(PayloadKey.timeRange);
  const rawPlots = root.get(PayloadKey.plots);
  const rawTelemetry = root.get(PayloadKey.telemetry);
  if (typeof seq !== 'number' || seq < 0) throw malformed('1 (seq) must be an unsigned integer');
  if (!(prevHash instanceof Uint8Array)) throw malformed('2 (previous hash) must be a byte string');
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    typeof range[0] !== 'number' ||
    typeof range[1] !== 'number'
  ) {
    throw malformed('3 (time range) must be [start, end]');
  }
  if (!Array.isArray(rawPlots)) throw malformed('5 (plots) must be an array');
  const plots = rawPlots.map(plotFromCbor);
  const compress = rawTelemetry instanceof Uint8Array;
  let telemetryBytes: Uint8Array;
  if (rawTelemetry instanceof Uint8Array) {
    telemetryBytes = inflateCapped(rawTelemetry, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES);
  } else if (rawTelemetry instanceof Map) {
    telemetryBytes = encodeCbor(rawTelemetry);
  } else {
    throw malformed('7 (telemetry) must be a map or a deflated byte string');
  }
  const uplinks = decodeTelemetry(
    decodeCbor(telemetryBytes),
    plots.map((p) => p.plotId),
    format,
  );
  const content: BundleContent = {
    seq,
    prevHash,
    timeRange: { start: range[0], end: range[1] },
    plots,
    uplinks,
    compress,
    version: format,
  };
  const rebuilt = buildPayload(content);
  for (const key of [PayloadKey.timeSources, PayloadKey.devices]) {
    if (!sameEncoding(rebuilt.map.get(key), root.get(key))) {
      throw malformed(`summary ${key} does not match the telemetry it summarises`);
    }
  }
  if (
    compareBytes(rebuilt.telemetryBytes, telemetryBytes) !== 0 ||
    !sameEncoding(rebuilt.map.get(PayloadKey.plots), rawPlots)
  ) {
    throw new MaverickError(
      ErrorCode.BundleNonCanonical,
      'bundle payload: telemetry or plot list is not in its canonical order/form',
    );
  }
  const counts = root.get(PayloadKey.timeSources) as number[];
  return {
    ...content,
    version: format,
    timeSources: { gps: counts[0] as number, ntp: counts[1] as number, 'host-unsynced': counts[2] as number },
    // The rebuilt summaries: the check above proved `uplinks` is already in canonical order.
    devices: rebuilt.summaries,
  };
}
