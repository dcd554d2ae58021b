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

const DAY_MS = 86_400_000;

export interface SealedBundleSummary {
  seq: number;
  digest: Uint8Array;
  uplinks: number;
  timeRange: { start: number; end: number };
  timeSources: Record<TimeSource, number>;
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
  return {
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
}

export function signDailyCommitment(
  day: number,
  bundles: readonly SealedBundleSummary[],
  key: SigningKey,
  claims: BundleClaims,
): Uint8Array {
  return signCommitment(dailyCommitment(day, bundles), key, claims);
}
