/**
 * Period statements (PROOF.md §5): the gateway's one signature over a closed range of days.
 * The signed payload is the period root, the RFC 9162 MTH over every record of the range (days
 * ascending, bundles in sequence order, leaves in bundle order); the protected header signs the
 * range, the tree size the root belongs to, and the days root over [day, day root, day leaves]
 * entries, which ties the statement to the daily commitments. In RFC 9942 form (vds 1), so the
 * same signature serves as the receipts of receipt.ts.
 */
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborMap, type CborValue, encodeCbor, encodeTaggedCbor } from '../bundle/cbor-encode.js';
import {
  ALG_ED25519,
  ALG_EDDSA,
  type BundleClaims,
  ClaimKey,
  COSE_SIGN1_TAG,
  HeaderLabel,
  type KeyResolver,
  parseClaims,
  type SigningKey,
  sigStructure,
} from '../bundle/cose.js';
import { ED25519_SIGNATURE_BYTES, ed25519Sign, ed25519Verify, toHex } from '../bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../errors.js';
import { COSE_LABEL, PERIOD_CONTENT_TYPE, VDS_RFC9162_SHA256 } from './labels.js';
import { HASH_BYTES, MerkleRootBuilder, MerkleTree } from './merkle.js';

/** What a period statement signs. Days are UTC day numbers, both ends inclusive. */
export interface PeriodStatement {
  fromDay: number;
  toDay: number;
  /** Tree size of the period root: records in the period. */
  leaves: number;
  /** Entries in the day list (days with a version-2 commitment). */
  days: number;
  /** MTH over dCBOR([day, day root, day leaves]) entries, days ascending. */
  daysRoot: Uint8Array;
  /** MTH over every record leaf of the period. */
  root: Uint8Array;
}

/** One day's records, as the gateway (or the regional node) rebuilds them from its bundles. */
export interface DayLeaves {
  day: number;
  /** RFC 9162 leaf hashes in day order (bundles by sequence, leaves in bundle order). */
  leafHashes: readonly Uint8Array[];
}

/** The day-list entry of PROOF.md §5: dCBOR([day, day root, day leaves]). */
export function dayListEntry(day: number, dayRoot: Uint8Array, dayLeaves: number): Uint8Array {
  return encodeCbor([day, dayRoot, dayLeaves]);
}

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `period statement: ${message}`);
}

function checkRange(fromDay: number, toDay: number): void {
  if (!Number.isSafeInteger(fromDay) || !Number.isSafeInteger(toDay) || fromDay < 0 || toDay < fromDay) {
    throw malformed(`day range ${fromDay}..${toDay} is not an ordered pair of UTC day numbers`);
  }
}

export interface BuiltPeriod {
  statement: PeriodStatement;
  /** The period tree, for answering inclusion proofs (leaf index = position in the period). */
  tree: MerkleTree;
}

/**
 * A period statement built day by day, days ascending: what it keeps is one day-list entry per
 * day and O(log n) subtree roots of the period's leaves, so a store can feed it a month of
 * records one day's leaf hashes at a time. Days outside [fromDay, toDay], given twice or out of
 * order are refused; days without records contribute nothing (and no day-list entry).
 */
export class PeriodBuilder {
  private readonly entries: Uint8Array[] = [];
  private readonly period = new MerkleRootBuilder();
  private lastDay = Number.NEGATIVE_INFINITY;

  constructor(
    readonly fromDay: number,
    readonly toDay: number,
  ) {
    checkRange(fromDay, toDay);
  }

  addDay(day: number, leafHashes: readonly Uint8Array[]): void {
    if (leafHashes.length === 0) return;
    if (day < this.fromDay || day > this.toDay) {
      throw malformed(`day ${day} lies outside ${this.fromDay}..${this.toDay}`);
    }
    if (day === this.lastDay) throw malformed(`day ${day} given twice`);
    if (day < this.lastDay) throw malformed(`day ${day} given after day ${this.lastDay}: days go ascending`);
    this.lastDay = day;
    const dayRoot = new MerkleRootBuilder();
    for (const h of leafHashes) {
      dayRoot.append(h);
      this.period.append(h);
    }
    this.entries.push(dayListEntry(day, dayRoot.root, dayRoot.size));
  }

  statement(): PeriodStatement {
    return {
      fromDay: this.fromDay,
      toDay: this.toDay,
      leaves: this.period.size,
      days: this.entries.length,
      daysRoot: MerkleTree.fromLeaves(this.entries).root,
      root: this.period.root,
    };
  }
}

/**
 * Builds the period over its days' leaves (any order), with the whole tree for inclusion
 * proofs. Days outside [fromDay, toDay] or given twice are refused.
 */
export function buildPeriod(fromDay: number, toDay: number, days: readonly DayLeaves[]): BuiltPeriod {
  const builder = new PeriodBuilder(fromDay, toDay);
  const sorted = [...days].filter((d) => d.leafHashes.length > 0).sort((a, b) => a.day - b.day);
  for (const d of sorted) builder.addDay(d.day, d.leafHashes);
  return {
    statement: builder.statement(),
    tree: MerkleTree.fromLeafHashes(sorted.flatMap((d) => d.leafHashes)),
  };
}

/** The protected header bytes of a period statement (shared byte-for-byte by its receipts). */
function protectedHeader(s: PeriodStatement, kid: Uint8Array, claims: BundleClaims): Uint8Array {
  const cwt: CborMap = new Map<number, CborValue>([
    [ClaimKey.iss, claims.iss],
    [ClaimKey.sub, claims.sub],
    [ClaimKey.iat, claims.iat],
  ]);
  return encodeCbor(
    new Map<number, CborValue>([
      [HeaderLabel.alg, ALG_EDDSA],
      [HeaderLabel.contentType, PERIOD_CONTENT_TYPE],
      [HeaderLabel.kid, kid],
      [HeaderLabel.cwtClaims, cwt],
      [COSE_LABEL.vds, VDS_RFC9162_SHA256],
      [COSE_LABEL.period, [s.fromDay, s.toDay, s.leaves, s.days, s.daysRoot]],
    ]),
  );
}

/** Signs a period statement: COSE_Sign1 with the period root attached as payload. */
export function signPeriodStatement(s: PeriodStatement, key: SigningKey, claims: BundleClaims): Uint8Array {
  checkRange(s.fromDay, s.toDay);
  if (s.root.length !== HASH_BYTES || s.daysRoot.length !== HASH_BYTES) throw malformed('roots are 32 bytes');
  if (!Number.isSafeInteger(claims.iat) || claims.iat < 0)
    throw malformed(`iat ${claims.iat} is not Unix seconds`);
  const protectedBytes = protectedHeader(s, key.kid, claims);
  const signature = ed25519Sign(sigStructure(protectedBytes, s.root), key.secretKey);
  return encodeTaggedCbor(COSE_SIGN1_TAG, [protectedBytes, new Map(), s.root, signature]);
}

/** The signed parts of a period statement's protected header, parsed (not yet verified). */
export interface PeriodHeader {
  kid: Uint8Array;
  claims: BundleClaims;
  /** The statement without its root (the root is the payload, or recomputed by a receipt). */
  period: Omit<PeriodStatement, 'root'>;
}

const PERIOD_LABELS: readonly number[] = [
  HeaderLabel.alg,
  HeaderLabel.contentType,
  HeaderLabel.kid,
  HeaderLabel.cwtClaims,
  COSE_LABEL.vds,
  COSE_LABEL.period,
];

function uint(v: CborValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses the protected header of a period statement or of one of its receipts. */
export function parsePeriodHeader(protectedBytes: Uint8Array): PeriodHeader {
  const header = decodeCbor(protectedBytes, { maxDepth: 3 });
  if (!(header instanceof Map) || header.size !== PERIOD_LABELS.length) {
    throw malformed(`protected header must hold exactly labels ${PERIOD_LABELS.join(', ')}`);
  }
  for (const label of header.keys()) {
    if (!PERIOD_LABELS.includes(label as number)) throw malformed(`unexpected protected label ${label}`);
  }
  const alg = header.get(HeaderLabel.alg);
  if (alg !== ALG_EDDSA && alg !== ALG_ED25519) throw malformed(`algorithm ${String(alg)} is not EdDSA`);
  if (header.get(HeaderLabel.contentType) !== PERIOD_CONTENT_TYPE) {
    throw malformed(`content type is not ${PERIOD_CONTENT_TYPE}`);
  }
  if (header.get(COSE_LABEL.vds) !== VDS_RFC9162_SHA256)
    throw malformed('vds (395) must be 1, RFC9162_SHA256');
  const kid = header.get(HeaderLabel.kid);
  if (!(kid instanceof Uint8Array) || kid.length === 0 || kid.length > 32)
    throw malformed('kid must be bytes');
  const claims = parseClaims(header.get(HeaderLabel.cwtClaims));
  const p = header.get(COSE_LABEL.period);
  if (!Array.isArray(p) || p.length !== 5)
    throw malformed('period (-65538) must be [from, to, leaves, days, days root]');
  const [fromDay, toDay, leaves, days, daysRoot] = p;
  if (!uint(fromDay) || !uint(toDay) || !uint(leaves) || !uint(days) || toDay < fromDay) {
    throw malformed('period days, leaves and day count must be unsigned integers, from ≤ to');
  }
  if (!(daysRoot instanceof Uint8Array) || daysRoot.length !== HASH_BYTES)
    throw malformed('days root must be 32 bytes');
  return { kid, claims, period: { fromDay, toDay, leaves, days, daysRoot } };
}

/** Checks the signature over `root` with the key the header names; throws Bundle* errors. */
export function checkPeriodSignature(
  protectedBytes: Uint8Array,
  header: PeriodHeader,
  root: Uint8Array,
  signature: Uint8Array,
  resolveKey: KeyResolver,
): void {
  const publicKey = resolveKey(header.kid);
  if (!publicKey) {
    throw new MaverickError(ErrorCode.BundleUnknownKey, `no registered key with kid ${toHex(header.kid)}`, {
      hint: "register the gateway's public key before verifying its statements",
      context: { kid: toHex(header.kid), iss: header.claims.iss },
    });
  }
  if (!ed25519Verify(signature, sigStructure(protectedBytes, root), publicKey)) {
    throw new MaverickError(
      ErrorCode.BundleBadSignature,
      `period statement signature does not verify for kid ${toHex(header.kid)} (changed root, size or range?)`,
      { context: { kid: toHex(header.kid), iss: header.claims.iss } },
    );
  }
}

export interface VerifiedPeriodStatement extends PeriodHeader {
  statement: PeriodStatement;
  protectedBytes: Uint8Array;
  signature: Uint8Array;
}

/** Verifies an untrusted period statement from the gateway's registered key alone. */
export function verifyPeriodStatement(cose: Uint8Array, resolveKey: KeyResolver): VerifiedPeriodStatement {
  if (cose.length > 4096) throw malformed(`${cose.length} bytes is far beyond any statement`);
  const root = decodeCbor(cose, { topLevelTag: COSE_SIGN1_TAG, maxDepth: 4 });
  if (!Array.isArray(root) || root.length !== 4) throw malformed('must be a COSE_Sign1 array of 4');
  const [protectedBytes, unprotected, payload, signature] = root;
  if (!(protectedBytes instanceof Uint8Array)) throw malformed('protected header must be a byte string');
  if (!(unprotected instanceof Map) || unprotected.size !== 0)
    throw malformed('unprotected header must be empty');
  if (!(payload instanceof Uint8Array) || payload.length !== HASH_BYTES)
    throw malformed('payload must be the 32-byte root');
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES)
    throw malformed('signature must be 64 bytes');
  const header = parsePeriodHeader(protectedBytes);
  checkPeriodSignature(protectedBytes, header, payload, signature, resolveKey);
  return { ...header, statement: { ...header.period, root: payload }, protectedBytes, signature };
}
