/**
 * The strict payload decoder (BUNDLE.md §3; format 3: PROOF.md §3): decodes
 * the payload or statement and its telemetry (the block checked canonical
 * rule by rule as it is read, columnar-decode.ts), builds the payload's
 * summaries again from the decoded content (payload-build.ts) and accepts it
 * only when the rebuilt summaries, plot list and Merkle root equal what was
 * signed, so a payload is accepted only in the one form its content has.
 * Values are compared as values (cborEqual), which for canonical CBOR is the
 * same as comparing bytes, without encoding either side again.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { SALT_SEED_BYTES } from '../proof/leaf.js';
import { decodeCbor } from './cbor-decode.js';
import { type CborMap, type CborValue, cborEqual, compareBytes } from './cbor-encode.js';
import { decodeTelemetry } from './columnar-decode.js';
import { DEFAULT_MAX_INFLATED_BYTES, inflateCapped } from './deflate.js';
import {
  buildPayload,
  payloadMalformed as malformed,
  PayloadKey,
  StatementKey,
  TELEMETRY_SALT_SEED,
} from './payload-build.js';
import { plotFromCbor } from './plots.js';
import { sha256 } from './sha256.js';
import {
  type BundleContent,
  type BundleFormatVersion,
  type DecodedBundle,
  SUPPORTED_BUNDLE_FORMATS,
} from './types.js';

export interface DecodePayloadOptions {
  /** Cap on the inflated telemetry block (default 16 MiB): beyond it, BundleDecompressionBomb. */
  maxInflatedBytes?: number;
  /** Format 3: the detached telemetry (raw deflate), from the COSE unprotected header. */
  telemetry?: Uint8Array;
}

interface Telemetry {
  /** The columns decodeTelemetry reads (format 3: the block without its salt seed). */
  columns: CborValue;
  compress: boolean;
  saltSeed?: Uint8Array;
  /** Format 3: the digest the statement signs, which the inflated bytes were checked against. */
  digest?: Uint8Array;
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
    // The inflated block is this decode's own: its byte strings (columns of varints) are read as views.
    const block = decodeCbor(bytes, { byteStringViews: true });
    const saltSeed = block instanceof Map ? block.get(TELEMETRY_SALT_SEED) : undefined;
    if (!(block instanceof Map) || !(saltSeed instanceof Uint8Array) || saltSeed.length !== SALT_SEED_BYTES) {
      throw malformed(`format 3: the telemetry must carry a ${SALT_SEED_BYTES}-byte salt seed under key 3`);
    }
    const columns = new Map(block);
    columns.delete(TELEMETRY_SALT_SEED);
    return { columns, compress: true, saltSeed: saltSeed.slice(), digest };
  }
  const raw = root.get(PayloadKey.telemetry);
  if (raw instanceof Uint8Array) {
    return { columns: decodeCbor(inflateCapped(raw, cap), { byteStringViews: true }), compress: true };
  }
  if (raw instanceof Map) return { columns: raw, compress: false };
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
    telemetry.columns,
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
  const rebuilt = buildPayload(content, {
    ...(telemetry.saltSeed ? { saltSeed: telemetry.saltSeed } : {}),
    decoded: telemetry.digest ? { telemetryDigest: telemetry.digest } : {},
  });
  for (const key of [PayloadKey.timeSources, PayloadKey.devices]) {
    if (!cborEqual(rebuilt.map.get(key), root.get(key))) {
      throw malformed(`summary ${key} does not match the telemetry it summarises`);
    }
  }
  if (format === 3) {
    for (const key of [StatementKey.leaves, StatementKey.root]) {
      if (!cborEqual(rebuilt.map.get(key), root.get(key))) {
        throw malformed(
          `${key === StatementKey.root ? 'Merkle root' : 'leaf count'} does not match the records`,
        );
      }
    }
  }
  if (!cborEqual(rebuilt.map.get(PayloadKey.plots), rawPlots)) {
    throw new MaverickError(
      ErrorCode.BundleNonCanonical,
      'bundle payload: the plot list is not in its canonical order/form',
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
