/**
 * A second, browser-safe reading of proto/proof/PROOF.md: period statements (§5), receipts
 * (§6) and leaves (§1), written from the document on @noble primitives so that the evidence
 * verifier runs in a web page as well as in the CLI. proto/proof/ is the gateway's side (it
 * builds and signs with node:crypto); the tests check that the two agree on every object.
 */
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborValue, encodeCbor } from '../bundle/cbor-encode.js';
import { sameBytes, sha256, verifyEd25519 } from './hash.js';

export const PERIOD_TYPE = 'application/vnd.maverick.period+cbor';
const SIGN1 = 18;
const LABEL = { alg: 1, type: 3, kid: 4, cwt: 15, vds: 395, vdp: 396, period: -65538 } as const;
const TIME_SOURCE_NAMES = ['gps', 'ntp', 'host-unsynced'] as const;

/** A check that failed, with the reason a person can act on. */
export class EvidenceCheckError extends Error {}

const fail = (message: string): never => {
  throw new EvidenceCheckError(message);
};

export interface PeriodHeaderFields {
  kid: Uint8Array;
  iss: string;
  sub: string;
  /** Unix seconds. */
  iat: number;
  fromDay: number;
  toDay: number;
  leaves: number;
  days: number;
  daysRoot: Uint8Array;
}

export interface CheckedStatement extends PeriodHeaderFields {
  root: Uint8Array;
  protectedBytes: Uint8Array;
  signature: Uint8Array;
}

const isUint = (v: CborValue | undefined): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function sign1Parts(bytes: Uint8Array, what: string): CborValue[] {
  const value = decodeCbor(bytes, { topLevelTag: SIGN1, maxDepth: 6 });
  if (!Array.isArray(value) || value.length !== 4) fail(`${what} is not a COSE_Sign1 array of 4`);
  return value as CborValue[];
}

/** The protected header of a period statement or receipt, read strictly (PROOF.md §5). */
export function readPeriodHeader(protectedBytes: Uint8Array): PeriodHeaderFields {
  const h = decodeCbor(protectedBytes, { maxDepth: 3 });
  if (!(h instanceof Map) || h.size !== 6) return fail('period header must hold exactly 6 labels');
  const alg = h.get(LABEL.alg);
  if (alg !== -8 && alg !== -19) fail(`algorithm ${String(alg)} is not EdDSA`);
  if (h.get(LABEL.type) !== PERIOD_TYPE) fail('content type is not a period statement');
  if (h.get(LABEL.vds) !== 1) fail('vds (395) is not RFC9162_SHA256');
  const kid = h.get(LABEL.kid);
  const cwt = h.get(LABEL.cwt);
  const period = h.get(LABEL.period);
  if (!(kid instanceof Uint8Array) || kid.length === 0 || kid.length > 32) fail('kid must be bytes');
  if (!(cwt instanceof Map) || cwt.size !== 3) return fail('CWT claims must hold iss, sub, iat');
  const [iss, sub, iat] = [cwt.get(1), cwt.get(2), cwt.get(6)];
  if (typeof iss !== 'string' || typeof sub !== 'string' || !isUint(iat)) return fail('CWT claims malformed');
  if (!Array.isArray(period) || period.length !== 5) return fail('period (-65538) must have 5 elements');
  const [fromDay, toDay, leaves, days, daysRoot] = period;
  if (!isUint(fromDay) || !isUint(toDay) || !isUint(leaves) || !isUint(days) || toDay < fromDay)
    return fail('period range and counts malformed');
  if (!(daysRoot instanceof Uint8Array) || daysRoot.length !== 32) return fail('days root must be 32 bytes');
  return { kid: kid as Uint8Array, iss, sub, iat, fromDay, toDay, leaves, days, daysRoot };
}

function signedBy(
  protectedBytes: Uint8Array,
  root: Uint8Array,
  signature: Uint8Array,
  key: Uint8Array,
): boolean {
  const toBeSigned = encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), root]);
  return verifyEd25519(signature, toBeSigned, key);
}

/** Verifies a period statement with the public key the caller found for its kid. */
export function checkStatement(
  bytes: Uint8Array,
  keyFor: (h: PeriodHeaderFields) => Uint8Array,
): CheckedStatement {
  const [protectedBytes, unprotected, root, signature] = sign1Parts(bytes, 'statement');
  if (!(protectedBytes instanceof Uint8Array)) return fail('protected header must be bytes');
  if (!(unprotected instanceof Map) || unprotected.size !== 0)
    fail('statement unprotected header must be empty');
  if (!(root instanceof Uint8Array) || root.length !== 32)
    return fail('statement payload must be the 32-byte root');
  if (!(signature instanceof Uint8Array) || signature.length !== 64)
    return fail('signature must be 64 bytes');
  const header = readPeriodHeader(protectedBytes);
  if (!signedBy(protectedBytes, root, signature, keyFor(header)))
    fail('Ed25519 signature does not verify (changed root, size or range?)');
  return { ...header, root, protectedBytes, signature };
}

export interface ReceiptProof {
  treeSize: number;
  leafIndex: number;
  path: Uint8Array[];
}

export interface ParsedReceipt {
  protectedBytes: Uint8Array;
  signature: Uint8Array;
  proofs: ReceiptProof[];
}

/** Reads a COSE Receipt (RFC 9942, PROOF.md §6) strictly; nothing verified yet. */
export function readReceipt(bytes: Uint8Array): ParsedReceipt {
  const [protectedBytes, unprotected, payload, signature] = sign1Parts(bytes, 'receipt');
  if (!(protectedBytes instanceof Uint8Array)) return fail('receipt protected header must be bytes');
  if (payload !== null) fail('receipt payload must be detached (nil)');
  if (!(signature instanceof Uint8Array) || signature.length !== 64)
    return fail('receipt signature must be 64 bytes');
  const vdp = unprotected instanceof Map && unprotected.size === 1 ? unprotected.get(LABEL.vdp) : undefined;
  const list = vdp instanceof Map && vdp.size === 1 ? vdp.get(-1) : undefined;
  if (!Array.isArray(list) || list.length === 0)
    return fail('receipt must carry 396 (vdp) ⇒ {-1: [proofs]} alone');
  const proofs = list.map((p): ReceiptProof => {
    const v = p instanceof Uint8Array ? decodeCbor(p, { maxDepth: 3 }) : undefined;
    if (!Array.isArray(v) || v.length !== 3)
      return fail('an inclusion proof is bstr .cbor [size, index, path]');
    const [treeSize, leafIndex, path] = v;
    if (!isUint(treeSize) || !isUint(leafIndex) || leafIndex >= treeSize)
      return fail('inclusion proof index out of its tree');
    if (!Array.isArray(path) || path.length > 64) return fail('inclusion path must be an array');
    const hashes = path.map((x) =>
      x instanceof Uint8Array && x.length === 32 ? x : fail('a path element is 32 bytes'),
    );
    return { treeSize, leafIndex, path: hashes };
  });
  return { protectedBytes, signature, proofs };
}

const node = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);
export const leafDigest = (leaf: Uint8Array): Uint8Array => sha256(Uint8Array.of(0), leaf);

/**
 * The root an audit path leads to, following the recursive definition of RFC 9162 §2.1.3.1:
 * PATH(m, D[n]) ends with the sibling subtree at the top split k (largest power of two < n).
 */
export function climb(
  index: number,
  size: number,
  hash: Uint8Array,
  path: readonly Uint8Array[],
): Uint8Array | undefined {
  if (size === 1) return path.length === 0 ? hash : undefined;
  if (path.length === 0 || index >= size) return undefined;
  let k = 1;
  while (k * 2 < size) k *= 2;
  const top = path[path.length - 1] as Uint8Array;
  const below = path.slice(0, -1);
  if (index < k) {
    const left = climb(index, k, hash, below);
    return left && node(left, top);
  }
  const right = climb(index - k, size - k, hash, below);
  return right && node(top, right);
}

/** True when `proof` puts `leaf` at its index in the tree of `statement` (size and root signed). */
export function proofHolds(leaf: Uint8Array, proof: ReceiptProof, statement: CheckedStatement): boolean {
  if (proof.treeSize !== statement.leaves) return false;
  const root = climb(proof.leafIndex, proof.treeSize, leafDigest(leaf), proof.path);
  return !!root && sameBytes(root, statement.root);
}

/** A receipt belongs to a statement when it carries its protected header and signature unchanged. */
export function receiptOf(receipt: ParsedReceipt, statement: CheckedStatement): boolean {
  return (
    sameBytes(receipt.protectedBytes, statement.protectedBytes) &&
    sameBytes(receipt.signature, statement.signature)
  );
}

export interface DisclosedRecord {
  salt: Uint8Array;
  devEui: Uint8Array;
  session: number;
  fCnt: number;
  time: number;
  timeSource: (typeof TIME_SOURCE_NAMES)[number];
  plotId: string | null;
  readings: { field: string; scale: number; value: number }[];
}

const utf8 = new TextEncoder();

/** Text order by UTF-8 bytes, as deterministic CBOR sorts. */
function utf8Order(a: string, b: string): number {
  const [x, y] = [utf8.encode(a), utf8.encode(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/** A disclosed leaf read as its record (PROOF.md §1); only the one canonical encoding is accepted. */
export function readLeaf(bytes: Uint8Array): DisclosedRecord {
  const v = decodeCbor(bytes, { maxDepth: 4 });
  if (!Array.isArray(v) || v.length !== 8) return fail('a leaf is an array of 8');
  const [salt, devEui, session, fCnt, time, source, plotId, readings] = v;
  if (!(salt instanceof Uint8Array) || salt.length !== 16) return fail('leaf salt must be 16 bytes');
  if (!(devEui instanceof Uint8Array) || devEui.length !== 8) return fail('leaf DevEUI must be 8 bytes');
  if (!isUint(session) || !isUint(fCnt) || !isUint(time) || !isUint(source))
    return fail('leaf counters malformed');
  const timeSource = TIME_SOURCE_NAMES[source] ?? fail('leaf time source must be 0, 1 or 2');
  if (plotId !== null && typeof plotId !== 'string') return fail('leaf plot must be text or null');
  if (!Array.isArray(readings)) return fail('leaf readings must be an array');
  const parsed = readings.map((r) => {
    if (!Array.isArray(r) || r.length !== 3) return fail('a reading is [field, scale, value]');
    const [field, scale, value] = r;
    if (typeof field !== 'string' || typeof scale !== 'number' || typeof value !== 'number')
      return fail('reading malformed');
    return { field, scale, value };
  });
  for (let i = 1; i < parsed.length; i++) {
    const [a, b] = [
      parsed[i - 1] as { field: string; scale: number },
      parsed[i] as { field: string; scale: number },
    ];
    if ((utf8Order(a.field, b.field) || a.scale - b.scale) >= 0)
      fail('leaf readings are not in their canonical order');
  }
  return { salt, devEui, session, fCnt, time, timeSource, plotId, readings: parsed };
}
