import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  leafHash,
  MerkleRootBuilder,
  MerkleTree,
  merkleRoot,
  rootFromInclusionProof,
  rootOfFlatLeafHashes,
  verifyInclusion,
} from './merkle.js';

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const endToEnd = (hashes: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(hashes));

/** RFC 9162 §2.1.1 MTH, written recursively and independently of the implementation. */
function referenceRoot(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Uint8Array.of(0), d[0] as Uint8Array);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(Uint8Array.of(1), referenceRoot(d.slice(0, k)), referenceRoot(d.slice(k)));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), recursively. */
function referencePath(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k
    ? [...referencePath(m, d.slice(0, k)), referenceRoot(d.slice(k))]
    : [...referencePath(m - k, d.slice(k)), referenceRoot(d.slice(0, k))];
}

// The eight leaves of the RFC 6962 reference tests (certificate-transparency's merkle tests).
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => new Uint8Array(Buffer.from(h, 'hex')));

describe('RFC 9162 Merkle tree', () => {
  it('has the reference roots', () => {
    expect(hex(merkleRoot([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(merkleRoot(CT_LEAVES.slice(0, 1)))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(hex(merkleRoot(CT_LEAVES))).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
  });

  it('agrees with the recursive definition for every size and leaf', () => {
    for (let n = 0; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => Uint8Array.of(i, n));
      const tree = MerkleTree.fromLeaves(leaves);
      expect(hex(tree.root)).toBe(hex(referenceRoot(leaves)));
      for (let m = 0; m < n; m++) {
        const proof = tree.inclusionProof(m);
        expect(proof.path.map(hex)).toEqual(referencePath(m, leaves).map(hex));
        expect(verifyInclusion(leafHash(leaves[m] as Uint8Array), proof, tree.root)).toBe(true);
      }
    }
  });

  it('builds the same root leaf by leaf, for every size up to 130 and the reference leaves', () => {
    const builder = new MerkleRootBuilder();
    expect(hex(builder.root)).toBe(hex(EMPTY_ROOT));
    for (const leaf of CT_LEAVES) builder.append(leafHash(leaf));
    expect(hex(builder.root)).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    const leaves: Uint8Array[] = [];
    const growing = new MerkleRootBuilder();
    for (let n = 1; n <= 130; n++) {
      const leaf = Uint8Array.of(n, n >> 8, 7);
      leaves.push(leaf);
      growing.append(leafHash(leaf));
      expect(growing.size).toBe(n);
      expect(hex(growing.root)).toBe(hex(referenceRoot(leaves)));
    }
  });

  it('gives the recursive root over leaf hashes laid end to end, for every size up to 130', () => {
    const leaves: Uint8Array[] = [];
    for (let n = 0; n <= 130; n++) {
      const flat = endToEnd(leaves.map(leafHash));
      expect(hex(rootOfFlatLeafHashes(flat))).toBe(hex(referenceRoot(leaves)));
      leaves.push(Uint8Array.of(n, n >> 8, 9));
    }
    expect(() => rootOfFlatLeafHashes(new Uint8Array(33))).toThrow(/whole leaf hashes/);
  });

  it("gives MerkleTree's root over random leaf hashes (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 300 }), (hashes) => {
        const flat = endToEnd(hashes);
        expect(hex(rootOfFlatLeafHashes(flat))).toBe(hex(MerkleTree.fromLeafHashes(hashes).root));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a proof for another leaf, another index or a changed path', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), (n, a, b) => {
        const leaves = Array.from({ length: n }, (_, i) => Uint8Array.of(i & 0xff, i >> 8));
        const tree = MerkleTree.fromLeaves(leaves);
        const m = a % n;
        const other = (m + 1 + (b % (n - 1))) % n;
        const proof = tree.inclusionProof(m);
        const leaf = leafHash(leaves[m] as Uint8Array);
        expect(verifyInclusion(leaf, proof, tree.root)).toBe(true);
        expect(verifyInclusion(leafHash(leaves[other] as Uint8Array), proof, tree.root)).toBe(false);
        expect(verifyInclusion(leaf, { ...proof, leafIndex: other }, tree.root)).toBe(false);
        // A proof's shape can fit a neighbouring tree size, so a signed root must name its size.
        expect(verifyInclusion(leaf, { ...proof, treeSize: 1, leafIndex: 0 }, tree.root)).toBe(false);
        if (proof.path.length > 0) {
          const path = proof.path.map((p) => p.slice());
          (path[b % path.length] as Uint8Array)[0] ^= 1;
          expect(verifyInclusion(leaf, { ...proof, path }, tree.root)).toBe(false);
          expect(verifyInclusion(leaf, { ...proof, path: proof.path.slice(1) }, tree.root)).toBe(false);
        }
      }),
    );
  });

  it('turns away malformed proofs without throwing', () => {
    const tree = MerkleTree.fromLeaves(CT_LEAVES);
    const leaf = tree.leafHashAt(3);
    expect(rootFromInclusionProof(leaf, { treeSize: 8, leafIndex: 8, path: [] })).toBeUndefined();
    expect(rootFromInclusionProof(leaf, { treeSize: 0, leafIndex: 0, path: [] })).toBeUndefined();
    expect(rootFromInclusionProof(leaf.slice(1), tree.inclusionProof(3))).toBeUndefined();
    expect(
      rootFromInclusionProof(leaf, {
        treeSize: 8,
        leafIndex: 3,
        path: [...tree.inclusionProof(3).path, leaf],
      }),
    ).toBeUndefined();
    expect(() => tree.inclusionProof(8)).toThrow(/outside a tree of 8 leaves/);
  });
});
