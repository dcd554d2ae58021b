/**
 * The records of sealed bundles as proof leaves: what the gateway (its own bundles) and the
 * regional node (the bundles it holds) rebuild day roots and period roots from. Only a format 3
 * bundle has leaves: formats 1 and 2 were sealed without a salt seed (PROOF.md §4).
 */
import { type VerifyBundleOptions, verifyBundle } from '../bundle/bundle.js';
import type { KeyResolver } from '../bundle/cose.js';
import type { UplinkRecord } from '../bundle/types.js';
import { bundleLeaves } from './leaf.js';
import { leafHash } from './merkle.js';
import type { DayLeaves } from './period.js';

const DAY_MS = 86_400_000;

export interface BundleLeaves {
  seq: number;
  /** The UTC day the bundle belongs to: the day of its time range's end (PROOF.md §4). */
  day: number;
  /** Records in leaf order. */
  records: UplinkRecord[];
  /** The leaves' CBOR bytes (salts included): disclose one, and only that one. */
  leaves: Uint8Array[];
  leafHashes: Uint8Array[];
}

/**
 * Verifies a full bundle and returns its leaves, or undefined for a format 1 or 2 bundle. Throws
 * as verifyBundle does (a stored bundle that no longer verifies is a broken store, not a skip).
 */
export function leavesOfBundle(
  cose: Uint8Array,
  resolveKey: KeyResolver,
  options: VerifyBundleOptions = {},
): BundleLeaves | undefined {
  const { bundle } = verifyBundle(cose, resolveKey, options);
  if (bundle.version !== 3 || !bundle.commitment) return undefined;
  const leaves = bundleLeaves(bundle.uplinks, bundle.commitment.saltSeed);
  return {
    seq: bundle.seq,
    day: Math.floor(bundle.timeRange.end / DAY_MS),
    records: bundle.uplinks,
    leaves,
    leafHashes: leaves.map(leafHash),
  };
}

/** A bundle's place in the days: its leaf hashes, absent for a format 1 or 2 bundle. */
export interface BundleDayLeaves {
  seq: number;
  day: number;
  leafHashes?: readonly Uint8Array[];
}

/**
 * Groups bundles' leaves into days (PROOF.md §4): bundles by sequence; a day holding any bundle
 * without leaves (format 1 or 2) has no day root and contributes nothing.
 */
export function dayLeavesOf(bundles: readonly BundleDayLeaves[]): DayLeaves[] {
  const byDay = new Map<number, { leafHashes: Uint8Array[]; complete: boolean }>();
  for (const b of [...bundles].sort((x, y) => x.seq - y.seq)) {
    const day = byDay.get(b.day) ?? { leafHashes: [], complete: true };
    if (b.leafHashes) day.leafHashes.push(...b.leafHashes);
    else day.complete = false;
    byDay.set(b.day, day);
  }
  return [...byDay]
    .filter(([, d]) => d.complete)
    .map(([day, d]) => ({ day, leafHashes: d.leafHashes }))
    .sort((a, b) => a.day - b.day);
}
