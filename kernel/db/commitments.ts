/**
 * Daily commitments on the gateway: for each UTC day with sealed bundles, one
 * signed commitment (digest of that day's bundles, counts, time range and, when
 * all of them are format 3, the day root over their records; ≤ 340 bytes, one
 * satellite message) so the regional node learns what evidence
 * exists before the bundles themselves can travel.
 *
 * A day is committed once, when it is closed: when a bundle ending on a later
 * day has been sealed, or when asked for explicitly (`commitDay`, e.g. at the
 * end of a demo day). Commitments are `bundles` documents of kind
 * `commitment` with the day number as their sequence: the outbox sends them
 * ahead of bundles.
 */

import { bundleDigest } from '../../proto/bundle/bundle.js';
import { signCommitment } from '../../proto/bundle/commitment.js';
import type { BundleClaims, SigningKey } from '../../proto/bundle/cose.js';
import { publicKeyOf } from '../../proto/bundle/ed25519.js';
import { leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import { DailyCommitmentBuilder, type SealedBundleSummary, utcDay } from '../bundle/daily-commitment.js';
import { bundlesOfDay, daysWithBundles } from './bundle-days.js';
import type { FarmDatabase } from './farm-db.js';
import type { BundleDoc } from './schemas.js';

const commitmentId = (day: number) => `commitment-${day.toString().padStart(8, '0')}`;

export interface CommittedDay {
  day: number;
  /** The exact signed COSE bytes. */
  cose: Uint8Array;
  bundles: number;
  uplinks: number;
}

/** A stored bundle's summary; a format 3 bundle's leaves are rebuilt (and its signature checked) for the day root. */
function summary(doc: BundleDoc, publicKey: Uint8Array): SealedBundleSummary {
  const leaves = leavesOfBundle(new Uint8Array(Buffer.from(doc.cose, 'base64')), () => publicKey);
  return {
    ...(leaves ? { leafHashes: leaves.leafHashes } : {}),
    seq: doc.seq,
    digest: new Uint8Array(Buffer.from(doc.digest, 'hex')),
    uplinks: doc.uplinkCount,
    timeRange: { start: doc.fromMs, end: doc.toMs },
    timeSources: doc.timeSources ?? { gps: 0, ntp: 0, 'host-unsynced': doc.uplinkCount },
  };
}

export class DailyCommitments {
  /** Days before this one were all looked at by commitClosedDays (its walk starts here). */
  private checkedBefore = 0;

  constructor(
    private readonly db: FarmDatabase,
    private readonly key: SigningKey,
    private readonly claims: () => BundleClaims,
  ) {}

  /**
   * Commits `day` if it has bundles and no commitment yet; returns what was made (undefined when
   * nothing). The day's bundles are read one at a time (each is verified and its leaves hashed,
   * then dropped), so a day of any size is committed in the memory of its largest bundle.
   */
  async commitDay(day: number): Promise<CommittedDay | undefined> {
    if (await this.db.bundles.findOne(commitmentId(day)).exec()) return undefined;
    const publicKey = publicKeyOf(this.key.secretKey);
    const builder = new DailyCommitmentBuilder(day);
    for await (const doc of bundlesOfDay(this.db, day)) builder.add(summary(doc, publicKey));
    if (builder.bundles === 0) return undefined;
    const cose = signCommitment(builder.build(), this.key, this.claims());
    const doc: BundleDoc = {
      id: commitmentId(day),
      seq: day,
      cose: Buffer.from(cose).toString('base64'),
      digest: Buffer.from(bundleDigest(cose)).toString('hex'),
      kind: 'commitment',
      fromMs: builder.timeRange.start,
      toMs: builder.timeRange.end,
      uplinkCount: builder.uplinks,
      createdAt: Date.now(),
      syncState: 'pending',
    };
    await this.db.bundles.insert(doc);
    return { day, cose, bundles: builder.bundles, uplinks: doc.uplinkCount };
  }

  /**
   * Commits every day before `latestMs`'s day that has bundles and no commitment (days are closed
   * by later data). Walks the days with bundles through the (kind, toMs) index, one bundle read
   * per day; days an earlier call walked are not walked again unless a bundle lands on one.
   */
  async commitClosedDays(latestMs: number): Promise<CommittedDay[]> {
    const today = utcDay(latestMs);
    // A bundle of an older day (late data): its day is walked again once a later day closes it.
    if (today < this.checkedBefore) this.checkedBefore = today;
    const made: CommittedDay[] = [];
    for await (const day of daysWithBundles(this.db, this.checkedBefore, today - 1)) {
      const c = await this.commitDay(day);
      if (c) made.push(c);
    }
    this.checkedBefore = Math.max(this.checkedBefore, today);
    return made;
  }
}
