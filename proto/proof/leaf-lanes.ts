/**
 * bundleMerkleRoot (leaf.ts) with every SHA-256 of the tree run four messages at a time in
 * WebAssembly SIMD (proto/bundle/sha256-lanes.ts): the records' salts in two calls (the HMAC's
 * inner, then outer hashes, from key-pad midstates), the leaf hashes in one, each tree level
 * in one. The leaves are written by leaf.ts's writer, padded, into the module's memory; the
 * root and size are the same as bundleMerkleRoot's (sha256-lanes.test.ts, leaf-lanes.test.ts
 * compare them over random records and seeds). A bundle larger than the memory this keeps,
 * or a runtime without WebAssembly SIMD, takes bundleMerkleRoot.
 *
 * Memory layout (offsets in bytes; N = the record capacity):
 *   0 IV · 32 inner midstate · 64 outer midstate · 96 inner key pad · 160 outer key pad ·
 *   224 the two key-pad descriptors · 256 inner salt messages (N × 64, constant) · outer salt
 *   messages (N × 64, padding constant) · salts (N × 32) · hashes (N × 32) · node messages
 *   (N/2 × 128, padding constant) · descriptors: inner, outer (constant), leaves, nodes
 *   (constant) · leaves (the rest).
 */
import { SHA256_BLOCK_BYTES } from '../bundle/sha256-blocks.js';
import {
  DESCRIPTOR_BYTES,
  instantiateSha256Lanes,
  ivBytes,
  type Sha256LanesExports,
} from '../bundle/sha256-lanes.js';
import type { UplinkRecord } from '../bundle/types.js';
import { bundleMerkleRoot, LeafTexts, leafBound, SALT_LABEL, SALT_SEED_BYTES, writeLeafAt } from './leaf.js';
import { HASH_BYTES, LEAF_PREFIX, NODE_PREFIX } from './merkle.js';

/** Records and leaf bytes above which a bundle takes the JavaScript path (memory kept stays bounded). */
const MAX_RECORDS = 1 << 14;
const MAX_LEAF_BYTES = 8 << 20;
const PAGE = 65_536;

const IV_AT = 0;
const INNER_MID_AT = 32;
const OUTER_MID_AT = 64;
const INNER_PAD_AT = 96;
const OUTER_PAD_AT = 160;
const PAD_DESCRIPTORS_AT = 224;
const FIRST_AREA = 256;

interface Layout {
  records: number;
  innerSlots: number;
  outerSlots: number;
  salts: number;
  hashes: number;
  nodeSlots: number;
  innerDescriptors: number;
  outerDescriptors: number;
  leafDescriptors: number;
  nodeDescriptors: number;
  leaves: number;
}

function layoutFor(records: number): Layout {
  const pairs = Math.ceil(records / 2);
  const innerSlots = FIRST_AREA;
  const outerSlots = innerSlots + records * SHA256_BLOCK_BYTES;
  const salts = outerSlots + records * SHA256_BLOCK_BYTES;
  const hashes = salts + records * HASH_BYTES;
  const nodeSlots = hashes + records * HASH_BYTES;
  const innerDescriptors = nodeSlots + pairs * 2 * SHA256_BLOCK_BYTES;
  const outerDescriptors = innerDescriptors + records * DESCRIPTOR_BYTES;
  const leafDescriptors = outerDescriptors + records * DESCRIPTOR_BYTES;
  const nodeDescriptors = leafDescriptors + records * DESCRIPTOR_BYTES;
  const leaves = nodeDescriptors + pairs * DESCRIPTOR_BYTES;
  return {
    records,
    innerSlots,
    outerSlots,
    salts,
    hashes,
    nodeSlots,
    innerDescriptors,
    outerDescriptors,
    leafDescriptors,
    nodeDescriptors,
    leaves,
  };
}

/** Writes SHA-256's padding for a message of `bytes` ending at `at` (the 0x80, zeros, bit length). */
function writePadding(memory: Uint8Array, at: number, bytes: number, blockEnd: number): void {
  memory[at] = 0x80;
  memory.fill(0, at + 1, blockEnd - 4);
  new DataView(memory.buffer).setUint32(blockEnd - 4, bytes * 8);
}

class LanesTreeHasher {
  private layout: Layout = layoutFor(0);
  private bytes: Uint8Array;
  private words: Uint32Array;

  constructor(private readonly wasm: Sha256LanesExports) {
    this.bytes = new Uint8Array(wasm.memory.buffer);
    this.words = new Uint32Array(wasm.memory.buffer);
  }

  /** Room for `records` records and `leafBytes` of padded leaves; false when over the caps. */
  private reserve(records: number, leafBytes: number): boolean {
    if (records > MAX_RECORDS || leafBytes > MAX_LEAF_BYTES) return false;
    if (records > this.layout.records) {
      this.layout = layoutFor(Math.max(256, 2 ** Math.ceil(Math.log2(records))));
      this.grow(this.layout.leaves);
      this.writeConstants();
    }
    this.grow(this.layout.leaves + leafBytes);
    return true;
  }

  private grow(total: number): void {
    const have = this.wasm.memory.buffer.byteLength;
    if (total <= have) return;
    this.wasm.memory.grow(Math.ceil((total - have) / PAGE));
    this.bytes = new Uint8Array(this.wasm.memory.buffer);
    this.words = new Uint32Array(this.wasm.memory.buffer);
  }

  /** What every bundle shares: the IV, the salt and node messages' fixed bytes, the constant descriptors. */
  private writeConstants(): void {
    const { bytes, words } = this;
    const l = this.layout;
    bytes.set(ivBytes(), IV_AT);
    words.set(
      [INNER_PAD_AT, 1, IV_AT, INNER_MID_AT, OUTER_PAD_AT, 1, IV_AT, OUTER_MID_AT],
      PAD_DESCRIPTORS_AT / 4,
    );
    const saltMessage = SALT_LABEL.length + 4;
    for (let i = 0; i < l.records; i++) {
      // Inner HMAC message: label ‖ u32be(i), after the 64-byte key pad.
      const inner = l.innerSlots + i * SHA256_BLOCK_BYTES;
      bytes.set(SALT_LABEL, inner);
      new DataView(bytes.buffer).setUint32(inner + SALT_LABEL.length, i);
      writePadding(bytes, inner + saltMessage, SHA256_BLOCK_BYTES + saltMessage, inner + SHA256_BLOCK_BYTES);
      // Outer HMAC message: the inner hash (written by the inner pass), after the other key pad.
      const outer = l.outerSlots + i * SHA256_BLOCK_BYTES;
      writePadding(bytes, outer + HASH_BYTES, SHA256_BLOCK_BYTES + HASH_BYTES, outer + SHA256_BLOCK_BYTES);
      words.set([inner, 1, INNER_MID_AT, outer], (l.innerDescriptors + i * DESCRIPTOR_BYTES) / 4);
      words.set(
        [outer, 1, OUTER_MID_AT, l.salts + i * HASH_BYTES],
        (l.outerDescriptors + i * DESCRIPTOR_BYTES) / 4,
      );
    }
    const nodeMessage = 1 + 2 * HASH_BYTES;
    for (let k = 0; k < l.records / 2; k++) {
      const node = l.nodeSlots + k * 2 * SHA256_BLOCK_BYTES;
      bytes[node] = NODE_PREFIX;
      writePadding(bytes, node + nodeMessage, nodeMessage, node + 2 * SHA256_BLOCK_BYTES);
      words.set([node, 2, IV_AT, l.hashes + k * HASH_BYTES], (l.nodeDescriptors + k * DESCRIPTOR_BYTES) / 4);
    }
  }

  /** The salts of records 0…n-1 under `seed` (HMAC-SHA256 as leafSalt), left at layout.salts. */
  private salts(seed: Uint8Array, n: number): void {
    const { bytes } = this;
    for (let i = 0; i < SHA256_BLOCK_BYTES; i++) {
      const k = seed[i] ?? 0;
      bytes[INNER_PAD_AT + i] = k ^ 0x36;
      bytes[OUTER_PAD_AT + i] = k ^ 0x5c;
    }
    this.wasm.hash(PAD_DESCRIPTORS_AT, 2);
    this.wasm.hash(this.layout.innerDescriptors, n);
    this.wasm.hash(this.layout.outerDescriptors, n);
  }

  /**
   * Each record's leaf, 0x00-prefixed and padded, end to end in the leaf area, its salt read
   * where the salt pass left it; each leaf's descriptor beside. False when over the cap.
   */
  private writeLeaves(records: readonly UplinkRecord[]): boolean {
    const texts = new LeafTexts();
    const l = this.layout;
    let p = l.leaves;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as UplinkRecord;
      // The leaf, its prefix and at most a block of padding.
      if (!this.reserve(records.length, p - l.leaves + 1 + leafBound(record) + SHA256_BLOCK_BYTES))
        return false;
      const out = this.bytes;
      const start = p;
      out[p++] = LEAF_PREFIX;
      p = writeLeafAt(out, p, record, out, l.salts + i * HASH_BYTES, texts);
      const length = p - start;
      // SHA-256 padding: 0x80, zeros up to the block's last 8 bytes, the bit length (a leaf is far below 2^32 bits).
      out[p++] = 0x80;
      const end = start + Math.ceil((length + 9) / SHA256_BLOCK_BYTES) * SHA256_BLOCK_BYTES;
      out.fill(0, p, end - 4);
      p = end - 4;
      const bits = length * 8;
      out[p++] = bits >>> 24;
      out[p++] = (bits >>> 16) & 0xff;
      out[p++] = (bits >>> 8) & 0xff;
      out[p++] = bits & 0xff;
      const d = (l.leafDescriptors + i * DESCRIPTOR_BYTES) / 4;
      const words = this.words;
      words[d] = start;
      words[d + 1] = (p - start) / SHA256_BLOCK_BYTES;
      words[d + 2] = IV_AT;
      words[d + 3] = l.hashes + i * HASH_BYTES;
    }
    return true;
  }

  root(records: readonly UplinkRecord[], seed: Uint8Array): Uint8Array | undefined {
    const n = records.length;
    if (n === 0 || seed.length !== SALT_SEED_BYTES || !this.reserve(n, 0)) return undefined;
    this.salts(seed, n);
    if (!this.writeLeaves(records)) return undefined;
    const l = this.layout;
    this.wasm.hash(l.leafDescriptors, n);
    // RFC 9162 MTH level by level in place, as rootOfFlatLeafHashes: an unpaired last node moves up.
    for (let width = n; width > 1; ) {
      const pairs = width >>> 1;
      this.wasm.nodes(l.hashes, pairs, l.nodeSlots);
      this.wasm.hash(l.nodeDescriptors, pairs);
      if (width % 2 === 1) {
        const last = l.hashes + (width - 1) * HASH_BYTES;
        this.bytes.copyWithin(l.hashes + pairs * HASH_BYTES, last, last + HASH_BYTES);
      }
      width = pairs + (width % 2);
    }
    return this.bytes.slice(l.hashes, l.hashes + HASH_BYTES);
  }
}

let hasher: LanesTreeHasher | null | undefined;

/** The shared hasher, made on first use; null where WebAssembly SIMD is not available. */
function lanesHasher(): LanesTreeHasher | null {
  if (hasher === undefined) {
    try {
      hasher = new LanesTreeHasher(instantiateSha256Lanes());
    } catch {
      // No WebAssembly SIMD here: bundleMerkleRoot (JavaScript) gives the same roots.
      hasher = null;
    }
  }
  return hasher;
}

/** Whether this runtime hashes trees in lanes (tests check both paths agree). */
export function lanesAvailable(): boolean {
  return lanesHasher() !== null;
}

/** MTH and tree size over one bundle's records: bundleMerkleRoot's values, hashed in lanes. */
export function bundleMerkleRootLanes(
  records: readonly UplinkRecord[],
  seed: Uint8Array,
): { root: Uint8Array; size: number } {
  const root = lanesHasher()?.root(records, seed);
  return root ? { root, size: records.length } : bundleMerkleRoot(records, seed);
}
