/**
 * The leaf of PROOF.md §1–2: one uplink record as deterministic CBOR, with a per-leaf salt
 * derived from a seed that stays with the data. The leaf hash is RFC 9162's H(0x00 ‖ leaf).
 * A verifier who is shown a record gets its salt; without the seed, guessing a reading of any
 * other record reproduces no hash.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborValue, encodeCbor } from '../bundle/cbor-encode.js';
import { compareText } from '../bundle/columnar.js';
import { TIME_SOURCES, type UplinkRecord } from '../bundle/types.js';
import { ErrorCode, MaverickError } from '../errors.js';
import { leafHash, MerkleTree } from './merkle.js';

export const SALT_SEED_BYTES = 32;
export const SALT_BYTES = 16;
const SALT_LABEL = new TextEncoder().encode('maverick leaf salt');

/** A fresh random salt seed for one bundle's telemetry (PROOF.md §2). */
export function newSaltSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SALT_SEED_BYTES));
}

/** salt_i = first 16 bytes of HMAC-SHA256(seed, "maverick leaf salt" ‖ u32be(i)). */
export function leafSalt(seed: Uint8Array, index: number): Uint8Array {
  if (seed.length !== SALT_SEED_BYTES) throw malformed(`salt seed must be ${SALT_SEED_BYTES} bytes`);
  if (!Number.isSafeInteger(index) || index < 0 || index > 0xffffffff) throw malformed(`leaf index ${index}`);
  const counter = new Uint8Array(4);
  new DataView(counter.buffer).setUint32(0, index);
  const mac = createHmac('sha256', seed).update(SALT_LABEL).update(counter).digest();
  return new Uint8Array(mac.subarray(0, SALT_BYTES));
}

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `proof leaf: ${message}`);
}

/** The leaf's deterministic CBOR (PROOF.md §1). */
export function encodeLeaf(record: UplinkRecord, salt: Uint8Array): Uint8Array {
  if (salt.length !== SALT_BYTES) throw malformed(`salt must be ${SALT_BYTES} bytes`);
  const readings = [...record.readings]
    .sort((a, b) => compareText(a.field, b.field) || a.scale - b.scale)
    .map((r): CborValue => [r.field, r.scale, r.value]);
  return encodeCbor([
    salt,
    record.devEui,
    record.session ?? 0,
    record.fCnt,
    record.receivedAt,
    TIME_SOURCES.indexOf(record.timeSource),
    record.plotId,
    readings,
  ]);
}

/** A disclosed leaf read back: the record and its salt. Strict: only the one canonical encoding. */
export interface DecodedLeaf {
  salt: Uint8Array;
  record: UplinkRecord;
}

function isInt(v: CborValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** Parses untrusted leaf bytes; throws BundleMalformed / BundleNonCanonical. */
export function decodeLeaf(bytes: Uint8Array): DecodedLeaf {
  const value = decodeCbor(bytes, { maxDepth: 4 });
  if (!Array.isArray(value) || value.length !== 8) throw malformed('must be an array of 8');
  const [salt, devEui, session, fCnt, receivedAt, source, plotId, readings] = value;
  if (!(salt instanceof Uint8Array) || salt.length !== SALT_BYTES) throw malformed('salt must be 16 bytes');
  if (!(devEui instanceof Uint8Array) || devEui.length !== 8) throw malformed('DevEUI must be 8 bytes');
  if (!isInt(session) || session < 0) throw malformed('session must be an unsigned integer');
  if (!isInt(fCnt) || fCnt < 0 || fCnt > 0xffffffff) throw malformed('FCnt must be a 32-bit counter');
  if (!isInt(receivedAt) || receivedAt < 0) throw malformed('time must be Unix ms');
  const timeSource = isInt(source) ? TIME_SOURCES[source] : undefined;
  if (!timeSource) throw malformed('time source must be 0, 1 or 2');
  if (plotId !== null && typeof plotId !== 'string') throw malformed('plot must be text or null');
  if (!Array.isArray(readings)) throw malformed('readings must be an array');
  const record: UplinkRecord = {
    devEui,
    session,
    fCnt,
    receivedAt,
    timeSource,
    plotId,
    readings: readings.map((r, i) => {
      if (!Array.isArray(r) || r.length !== 3) throw malformed(`reading ${i} must be [field, scale, value]`);
      const [field, scale, v] = r;
      if (typeof field !== 'string' || !isInt(scale) || !isInt(v))
        throw malformed(`reading ${i} must be [text, int, int]`);
      return { field, scale, value: v };
    }),
  };
  const again = encodeLeaf(record, salt);
  if (Buffer.compare(again, bytes) !== 0) {
    throw new MaverickError(
      ErrorCode.BundleNonCanonical,
      'proof leaf: readings are not in their canonical order',
    );
  }
  return { salt, record };
}

/**
 * Leaves of one bundle's records, given in leaf order (PROOF.md §3: the telemetry's record
 * order), salted from the bundle's seed.
 */
export function bundleLeaves(records: readonly UplinkRecord[], seed: Uint8Array): Uint8Array[] {
  return records.map((r, i) => encodeLeaf(r, leafSalt(seed, i)));
}

/** RFC 9162 leaf hashes of one bundle's records. */
export function bundleLeafHashes(records: readonly UplinkRecord[], seed: Uint8Array): Uint8Array[] {
  return bundleLeaves(records, seed).map(leafHash);
}

/** MTH and tree size over a list of leaf hashes (a bundle's, a day's, a period's). */
export function rootOfLeafHashes(hashes: readonly Uint8Array[]): { root: Uint8Array; size: number } {
  const tree = MerkleTree.fromLeafHashes(hashes);
  return { root: tree.root, size: tree.size };
}
