/**
 * The leaf of PROOF.md §1–2: one uplink record as deterministic CBOR, with a per-leaf salt
 * derived from a seed that stays with the data. The leaf hash is RFC 9162's H(0x00 ‖ leaf).
 * A verifier who is shown a record gets its salt; without the seed, guessing a reading of any
 * other record reproduces no hash.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborValue, CborWriter, encodeCbor } from '../bundle/cbor-encode.js';
import { belowSurrogates, compareText } from '../bundle/columnar.js';
import {
  PaddedSha256Message,
  SHA256_BLOCK_BYTES,
  sha256Into,
  sha256Midstate,
} from '../bundle/sha256-blocks.js';
import { type Reading, TIME_SOURCES, type UplinkRecord } from '../bundle/types.js';
import { ErrorCode, MaverickError } from '../errors.js';
import { HASH_BYTES, LEAF_PREFIX, MerkleTree, rootOfFlatLeafHashes } from './merkle.js';

export const SALT_SEED_BYTES = 32;
export const SALT_BYTES = 16;
export const SALT_LABEL = new TextEncoder().encode('maverick leaf salt');

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

const compareReadings = (a: Reading, b: Reading): number =>
  compareText(a.field, b.field) || a.scale - b.scale;

/** A text of the leaves as CBOR, and whether its UTF-16 order is its UTF-8 order. */
interface LeafText {
  cbor: Uint8Array;
  plain: boolean;
}

/**
 * The texts of one bundle's leaves (field names and plot ids: a handful, repeated in every
 * record), each encoded once, with whether it sorts by its UTF-16 code units
 * (belowSurrogates), so checking a record's reading order compares no bytes. Bounded, as the
 * texts come from the bundle.
 */
export class LeafTexts {
  private readonly texts = new Map<string, LeafText>();

  get(text: string): LeafText {
    let known = this.texts.get(text);
    if (!known) {
      known = { cbor: encodeCbor(text), plain: belowSurrogates(text) };
      if (this.texts.size < 1024) this.texts.set(text, known);
    }
    return known;
  }

  /** compareReadings, by code units where both names allow it. */
  compare(a: Reading, b: Reading): number {
    if (a.field === b.field) return a.scale - b.scale;
    if (
      typeof a.field === 'string' &&
      typeof b.field === 'string' &&
      this.get(a.field).plain &&
      this.get(b.field).plain
    )
      return a.field < b.field ? -1 : 1;
    return compareReadings(a, b);
  }
}

/**
 * A record's readings in leaf order (field, then scale). A decoded bundle's records already
 * are (their columns come in field order), so they are only checked, not copied and sorted.
 */
function inLeafOrder(readings: readonly Reading[], texts: LeafTexts | undefined): readonly Reading[] {
  for (let i = 1; i < readings.length; i++) {
    const a = readings[i - 1] as Reading;
    const b = readings[i] as Reading;
    if ((texts ? texts.compare(a, b) : compareReadings(a, b)) > 0) return [...readings].sort(compareReadings);
  }
  return readings;
}

/** A text of a leaf: from the bundle's cache when there is one, else as `value` writes it. */
function writeText(w: CborWriter, text: string | null, texts: LeafTexts | undefined): void {
  if (typeof text !== 'string') w.value(text);
  else if (texts) w.bytes(texts.get(text).cbor);
  else w.text(text);
}

/**
 * Writes the leaf's deterministic CBOR (PROOF.md §1): the array
 * [salt, DevEUI, session, FCnt, received-at, time source, plot, [[field, scale, value]…]],
 * readings in field order, exactly as encodeCbor writes that array.
 */
export function writeLeaf(w: CborWriter, record: UplinkRecord, salt: Uint8Array, texts?: LeafTexts): void {
  if (salt.length !== SALT_BYTES) throw malformed(`salt must be ${SALT_BYTES} bytes`);
  const readings = inLeafOrder(record.readings, texts);
  w.head(4, 8);
  w.byteString(salt);
  // The typed writers for the types a record holds; anything else goes through `value`, which
  // writes or refuses it as for any CBOR value.
  if (record.devEui instanceof Uint8Array) w.byteString(record.devEui);
  else w.value(record.devEui);
  w.int(record.session ?? 0);
  w.int(record.fCnt);
  w.int(record.receivedAt);
  w.int(TIME_SOURCES.indexOf(record.timeSource));
  writeText(w, record.plotId, texts);
  w.head(4, readings.length);
  for (const r of readings) {
    w.head(4, 3);
    writeText(w, r.field, texts);
    w.int(r.scale);
    w.int(r.value);
  }
}

/** The leaf's deterministic CBOR (PROOF.md §1). */
export function encodeLeaf(record: UplinkRecord, salt: Uint8Array): Uint8Array {
  const w = new CborWriter();
  writeLeaf(w, record, salt);
  return w.result();
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
 * salt_i for every index of one seed, written into the first 16 bytes of `out` (32 bytes: the
 * whole HMAC output lands there). HMAC's two key pads (RFC 2104: H(K ⊕ opad ‖ H(K ⊕ ipad ‖ m)),
 * the 32-byte key zero-padded to SHA-256's 64-byte block) are hashed once per seed and kept as
 * midstates, so a record's salt costs two SHA-256 compressions instead of four, with no
 * allocation: a bundle salts every record it holds.
 */
function leafSalter(seed: Uint8Array): (index: number, out: Uint8Array) => void {
  if (seed.length !== SALT_SEED_BYTES) throw malformed(`salt seed must be ${SALT_SEED_BYTES} bytes`);
  const innerPad = new Uint8Array(SHA256_BLOCK_BYTES);
  const outerPad = new Uint8Array(SHA256_BLOCK_BYTES);
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) {
    const k = seed[i] ?? 0;
    innerPad[i] = k ^ 0x36;
    outerPad[i] = k ^ 0x5c;
  }
  const inner = new PaddedSha256Message(SALT_LABEL.length + 4, sha256Midstate(innerPad));
  inner.bytes.set(SALT_LABEL);
  const counter = new DataView(inner.bytes.buffer, SALT_LABEL.length, 4);
  // The inner hash is written straight into the outer message.
  const outer = new PaddedSha256Message(32, sha256Midstate(outerPad));
  return (index, out) => {
    if (!Number.isSafeInteger(index) || index < 0 || index > 0xffffffff)
      throw malformed(`leaf index ${index}`);
    counter.setUint32(0, index);
    inner.digestInto(outer.bytes, 0);
    outer.digestInto(out, 0);
  };
}

/** leafSalt for every index of one seed (the HMAC's key pads prepared once). */
export function leafSalts(seed: Uint8Array): (index: number) => Uint8Array {
  const salter = leafSalter(seed);
  return (index) => {
    const out = new Uint8Array(32);
    salter(index, out);
    return out.subarray(0, SALT_BYTES);
  };
}

/**
 * Leaves of one bundle's records, given in leaf order (PROOF.md §3: the telemetry's record
 * order), salted from the bundle's seed.
 */
export function bundleLeaves(records: readonly UplinkRecord[], seed: Uint8Array): Uint8Array[] {
  const salt = leafSalts(seed);
  return records.map((r, i) => encodeLeaf(r, salt(i)));
}

/**
 * RFC 9162 leaf hashes of one bundle's records, end to end in one buffer (32 bytes a record):
 * each leaf written after the 0x00 prefix into one reused buffer and hashed there, what
 * leafHash(encodeLeaf(…)) gives without two copies and two allocations a record.
 */
export function bundleLeafHashesFlat(records: readonly UplinkRecord[], seed: Uint8Array): Uint8Array {
  const salter = leafSalter(seed);
  const hmac = new Uint8Array(32);
  const salt = hmac.subarray(0, SALT_BYTES);
  const hashes = new Uint8Array(records.length * HASH_BYTES);
  const w = new CborWriter();
  const texts = new LeafTexts();
  for (let i = 0; i < records.length; i++) {
    salter(i, hmac);
    w.reset();
    w.byte(LEAF_PREFIX);
    writeLeaf(w, records[i] as UplinkRecord, salt, texts);
    const leaf = w.view();
    sha256Into(leaf, 0, leaf.length, hashes, i * HASH_BYTES);
  }
  return hashes;
}

/** The leaf hashes of bundleLeafHashesFlat, one array each. */
export function bundleLeafHashes(records: readonly UplinkRecord[], seed: Uint8Array): Uint8Array[] {
  const flat = bundleLeafHashesFlat(records, seed);
  return records.map((_, i) => flat.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
}

/** MTH and tree size over one bundle's records (what its statement signs, PROOF.md §3). */
export function bundleMerkleRoot(
  records: readonly UplinkRecord[],
  seed: Uint8Array,
): { root: Uint8Array; size: number } {
  return { root: rootOfFlatLeafHashes(bundleLeafHashesFlat(records, seed)), size: records.length };
}

/** MTH and tree size over a list of leaf hashes (a bundle's, a day's, a period's). */
export function rootOfLeafHashes(hashes: readonly Uint8Array[]): { root: Uint8Array; size: number } {
  const tree = MerkleTree.fromLeafHashes(hashes);
  return { root: tree.root, size: tree.size };
}
