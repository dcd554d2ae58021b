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
import { MerkleRootBuilder } from '../../proto/proof/merkle.js';

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

/**
 * A day's commitment built from its bundles one at a time, in sequence order: what it keeps is
 * a bundle digest per bundle and O(log n) subtree roots of the day's leaves, so a store can feed
 * it a day of large bundles while holding one of them in memory.
 */
export class DailyCommitmentBuilder {
  private readonly digests: Uint8Array[] = [];
  private readonly tree = new MerkleRootBuilder();
  private readonly timeSources: Record<TimeSource, number> = { gps: 0, ntp: 0, 'host-unsynced': 0 };
  private seqFirst = 0;
  private seqLast = 0;
  private uplinkCount = 0;
  private start = Number.POSITIVE_INFINITY;
  private end = Number.NEGATIVE_INFINITY;
  /** Version 2 (PROOF.md §4) only when every bundle of the day has leaves. */
  private everyBundleHasLeaves = true;

  constructor(readonly day: number) {}

  get bundles(): number {
    return this.digests.length;
  }

  get uplinks(): number {
    return this.uplinkCount;
  }

  get timeRange(): { start: number; end: number } {
    return { start: this.start, end: this.end };
  }

  add(b: SealedBundleSummary): void {
    if (utcDay(b.timeRange.end) !== this.day) {
      throw new MaverickError(
        ErrorCode.BundleSequence,
        `bundle ${b.seq} ends on another day than ${dayText(this.day)}, the day being committed`,
      );
    }
    if (this.digests.length > 0 && b.seq < this.seqLast) {
      throw new MaverickError(
        ErrorCode.BundleSequence,
        `bundle ${b.seq} comes after bundle ${this.seqLast}: a day's bundles are committed in sequence order`,
      );
    }
    if (this.digests.length === 0) this.seqFirst = b.seq;
    this.seqLast = b.seq;
    this.digests.push(b.digest);
    this.uplinkCount += b.uplinks;
    this.start = Math.min(this.start, b.timeRange.start);
    this.end = Math.max(this.end, b.timeRange.end);
    for (const s of Object.keys(this.timeSources) as TimeSource[]) this.timeSources[s] += b.timeSources[s];
    if (!b.leafHashes) this.everyBundleHasLeaves = false;
    else if (this.everyBundleHasLeaves) for (const h of b.leafHashes) this.tree.append(h);
  }

  build(): DailyCommitment {
    if (this.digests.length === 0) {
      throw new MaverickError(ErrorCode.BundleSequence, `no sealed bundle ends on day ${dayText(this.day)}`);
    }
    const commitment: DailyCommitment = {
      day: this.day,
      seqFirst: this.seqFirst,
      seqLast: this.seqLast,
      digest: commitmentDigest(this.digests),
      bundles: this.digests.length,
      uplinks: this.uplinkCount,
      timeRange: this.timeRange,
      timeSources: { ...this.timeSources },
    };
    if (this.everyBundleHasLeaves) {
      commitment.leaves = this.tree.size;
      commitment.dayRoot = this.tree.root;
    }
    return commitment;
  }
}

function dayText(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function dailyCommitment(day: number, bundles: readonly SealedBundleSummary[]): DailyCommitment {
  const builder = new DailyCommitmentBuilder(day);
  for (const b of bundles.filter((b) => utcDay(b.timeRange.end) === day).sort((a, b) => a.seq - b.seq)) {
    builder.add(b);
  }
  return builder.build();
}

export function signDailyCommitment(
  day: number,
  bundles: readonly SealedBundleSummary[],
  key: SigningKey,
  claims: BundleClaims,
): Uint8Array {
  return signCommitment(dailyCommitment(day, bundles), key, claims);
}
