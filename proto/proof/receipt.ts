/**
 * COSE Receipts (RFC 9942) for the RFC9162_SHA256 verifiable data structure, over Maverick's
 * period statements (PROOF.md §6). A receipt is the statement's protected header and signature
 * with the payload detached (the verifier recomputes the root from a disclosed leaf) and the
 * inclusion proofs in the unprotected header: 396 (vdp) ⇒ { −1 ⇒ [+ bstr .cbor
 * [tree-size, leaf-index, [path]]] }. Several proofs share one signature (one spot check).
 */
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborValue, encodeCbor, encodeTaggedCbor } from '../bundle/cbor-encode.js';
import { COSE_SIGN1_TAG, type KeyResolver } from '../bundle/cose.js';
import { ED25519_SIGNATURE_BYTES } from '../bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../errors.js';
import { COSE_LABEL, VDP_INCLUSION_PROOFS } from './labels.js';
import { HASH_BYTES, type InclusionProof, leafHash, rootFromInclusionProof } from './merkle.js';
import {
  checkPeriodSignature,
  type PeriodHeader,
  type PeriodStatement,
  parsePeriodHeader,
  verifyPeriodStatement,
} from './period.js';

/** The most proofs one receipt may carry, and the deepest path: bounds on untrusted input. */
export const MAX_RECEIPT_PROOFS = 1024;
const MAX_PATH = 64;

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `receipt: ${message}`);
}

/** bstr .cbor inclusion-proof = [tree-size, leaf-index, [path]] (RFC 9942 §5.2). */
export function encodeInclusionProof(proof: InclusionProof): Uint8Array {
  return encodeCbor([proof.treeSize, proof.leafIndex, proof.path]);
}

export function decodeInclusionProof(bytes: Uint8Array): InclusionProof {
  const value = decodeCbor(bytes, { maxDepth: 3 });
  if (!Array.isArray(value) || value.length !== 3)
    throw malformed('an inclusion proof is [tree-size, leaf-index, path]');
  const [treeSize, leafIndex, path] = value;
  if (typeof treeSize !== 'number' || typeof leafIndex !== 'number' || treeSize < 1 || leafIndex < 0) {
    throw malformed('tree size and leaf index must be unsigned integers, the size at least 1');
  }
  if (leafIndex >= treeSize) throw malformed(`leaf index ${leafIndex} is outside a tree of ${treeSize}`);
  if (!Array.isArray(path) || path.length > MAX_PATH) throw malformed('path must be an array of hashes');
  const hashes = path.map((h) => {
    if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) throw malformed('a path element is 32 bytes');
    return h;
  });
  return { treeSize, leafIndex, path: hashes };
}

/**
 * A receipt for `proofs` (leaves of the statement's period tree) from the signed statement's
 * bytes: same protected header and signature, payload detached.
 */
export function encodeReceipt(statementCose: Uint8Array, proofs: readonly InclusionProof[]): Uint8Array {
  if (proofs.length === 0 || proofs.length > MAX_RECEIPT_PROOFS) {
    throw malformed(`a receipt carries 1..${MAX_RECEIPT_PROOFS} proofs, not ${proofs.length}`);
  }
  const value = decodeCbor(statementCose, { topLevelTag: COSE_SIGN1_TAG, maxDepth: 4 });
  if (!Array.isArray(value) || value.length !== 4) throw malformed('statement is not a COSE_Sign1');
  const [protectedBytes, , , signature] = value;
  if (!(protectedBytes instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw malformed('statement is not a COSE_Sign1');
  }
  const header = parsePeriodHeader(protectedBytes);
  for (const p of proofs) {
    if (p.treeSize !== header.period.leaves) {
      throw malformed(
        `a proof for tree size ${p.treeSize} cannot ride a statement of ${header.period.leaves} leaves`,
      );
    }
  }
  const vdp = new Map<number, CborValue>([[VDP_INCLUSION_PROOFS, proofs.map(encodeInclusionProof)]]);
  return encodeTaggedCbor(COSE_SIGN1_TAG, [
    protectedBytes,
    new Map([[COSE_LABEL.vdp, vdp]]),
    null,
    signature,
  ]);
}

export interface DecodedReceipt {
  protectedBytes: Uint8Array;
  header: PeriodHeader;
  proofs: InclusionProof[];
  signature: Uint8Array;
}

/** Parses untrusted receipt bytes strictly; nothing is verified yet. */
export function decodeReceipt(bytes: Uint8Array): DecodedReceipt {
  if (bytes.length > 256 * 1024) throw malformed(`${bytes.length} bytes is beyond any receipt`);
  const value = decodeCbor(bytes, { topLevelTag: COSE_SIGN1_TAG, maxDepth: 6 });
  if (!Array.isArray(value) || value.length !== 4) throw malformed('must be a COSE_Sign1 array of 4');
  const [protectedBytes, unprotected, payload, signature] = value;
  if (!(protectedBytes instanceof Uint8Array)) throw malformed('protected header must be a byte string');
  if (payload !== null) throw malformed('payload must be detached (nil): the verifier recomputes the root');
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) {
    throw malformed('signature must be 64 bytes');
  }
  if (!(unprotected instanceof Map) || unprotected.size !== 1)
    throw malformed('unprotected header must hold only 396 (vdp)');
  const vdp = unprotected.get(COSE_LABEL.vdp);
  if (!(vdp instanceof Map) || vdp.size !== 1)
    throw malformed('396 (vdp) must hold only -1 (inclusion proofs)');
  const raw = vdp.get(VDP_INCLUSION_PROOFS);
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_RECEIPT_PROOFS) {
    throw malformed(`-1 must be an array of 1..${MAX_RECEIPT_PROOFS} inclusion proofs`);
  }
  const proofs = raw.map((p) => {
    if (!(p instanceof Uint8Array)) throw malformed('each inclusion proof is a byte string (bstr .cbor)');
    return decodeInclusionProof(p);
  });
  return { protectedBytes, header: parsePeriodHeader(protectedBytes), proofs, signature };
}

export interface VerifiedReceipt {
  header: PeriodHeader;
  /** The statement with the recomputed (and now signature-checked) root. */
  statement: PeriodStatement;
  proofs: InclusionProof[];
}

/**
 * Verifies a receipt for disclosed leaves (their full leaf bytes, one per proof, in order):
 * each proof's tree size is the signed one, all lead to one root, and the statement's
 * signature holds over that root. Throws BundleMalformed (shape, size, mismatched roots),
 * BundleUnknownKey or BundleBadSignature.
 */
export function verifyReceipt(
  receipt: Uint8Array,
  leaves: readonly Uint8Array[],
  resolveKey: KeyResolver,
): VerifiedReceipt {
  const decoded = decodeReceipt(receipt);
  const { header, proofs } = decoded;
  if (leaves.length !== proofs.length) {
    throw malformed(`${proofs.length} proofs for ${leaves.length} disclosed leaves`);
  }
  let root: Uint8Array | undefined;
  proofs.forEach((proof, i) => {
    if (proof.treeSize !== header.period.leaves) {
      throw malformed(
        `proof ${i} is for a tree of ${proof.treeSize}, the statement signs ${header.period.leaves}`,
      );
    }
    const computed = rootFromInclusionProof(leafHash(leaves[i] as Uint8Array), proof);
    if (!computed)
      throw malformed(`proof ${i}: path does not fit leaf ${proof.leafIndex} of ${proof.treeSize}`);
    if (root && Buffer.compare(root, computed) !== 0) {
      throw malformed(
        `proof ${i} leads to another root than proof 0: a changed record or a proof for another leaf`,
      );
    }
    root = computed;
  });
  const recomputed = root as Uint8Array;
  checkPeriodSignature(decoded.protectedBytes, header, recomputed, decoded.signature, resolveKey);
  return { header, statement: { ...header.period, root: recomputed }, proofs };
}

/** True when a receipt and a statement carry the same signed header and signature. */
export function receiptMatchesStatement(
  receipt: Uint8Array,
  statementCose: Uint8Array,
  resolveKey: KeyResolver,
): boolean {
  const r = decodeReceipt(receipt);
  const s = verifyPeriodStatement(statementCose, resolveKey);
  return (
    Buffer.compare(r.protectedBytes, s.protectedBytes) === 0 && Buffer.compare(r.signature, s.signature) === 0
  );
}
