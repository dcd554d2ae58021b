/**
 * The bundle payload (BUNDLE.md §3): a core-deterministic CBOR map with
 * integer keys. The encoder derives every summary (time sources, per-device
 * counts, FCnt gaps) from the uplinks, so summaries cannot disagree with the
 * telemetry; the decoder recomputes them and re-encodes the telemetry, so a
 * payload is accepted only in the one byte form its content has.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, MaverickError } from '../errors.js';
import { bundleLeafHashes, SALT_SEED_BYTES } from '../proof/leaf.js';
import { MerkleTree } from '../proof/merkle.js';
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
  type BundleCommitment,
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

/** Format 3 statement keys beyond 0..6 (PROOF.md §3); key 7 there is the telemetry digest. */
export const StatementKey = { telemetryDigest: 7, leaves: 8, root: 9 } as const;
/** Format 3 telemetry block: the salt seed beside format 2's keys 0, 1, 2. */
const TELEMETRY_SALT_SEED = 3;

const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest());

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

interface BuiltPayload {
  map: CborMap;
  /** The device summaries the map holds (in CBOR form there). */
  summaries: DeviceSummary[];
  telemetry: CborMap;
  telemetryBytes: Uint8Array;
  /** Format 3 only. */
  commitment?: BundleCommitment;
}

/**
 * The payload map (format 1/2) or statement map (format 3, without telemetry) and the
 * telemetry block, from the content. Format 3 needs the bundle's salt seed.
 */
function buildPayload(content: BundleContent, saltSeed?: Uint8Array): BuiltPayload {
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
  const uplinks = sortUplinks(content.uplinks, plotIndex);
  const telemetry = encodeTelemetry(uplinks, plotIndex, version);
  if (version === 3) {
    if (!(saltSeed instanceof Uint8Array) || saltSeed.length !== SALT_SEED_BYTES) {
      throw malformed(`format 3 needs a ${SALT_SEED_BYTES}-byte salt seed`);
    }
    telemetry.set(TELEMETRY_SALT_SEED, saltSeed);
  }
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
  if (version !== 3) return { map, summaries, telemetry, telemetryBytes };
  const tree = MerkleTree.fromLeafHashes(bundleLeafHashes(uplinks, saltSeed as Uint8Array));
  const commitment = { telemetryDigest: sha256(telemetryBytes), leaves: tree.size, root: tree.root };
  map.set(StatementKey.telemetryDigest, commitment.telemetryDigest);
  map.set(StatementKey.leaves, commitment.leaves);
  map.set(StatementKey.root, commitment.root);
  return { map, summaries, telemetry, telemetryBytes, commitment };
}

/** Deterministic payload bytes of a format 1 or 2 bundle: same content (in any input order), same bytes. */
export function encodeBundlePayload(content: BundleContent): Uint8Array {
  if (content.version === 3) {
    throw malformed('a format 3 payload is a statement with detached telemetry: use encodeBundleStatement');
  }
  const { map, telemetry, telemetryBytes } = buildPayload(content);
  // The uncompressed block is embedded as the map itself; the compressed one as a bstr.
  map.set(PayloadKey.telemetry, content.compress ? deflate(telemetryBytes) : telemetry);
  return encodeCbor(map);
}

export interface BundleStatementParts {
  /** The statement: the signed payload of a format 3 bundle. */
  statement: Uint8Array;
  /** Raw deflate of the telemetry block: what travels under COSE unprotected label -65537. */
  telemetry: Uint8Array;
  commitment: BundleCommitment;
}

/**
 * A format 3 bundle's statement and detached telemetry (PROOF.md §3). Deterministic for a given
 * content and seed; the seed (random per bundle, `newSaltSeed`) goes into the telemetry.
 */
export function encodeBundleStatement(content: BundleContent, saltSeed: Uint8Array): BundleStatementParts {
  const { map, telemetryBytes, commitment } = buildPayload({ ...content, version: 3 }, saltSeed);
  return {
    statement: encodeCbor(map),
    telemetry: deflate(telemetryBytes),
    commitment: commitment as BundleCommitment,
  };
}

export interface DecodePayloadOptions {
  /** Cap on the inflated telemetry block (default 16 MiB): beyond it, BundleDecompressionBomb. */
  maxInflatedBytes?: number;
  /** Format 3: the detached telemetry (raw deflate), from the COSE unprotected header. */
  telemetry?: Uint8Array;
}

function sameEncoding(a: CborValue | undefined, b: CborValue | undefined): boolean {
  return a !== undefined && b !== undefined && compareBytes(encodeCbor(a), encodeCbor(b)) === 0;
}

interface Telemetry {
  bytes: Uint8Array;
  block: CborValue;
  compress: boolean;
  saltSeed?: Uint8Array;
}

/** The telemetry block of a payload (format 1/2: key 7; format 3: detached, checked against its digest). */
function telemetryOf(root: CborMap, format: BundleFormatVersion, options: DecodePayloadOptions): Telemetry {
  const cap = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  if (format === 3) {
    const digest = root.get(StatementKey.telemetryDigest);
    if (!(digest instanceof Uint8Array) || digest.length !== 32)
      throw malformed('7 (telemetry digest) must be 32 bytes');
    if (!options.telemetry) {
      throw malformed(
        'format 3: the telemetry (COSE unprotected label -65537) is missing; a statement alone verifies only with verifyBundleStatement',
      );
    }
    const bytes = inflateCapped(options.telemetry, cap);
    if (compareBytes(sha256(bytes), digest) !== 0) {
      throw malformed('format 3: the telemetry does not hash to the digest the statement signs');
    }
    const block = decodeCbor(bytes);
    const saltSeed = block instanceof Map ? block.get(TELEMETRY_SALT_SEED) : undefined;
    if (!(block instanceof Map) || !(saltSeed instanceof Uint8Array) || saltSeed.length !== SALT_SEED_BYTES) {
      throw malformed(`format 3: the telemetry must carry a ${SALT_SEED_BYTES}-byte salt seed under key 3`);
    }
    const columns = new Map(block);
    columns.delete(TELEMETRY_SALT_SEED);
    return { bytes, block: columns, compress: true, saltSeed };
  }
  const raw = root.get(PayloadKey.telemetry);
  if (raw instanceof Uint8Array) {
    const bytes = inflateCapped(raw, cap);
    return { bytes, block: decodeCbor(bytes), compress: true };
  }
  if (raw instanceof Map) return { bytes: encodeCbor(raw), block: raw, compress: false };
  throw malformed('7 (telemetry) must be a map or a deflated byte string');
}

function checkKeys(root: CborMap, format: BundleFormatVersion): void {
  const last = format === 3 ? StatementKey.root : PayloadKey.telemetry;
  for (const key of root.keys()) {
    if (typeof key !== 'number' || key < 0 || key > last)
      throw malformed(`unknown key ${JSON.stringify(key)}`);
  }
  if (format === 3 && root.size !== last + 1)
    throw malformed('a format 3 statement has exactly the keys 0..9');
}

/** The format a payload declares (key 0), or BundleMalformed. */
export function payloadFormat(root: CborValue): BundleFormatVersion {
  if (!(root instanceof Map)) throw malformed('must be a CBOR map');
  const version = root.get(PayloadKey.version);
  if (!SUPPORTED_BUNDLE_FORMATS.includes(version as BundleFormatVersion)) {
    throw malformed(`unsupported format version ${String(version)}`);
  }
  return version as BundleFormatVersion;
}

/**
 * Strictly decodes a payload (format 3: a statement plus `options.telemetry`); throws
 * BundleMalformed / BundleNonCanonical / BundleDecompressionBomb.
 */
export function decodeBundlePayload(bytes: Uint8Array, options: DecodePayloadOptions = {}): DecodedBundle {
  const root = decodeCbor(bytes) as CborMap;
  const format = payloadFormat(root);
  checkKeys(root, format);
  const seq = root.get(PayloadKey.seq);
  const prevHash = root.get(PayloadKey.prevHash);
  const range = root.get(PayloadKey.timeRange);
  const rawPlots = root.get(PayloadKey.plots);
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
  const telemetry = telemetryOf(root, format, options);
  const uplinks = decodeTelemetry(
    telemetry.block,
    plots.map((p) => p.plotId),
    format,
  );
  const content: BundleContent = {
    seq,
    prevHash,
    timeRange: { start: range[0], end: range[1] },
    plots,
    uplinks,
    compress: telemetry.compress,
    version: format,
  };
  const rebuilt = buildPayload(content, telemetry.saltSeed);
  for (const key of [PayloadKey.timeSources, PayloadKey.devices]) {
    if (!sameEncoding(rebuilt.map.get(key), root.get(key))) {
      throw malformed(`summary ${key} does not match the telemetry it summarises`);
    }
  }
  if (format === 3) {
    for (const key of [StatementKey.leaves, StatementKey.root]) {
      if (!sameEncoding(rebuilt.map.get(key), root.get(key))) {
        throw malformed(
          `${key === StatementKey.root ? 'Merkle root' : 'leaf count'} does not match the records`,
        );
      }
    }
  }
  if (
    compareBytes(rebuilt.telemetryBytes, telemetry.bytes) !== 0 ||
    !sameEncoding(rebuilt.map.get(PayloadKey.plots), rawPlots)
  ) {
    throw new MaverickError(
      ErrorCode.BundleNonCanonical,
      'bundle payload: telemetry or plot list is not in its canonical order/form',
    );
  }
  const counts = root.get(PayloadKey.timeSources) as number[];
  const decoded: DecodedBundle = {
    ...content,
    version: format,
    timeSources: { gps: counts[0] as number, ntp: counts[1] as number, 'host-unsynced': counts[2] as number },
    // The rebuilt summaries: the check above proved `uplinks` is already in canonical order.
    devices: rebuilt.summaries,
  };
  if (rebuilt.commitment)
    decoded.commitment = { ...rebuilt.commitment, saltSeed: telemetry.saltSeed as Uint8Array };
  return decoded;
}
