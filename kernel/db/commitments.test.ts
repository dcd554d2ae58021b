import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyCommitment } from '../../proto/bundle/commitment.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import { MerkleTree } from '../../proto/proof/merkle.js';
import { sealedBundleDoc } from '../../test/fixtures/sealed-bundle-doc.js';
import { signDailyCommitment } from '../bundle/daily-commitment.js';
import { DailyCommitments } from './commitments.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import type { BundleDoc } from './schemas.js';

const DAY = 86_400_000;
const day0 = Date.UTC(2026, 5, 1) / DAY;
const secretKey = randomSecretKey();
const publicKey = publicKeyOf(secretKey);
const kid = keyIdOf(publicKey);

let db: FarmDatabase | undefined;
let n = 0;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const bundle = (seq: number, fromMs: number, toMs: number, uplinks: number): BundleDoc =>
  sealedBundleDoc({ kid, secretKey }, seq, fromMs, toMs, uplinks);

const claims = () => ({ iss: 'gw', sub: 'farm', iat: 1 });

/** A fresh in-memory farm database (closed after the test) and its DailyCommitments. */
async function openCommitments(): Promise<{ db: FarmDatabase; commitments: DailyCommitments }> {
  const opened = await openFarmDatabase({ storage: getRxStorageMemory(), name: `commit${n++}` });
  db = opened;
  return { db: opened, commitments: new DailyCommitments(opened, { kid, secretKey }, claims) };
}

describe('DailyCommitments', () => {
  it('commits a closed day once, signed, counting its bundles, within one satellite message', async () => {
    const { db, commitments } = await openCommitments();
    const start = day0 * DAY;
    await db.bundles.bulkInsert([
      bundle(1, start, start + 3_600_000, 40),
      bundle(2, start + 3_600_000, start + 7_200_000, 40),
      bundle(3, start + DAY + 60_000, start + DAY + 3_600_000, 40), // the next day
    ]);

    // Day 0 is closed by bundle 3 (it ends on day 1); day 1 is still open.
    const made = await commitments.commitClosedDays(start + DAY + 3_600_000);
    expect(made.map((c) => [c.day, c.bundles, c.uplinks])).toEqual([[day0, 2, 80]]);
    expect(made[0]!.cose.length).toBeLessThanOrEqual(340);
    const { commitment } = verifyCommitment(made[0]!.cose, (k) =>
      Buffer.compare(k, kid) === 0 ? publicKey : undefined,
    );
    expect(commitment).toMatchObject({
      day: day0,
      seqFirst: 1,
      seqLast: 2,
      bundles: 2,
      uplinks: 80,
      leaves: 80,
    });
    // Version 2: the day root is the MTH over both bundles' leaves, in sequence order.
    const docs = await db.bundles
      .find({ selector: { kind: 'bundle', seq: { $lt: 3 } }, sort: [{ seq: 'asc' }] })
      .exec();
    const leafHashes = docs.flatMap(
      (d) => leavesOfBundle(new Uint8Array(Buffer.from(d.cose, 'base64')), () => publicKey)?.leafHashes ?? [],
    );
    expect(commitment.dayRoot).toEqual(MerkleTree.fromLeafHashes(leafHashes).root);

    // Once only; and it waits in the outbox (bundles collection) as a pending commitment.
    expect(await commitments.commitClosedDays(start + DAY + 3_600_000)).toEqual([]);
    expect(await commitments.commitDay(day0)).toBeUndefined();
    const stored = await db.bundles.find({ selector: { kind: 'commitment' } }).exec();
    expect(stored.map((d) => [d.seq, d.syncState, d.uplinkCount])).toEqual([[day0, 'pending', 80]]);

    // Asked for explicitly, the open day is committed too; a day without bundles gives nothing.
    expect((await commitments.commitDay(day0 + 1))?.uplinks).toBe(40);
    expect(await commitments.commitDay(day0 + 5)).toBeUndefined();
  });

  it('commits a day read one bundle at a time exactly as the whole day in memory would (same signed bytes)', async () => {
    const { db, commitments } = await openCommitments();
    const start = day0 * DAY;
    const docs = [
      bundle(1, start - 7_200_000, start - 60_000, 5), // the day before
      bundle(2, start, start + 3_600_000, 7),
      bundle(3, start + 3_600_000, start + 7_200_000, 3),
      bundle(4, start + 7_200_000, start + 9_000_000, 4),
      bundle(5, start + 1_000, start + 7_200_000, 6), // ends with bundle 3: a tie on toMs
      bundle(6, start + 2_000, start + 5_000_000, 2), // ends before bundles 3-5: toMs out of seq order
      bundle(7, start + DAY - 60_000, start + DAY - 1, 9),
      bundle(8, start + DAY, start + DAY + 60_000, 2), // the next day
    ];
    await db.bundles.bulkInsert(docs);
    // The oracle: every bundle of the store summarised at once, as commitDay did before it streamed.
    const summaries = docs.map((d) => {
      const leaves = leavesOfBundle(new Uint8Array(Buffer.from(d.cose, 'base64')), () => publicKey);
      return {
        ...(leaves ? { leafHashes: leaves.leafHashes } : {}),
        seq: d.seq,
        digest: new Uint8Array(Buffer.from(d.digest, 'hex')),
        uplinks: d.uplinkCount,
        timeRange: { start: d.fromMs, end: d.toMs },
        timeSources: d.timeSources ?? { gps: 0, ntp: 0, 'host-unsynced': d.uplinkCount },
      };
    });
    const expected = signDailyCommitment(day0, summaries, { kid, secretKey }, claims());
    const made = await commitments.commitDay(day0);
    expect(made && Buffer.from(made.cose).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
    expect(made).toMatchObject({ day: day0, bundles: 6, uplinks: 7 + 3 + 4 + 6 + 2 + 9 });
    const { commitment } = verifyCommitment(made!.cose, (k) =>
      Buffer.compare(k, kid) === 0 ? publicKey : undefined,
    );
    expect(commitment).toMatchObject({ seqFirst: 2, seqLast: 7, leaves: 31 });
  });

  it('walks the closed days once, and again only for a day a late bundle lands on', async () => {
    const { db, commitments } = await openCommitments();
    const start = day0 * DAY;
    await db.bundles.bulkInsert([
      bundle(1, start, start + 60_000, 2),
      bundle(2, start + 3 * DAY, start + 3 * DAY + 60_000, 2),
      bundle(3, start + 5 * DAY, start + 5 * DAY + 60_000, 2),
    ]);
    const days = async (latestMs: number) => (await commitments.commitClosedDays(latestMs)).map((c) => c.day);
    expect(await days(start + 5 * DAY + 60_000)).toEqual([day0, day0 + 3]);
    expect(await days(start + 5 * DAY + 120_000)).toEqual([]);
    // A bundle sealed late onto day 1, which had none: committed once a later day closes it.
    await db.bundles.insert(bundle(4, start + DAY, start + DAY + 60_000, 2));
    expect(await days(start + DAY + 60_000)).toEqual([]);
    expect(await days(start + 6 * DAY)).toEqual([day0 + 1, day0 + 5]);
  });
});
