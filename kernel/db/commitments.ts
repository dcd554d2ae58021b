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
import type { BundleClaims, SigningKey } from '../../proto/bundle/cose.js';
import { publicKeyOf } from '../../proto/bundle/ed25519.js';
import { leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import { type SealedBundleSummary, signDailyCommitment, utcDay } from '../bundle/daily-commitment.js';
import type { FarmDatabase } from './farm-db.js';
import type { BundleDoc } from './schemas.js';

const DAY_MS = 86_400_000;
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
  constructor(
    private readonly db: FarmDatabase,
    private readonly key: SigningKey,
    private readonly claims: () => BundleClaims,
  ) {}

  /** Commits `day` if it has bundles and no commitment yet; returns what was made (undefined when nothing). */
  async commitDay(day: number): Promise<CommittedDay | undefined> {
    if (await this.db.bundles.findOne(commitmentId(day)).exec()) return undefined;
    const docs = await this.db.bundles
      .find({ selector: { kind: 'bundle', toMs: { $gte: day * DAY_MS, $lt: (day + 1) * DAY_MS } } })
      .exec();
    if (docs.length === 0) return undefined;
    const publicKey = publicKeyOf(this.key.secretKey);
    const summaries = docs.map((d) => summary(d.toJSON() as BundleDoc, publicKey));
    const cose = signDailyCommitment(day, summaries, this.key, this.claims());
    const doc: BundleDoc = {
      id: commitmentId(day),
      seq: day,
      cose: Buffer.from(cose).toString('base64'),
      digest: Buffer.from(bundleDigest(cose)).toString('hex'),
      kind: 'commitment',
      fromMs: Math.min(...summaries.map((s) => s.timeRange.start)),
      toMs: Math.max(...summaries.map((s) => s.timeRange.end)),
      uplinkCount: summaries.reduce((n, s) => n + s.uplinks, 0),
      createdAt: Date.now(),
      syncState: 'pending',
    };
    await this.db.bundles.insert(doc);
    return { day, cose, bundles: summaries.length, uplinks: doc.uplinkCount };
  }

  /** Commits every day before `latestMs`'s day that has bundles and no commitment (days are closed by later data). */
  async commitClosedDays(latestMs: number): Promise<CommittedDay[]> {
    const today = utcDay(latestMs);
    const docs = await this.db.bundles
      .find({ selector: { kind: 'bundle', toMs: { $lt: today * DAY_MS } } })
      .exec();
    const days = [...new Set(docs.map((d) => utcDay(d.toMs)))].sort((a, b) => a - b);
    const made: CommittedDay[] = [];
    for (const day of days) {
      const c = await this.commitDay(day);
      if (c) made.push(c);
    }
    return made;
  }
}
