/**
 * The leaf of PROOF.md §1–2: one uplink record as deterministic CBOR, with a per-leaf salt
 * derived from a seed that stays with the data. The leaf hash is RFC 9162's H(0x00 ‖ leaf).
 * A verifier who is shown a record gets its salt; without the seed, guessing a reading of any
 * other record reproduces no hash.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborValue, CborWriter, encodeCbor, headAt } from '../bundle/cbor-encode.js';
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
}

/** The cached texts of the record's field names inLeafOrder last returned, index for index. */
const fieldTexts: (LeafText | undefined)[] = [];

const textOf = (reading: Reading, texts: LeafTexts): LeafText | undefined =>
  typeof reading.field === 'string' ? texts.get(reading.field) : undefined;

/**
 * A record's readings in leaf order (field, then scale), each field name's cached text left in
 * fieldTexts at its index: one lookup a reading. A decoded bundle's records already are in
 * order (their columns come in field order), so they are only checked (by UTF-16 code units
 * where both names allow it, see LeafTexts), not copied and sorted.
 */
function inLeafOrder(readings: readonly Reading[], texts: LeafTexts): readonly Reading[] {
  let ordered = true;
  for (let i = 0; i < readings.length; i++) {
    const b = readings[i] as Reading;
    const tb = textOf(b, texts);
    fieldTexts[i] = tb;
    if (i === 0 || !ordered) continue;
    const a = readings[i - 1] as Reading;
    const ta = fieldTexts[i - 1];
    const order =
      a.field === b.field
        ? a.scale - b.scale
        : ta?.plain && tb?.plain
          ? a.field < b.field
            ? -1
            : 1
          : compareReadings(a, b);
    if (order > 0) ordered = false;
  }
  if (ordered) return readings;
  const sorted = [...readings].sort(compareReadings);
  for (let i = 0; i < sorted.length; i++) fieldTexts[i] = textOf(sorted[i] as Reading, texts);
  return sorted;
}

/** An integer of a leaf at out[at…], as encodeCbor writes it (anything but a safe integer is refused as it refuses it). */
function intAt(out: Uint8Array, at: number, value: number): number {
  if (!Number.isSafeInteger(value)) {
    encodeCbor(value); // throws the data model's error
    throw malformed(`${value} is not an integer`);
  }
  return value >= 0 ? headAt(out, at, 0, value) : headAt(out, at, 1, -1 - value);
}

/** Encoded bytes copied to out[at…] (a few bytes: a loop, no call); returns where they end. */
function bytesAt(out: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i] as number;
  return at + bytes.length;
}

/** A text of a leaf (or null, or whatever `value` writes) at out[at…]: names from the bundle's cache. */
function textAt(out: Uint8Array, at: number, text: string | null, texts: LeafTexts): number {
  return bytesAt(out, at, typeof text === 'string' ? texts.get(text).cbor : encodeCbor(text));
}

/** Room a text may take: 3 UTF-8 bytes per UTF-16 code unit at most, and its head. */
const textBound = (text: string | null): number => (typeof text === 'string' ? 3 * text.length + 9 : 9);

/**
 * Most bytes the leaf of `record` may take: written to a buffer with this much room, the
 * leaf needs no check per byte.
 */
export function leafBound(record: UplinkRecord): number {
  let bound = 1 + 1 + SALT_BYTES + 9 + record.devEui.length + 4 * 9 + textBound(record.plotId) + 9;
  for (const r of record.readings) bound += 1 + textBound(r.field) + 2 * 9;
  return bound;
}

/**
 * Writes the leaf's deterministic CBOR (PROOF.md §1) at out[at…] and returns where it ends;
 * `out` must have leafBound(record) bytes of room from `at`. The array
 * [salt, DevEUI, session, FCnt, received-at, time source, plot, [[field, scale, value]…]],
 * readings in field order, exactly as encodeCbor writes that array; the salt is
 * salt[saltAt, saltAt + 16). Byte by byte into one buffer: a bundle writes one leaf a record.
 */
export function writeLeafAt(
  out: Uint8Array,
  at: number,
  record: UplinkRecord,
  salt: Uint8Array,
  saltAt: number,
  texts: LeafTexts,
): number {
  if (saltAt + SALT_BYTES > salt.length) throw malformed(`salt must be ${SALT_BYTES} bytes`);
  const { devEui } = record;
  if (!(devEui instanceof Uint8Array)) throw malformed('DevEUI must be a byte string');
  const readings = inLeafOrder(record.readings, texts);
  let p = at;
  out[p++] = 0x88; // array(8)
  out[p++] = 0x40 | SALT_BYTES; // bstr(16)
  for (let i = 0; i < SALT_BYTES; i++) out[p++] = salt[saltAt + i] as number;
  p = headAt(out, p, 2, devEui.length);
  for (let i = 0; i < devEui.length; i++) out[p++] = devEui[i] as number;
  p = intAt(out, p, record.session ?? 0);
  p = intAt(out, p, record.fCnt);
  p = intAt(out, p, record.receivedAt);
  p = intAt(out, p, TIME_SOURCES.indexOf(record.timeSource));
  p = textAt(out, p, record.plotId, texts);
  p = headAt(out, p, 4, readings.length);
  for (let k = 0; k < readings.length; k++) {
    const r = readings[k] as Reading;
    out[p++] = 0x83; // array(3)
    const cached = fieldTexts[k];
    p = cached ? bytesAt(out, p, cached.cbor) : textAt(out, p, r.field, texts);
    p = intAt(out, p, r.scale);
    p = intAt(out, p, r.value);
  }
  return p;
}

/** writeLeafAt into a CborWriter (after what it holds); exactly `salt`'s 16 bytes. */
export function writeLeaf(
  w: CborWriter,
  record: UplinkRecord,
  salt: Uint8Array,
  texts = new LeafTexts(),
): void {
  if (salt.length !== SALT_BYTES) throw malformed(`salt must be ${SALT_BYTES} bytes`);
  const out = w.room(leafBound(record));
  w.advanceTo(writeLeafAt(out, w.length, record, salt, 0, texts));
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
