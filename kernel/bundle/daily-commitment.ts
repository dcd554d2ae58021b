/**
 * Builds the signed daily commitment (proto/bundle/commitment.ts) from the
 * bundles a gateway sealed: those whose time range ends on the given UTC day,
 * committed in sequence order. Small enough for one 340-byte satellite
 * message, so the regional node learns what evidence exists before the
 * bundles themselves can travel.
 */
import { commitmentDigest, type DailyCommitment, signCommitment } from '../../proto/bundle/commitment.js';
import type { BundleClaims, SigningKey } from '../../proto/bundle/cose.js';
import type { TimeSource } from '../../proto/bundle/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { MerkleTree } from '../../proto/proof/merkle.js';

const DAY_MS = 86_400_000;

export interface SealedBundleSummary {
  seq: number;
  digest: Uint8Array;
  uplinks: number;
  timeRange: { start: number; end: number };
  timeSources: Record<TimeSource, number>;
  /** Format 3 bundles: the RFC 9162 leaf hashes of its records, in leaf order (PROOF.md §3). */
  leafHashes?: readonly Uint8Array[];
}

/** Days since 1970-01-01 UTC of a Unix-ms instant. */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export function dailyCommitment(day: number, bundles: readonly SealedBundleSummary[]): DailyCommitment {
  const ofDay = bundles.filter((b) => utcDay(b.timeRange.end) === day).sort((a, b) => a.seq - b.seq);
  if (ofDay.length === 0) {
    throw new MaverickError(
      ErrorCode.BundleSequence,
      `no sealed bundle ends on day ${new Date(day * DAY_MS).toISOString().slice(0, 10)}`,
    );
  }
  const first = ofDay[0] as SealedBundleSummary;
  const last = ofDay[ofDay.length - 1] as SealedBundleSummary;
  const timeSources: Record<TimeSource, number> = { gps: 0, ntp: 0, 'host-unsynced': 0 };
  for (const b of ofDay)
    for (const s of Object.keys(timeSources) as TimeSource[]) timeSources[s] += b.timeSources[s];
  const commitment: DailyCommitment = {
    day,
    seqFirst: first.seq,
    seqLast: last.seq,
    digest: commitmentDigest(ofDay.map((b) => b.digest)),
    bundles: ofDay.length,
    uplinks: ofDay.reduce((n, b) => n + b.uplinks, 0),
    timeRange: {
      start: Math.min(...ofDay.map((b) => b.timeRange.start)),
      end: Math.max(...ofDay.map((b) => b.timeRange.end)),
    },
    timeSources,
  };
  // Version 2 (PROOF.md §4) when every bundle of the day has leaves: the day root over all of them.
  if (ofDay.every((b) => b.leafHashes !== undefined)) {
    const tree = MerkleTree.fromLeafHashes(ofDay.flatMap((b) => b.leafHashes as Uint8Array[]));
    commitment.leaves = tree.size;
    commitment.dayRoot = tree.root;
  }
  return commitment;
}

export function signDailyCommitment(
  day: number,
  bundles: readonly SealedBundleSummary[],
  key: SigningKey,
  claims: BundleClaims,
): Uint8Array {
  return signCommitment(dailyCommitment(day, bundles), key, claims);
}
