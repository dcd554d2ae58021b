/**
 * The daily commitment (BUNDLE.md §6): one signed COSE_Sign1 small enough for
 * a single 340-byte satellite message, committing to the day's bundles by a
 * digest over their digests. A regional node that later receives the bundles
 * checks them against it; until then it knows how much evidence exists.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, MaverickError } from '../errors.js';
import { decodeCbor } from './cbor-decode.js';
import { type CborMap, type CborValue, encodeCbor } from './cbor-encode.js';
import {
  type BundleClaims,
  type KeyResolver,
  type SigningKey,
  signSign1,
  type VerifiedSign1,
  verifySign1,
} from './cose.js';
import { TIME_SOURCES, type TimeRange, type TimeSource } from './types.js';

export const COMMITMENT_CONTENT_TYPE = 'application/vnd.maverick.commitment+cbor';
export const COMMITMENT_MAX_BYTES = 340;
/** Version 1: bundle digests only. Version 2 adds the day's leaf count and Merkle root (PROOF.md §4). */
export type CommitmentVersion = 1 | 2;

export interface DailyCommitment {
  /** Days since 1970-01-01 (UTC). */
  day: number;
  seqFirst: number;
  seqLast: number;
  /** SHA-256 over the concatenated SHA-256 digests of the day's bundles, in sequence order. */
  digest: Uint8Array;
  bundles: number;
  uplinks: number;
  timeRange: TimeRange;
  timeSources: Record<TimeSource, number>;
  /** Version 2: the day tree's size, always equal to `uplinks` (not encoded twice). */
  leaves?: number;
  /** Version 2 (key 8): RFC 9162 MTH over the day's leaves, bundles in sequence order. */
  dayRoot?: Uint8Array;
}

export function commitmentVersion(c: DailyCommitment): CommitmentVersion {
  return c.dayRoot === undefined ? 1 : 2;
}

/** The commitment digest for bundle digests given in sequence order. */
export function commitmentDigest(bundleDigests: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const d of bundleDigests) hash.update(d);
  return new Uint8Array(hash.digest());
}

function toCbor(c: DailyCommitment): CborMap {
  const map = new Map<number, CborValue>([
    [0, commitmentVersion(c)],
    [1, c.day],
    [2, [c.seqFirst, c.seqLast]],
    [3, c.digest],
    [4, c.bundles],
    [5, c.uplinks],
    [6, [c.timeRange.start, c.timeRange.end]],
    [7, TIME_SOURCES.map((s) => c.timeSources[s])],
  ]);
  // Version 2: the day root. Its tree size is key 5 (every uplink of the day is a leaf), not repeated.
  if (c.dayRoot !== undefined) map.set(8, c.dayRoot);
  return map;
}

function malformed(message: string): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `daily commitment: ${message}`);
}

export function signCommitment(c: DailyCommitment, key: SigningKey, claims: BundleClaims): Uint8Array {
  if (c.digest.length !== 32) throw malformed('digest must be 32 bytes');
  if (c.dayRoot !== undefined && (c.dayRoot.length !== 32 || c.leaves !== c.uplinks)) {
    throw malformed(
      'a version 2 commitment needs a 32-byte day root over all of its uplinks (leaves = uplinks)',
    );
  }
  const cose = signSign1(encodeCbor(toCbor(c)), key, COMMITMENT_CONTENT_TYPE, claims);
  if (cose.length > COMMITMENT_MAX_BYTES) {
    throw malformed(
      `signed commitment is ${cose.length} bytes, over the ${COMMITMENT_MAX_BYTES}-byte message`,
    );
  }
  return cose;
}

function uints(value: CborValue | undefined, n: number, what: string): number[] {
  if (!Array.isArray(value) || value.length !== n || !value.every((v) => typeof v === 'number' && v >= 0)) {
    throw malformed(`${what} must be ${n} unsigned integers`);
  }
  return value as number[];
}

export function verifyCommitment(
  cose: Uint8Array,
  resolveKey: KeyResolver,
): { envelope: VerifiedSign1; commitment: DailyCommitment } {
  const envelope = verifySign1(cose, resolveKey, { maxBytes: COMMITMENT_MAX_BYTES });
  if (envelope.contentType !== COMMITMENT_CONTENT_TYPE)
    throw malformed(`content type ${envelope.contentType}`);
  const map = decodeCbor(envelope.payload, { maxDepth: 2 });
  const version = map instanceof Map ? map.get(0) : undefined;
  if (!(map instanceof Map) || (version !== 1 && version !== 2) || map.size !== (version === 1 ? 8 : 9)) {
    throw malformed('unexpected shape or version (1: keys 0..7, 2: keys 0..8)');
  }
  const [day, bundles, uplinks] = [map.get(1), map.get(4), map.get(5)];
  const digest = map.get(3);
  if (
    typeof day !== 'number' ||
    typeof bundles !== 'number' ||
    typeof uplinks !== 'number' ||
    day < 0 ||
    bundles < 0 ||
    uplinks < 0
  ) {
    throw malformed('day, bundles and uplinks must be unsigned integers');
  }
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw malformed('digest must be 32 bytes');
  const [seqFirst, seqLast] = uints(map.get(2), 2, 'sequence range') as [number, number];
  const [start, end] = uints(map.get(6), 2, 'time range') as [number, number];
  const [gps, ntp, unsynced] = uints(map.get(7), 3, 'time sources') as [number, number, number];
  const commitment: DailyCommitment = {
    day,
    seqFirst,
    seqLast,
    digest,
    bundles,
    uplinks,
    timeRange: { start, end },
    timeSources: { gps, ntp, 'host-unsynced': unsynced },
  };
  if (version === 2) {
    const dayRoot = map.get(8);
    if (!(dayRoot instanceof Uint8Array) || dayRoot.length !== 32)
      throw malformed('8 (day root) must be 32 bytes');
    commitment.leaves = uplinks;
    commitment.dayRoot = dayRoot;
  }
  return { envelope, commitment };
}
