/**
 * Merkle trees as RFC 9162 §2.1 defines them (Certificate Transparency v2): SHA-256, leaves
 * hashed as H(0x00 ‖ leaf), interior nodes as H(0x01 ‖ left ‖ right), and the tree split at the
 * largest power of two smaller than its size, so a tree of any size has one root and every
 * leaf has one audit path. Building bottom-up and carrying an unpaired last node up a level
 * unchanged gives exactly the RFC's recursive MTH and PATH; the tests check both against the
 * recursive definition and the RFC 6962 reference vectors.
 */
import { sha256 } from '../bundle/sha256.js';
import { PaddedSha256Message } from '../bundle/sha256-blocks.js';
import { ErrorCode, MaverickError } from '../errors.js';

export const HASH_BYTES = 32;
/** RFC 9162: a leaf is hashed as H(0x00 ‖ leaf). */
export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

/** An inclusion proof (RFC 9162 §2.1.3): the leaf's index, the tree's size and the audit path. */
export interface InclusionProof {
  treeSize: number;
  leafIndex: number;
  /** Sibling hashes from the leaf's level upwards. */
  path: Uint8Array[];
}

export function leafHash(leaf: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + leaf.length);
  input[0] = LEAF_PREFIX;
  input.set(leaf, 1);
  return sha256(input);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  // One buffer and one native call per node: a bundle's tree hashes about as many nodes as leaves.
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/** MTH of the empty list: SHA-256 of nothing. */
export const EMPTY_ROOT = sha256(new Uint8Array(0));

/**
 * A whole tree kept level by level, for answering many inclusion proofs over one set of
 * leaves (a spot check draws twenty records from a year). Memory is about 2 × 32 bytes a leaf.
 */
export class MerkleTree {
  /** levels[0] holds the leaf hashes; the last level holds the root alone. */
  private readonly levels: Uint8Array[][];

  private constructor(levels: Uint8Array[][]) {
    this.levels = levels;
  }

  /** From leaf contents (each is hashed with the 0x00 prefix). */
  static fromLeaves(leaves: readonly Uint8Array[]): MerkleTree {
    return MerkleTree.fromLeafHashes(leaves.map(leafHash));
  }

  /** From leaf hashes already computed (H(0x00 ‖ leaf)). */
  static fromLeafHashes(hashes: readonly Uint8Array[]): MerkleTree {
    const levels: Uint8Array[][] = [hashes.slice()];
    let level = levels[0] as Uint8Array[];
    while (level.length > 1) {
      const up: Uint8Array[] = [];
      for (let i = 0; i + 1 < level.length; i += 2)
        up.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
      // An unpaired last node moves up unchanged: this is RFC 9162's split at the largest power of two.
      if (level.length % 2 === 1) up.push(level[level.length - 1] as Uint8Array);
      levels.push(up);
      level = up;
    }
    return new MerkleTree(levels);
  }

  get size(): number {
    return (this.levels[0] as Uint8Array[]).length;
  }

  get root(): Uint8Array {
    if (this.size === 0) return EMPTY_ROOT;
    return (this.levels[this.levels.length - 1] as Uint8Array[])[0] as Uint8Array;
  }

  leafHashAt(index: number): Uint8Array {
    this.checkIndex(index);
    return (this.levels[0] as Uint8Array[])[index] as Uint8Array;
  }

  /** The audit path of one leaf (RFC 9162 §2.1.3.1 PATH(m, D[n])). */
  inclusionProof(leafIndex: number): InclusionProof {
    this.checkIndex(leafIndex);
    const path: Uint8Array[] = [];
    let i = leafIndex;
    for (let depth = 0; depth < this.levels.length - 1; depth++) {
      const level = this.levels[depth] as Uint8Array[];
      const sibling = i ^ 1;
      if (sibling < level.length) path.push(level[sibling] as Uint8Array);
      i >>= 1;
    }
    return { treeSize: this.size, leafIndex, path };
  }

  private checkIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new MaverickError(
        ErrorCode.BundleMalformed,
        `leaf index ${index} is outside a tree of ${this.size} leaves`,
      );
    }
  }
}

/**
 * MTH over leaf hashes appended one at a time, in O(log n) memory: the roots of the perfect
 * subtrees the leaves so far form (one per set bit of the count, largest first). RFC 9162's
 * MTH splits a tree at its largest power of two, so the root is those subtree roots folded
 * from the right: the same root MerkleTree.fromLeafHashes gives for the same leaves.
 */
export class MerkleRootBuilder {
  /** Perfect subtree roots, largest (leftmost) first, with their leaf counts. */
  private readonly peaks: { hash: Uint8Array; leaves: number }[] = [];
  private count = 0;

  append(leafHashValue: Uint8Array): void {
    let peak = { hash: leafHashValue, leaves: 1 };
    let top = this.peaks.at(-1);
    while (top && top.leaves === peak.leaves) {
      this.peaks.pop();
      peak = { hash: nodeHash(top.hash, peak.hash), leaves: top.leaves * 2 };
      top = this.peaks.at(-1);
    }
    this.peaks.push(peak);
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  get root(): Uint8Array {
    let root: Uint8Array | undefined;
    for (let i = this.peaks.length - 1; i >= 0; i--) {
      const hash = (this.peaks[i] as { hash: Uint8Array }).hash;
      root = root ? nodeHash(hash, root) : hash;
    }
    return root ?? EMPTY_ROOT;
  }
}

/**
 * MTH over leaf hashes laid end to end in `hashes` (32 bytes each), computed level by level in
 * that buffer, which it overwrites: each node goes where its left child was, and an unpaired
 * last node moves up unchanged, as in MerkleTree.fromLeafHashes. The node hashes run in
 * JavaScript over one padded 65-byte input (sha256-blocks.ts), with no allocation per node.
 */
export function rootOfFlatLeafHashes(hashes: Uint8Array): Uint8Array {
  if (hashes.length % HASH_BYTES !== 0) {
    throw new MaverickError(ErrorCode.BundleMalformed, `${hashes.length} bytes are not whole leaf hashes`);
  }
  let width = hashes.length / HASH_BYTES;
  if (width === 0) return EMPTY_ROOT.slice();
  const node = new PaddedSha256Message(1 + 2 * HASH_BYTES);
  const input = node.bytes;
  input[0] = NODE_PREFIX;
  while (width > 1) {
    const pairs = width >>> 1;
    for (let k = 0; k < pairs; k++) {
      const from = 2 * k * HASH_BYTES;
      for (let i = 0; i < 2 * HASH_BYTES; i++) input[1 + i] = hashes[from + i] as number;
      node.digestInto(hashes, k * HASH_BYTES);
    }
    if (width % 2 === 1) hashes.copyWithin(pairs * HASH_BYTES, (width - 1) * HASH_BYTES, width * HASH_BYTES);
    width = pairs + (width % 2);
  }
  return hashes.slice(0, HASH_BYTES);
}

/** MTH(D[n]) without keeping the tree. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return MerkleTree.fromLeaves(leaves).root;
}

/**
 * The root an inclusion proof leads to from a leaf hash (RFC 9162 §2.1.3.2), or undefined when
 * the proof is malformed for its tree size (wrong path length, index out of range). Compare the
 * result with a root the verifier trusts (one a signature covers). A path can fit more than one
 * tree size, so whatever signs a root must sign its tree size with it.
 */
export function rootFromInclusionProof(
  leafHashValue: Uint8Array,
  proof: InclusionProof,
): Uint8Array | undefined {
  const { treeSize, leafIndex, path } = proof;
  if (!Number.isSafeInteger(treeSize) || !Number.isSafeInteger(leafIndex)) return undefined;
  if (leafIndex < 0 || leafIndex >= treeSize || leafHashValue.length !== HASH_BYTES) return undefined;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHashValue;
  for (const p of path) {
    if (p.length !== HASH_BYTES || sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        // A right edge: climb until this node is a right child again (or the root's left spine).
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** True when `proof` shows the leaf with hash `leafHashValue` inside the tree whose root is `root`. */
export function verifyInclusion(leafHashValue: Uint8Array, proof: InclusionProof, root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(leafHashValue, proof);
  if (!computed || computed.length !== root.length) return false;
  let diff = 0;
  for (let i = 0; i < root.length; i++) diff |= (computed[i] as number) ^ (root[i] as number);
  return diff === 0;
}
