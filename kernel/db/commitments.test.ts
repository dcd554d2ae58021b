import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyCommitment } from '../../proto/bundle/commitment.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import { MerkleTree } from '../../proto/proof/merkle.js';
import { sealedBundleDoc } from '../../test/fixtures/sealed-bundle-doc.js';
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

describe('DailyCommitments', () => {
  it('commits a closed day once, signed, counting its bundles, within one satellite message', async () => {
    db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `commit${n++}` });
    const commitments = new DailyCommitments(db, { kid, secretKey }, () => ({
      iss: 'gw',
      sub: 'farm',
      iat: 1,
    }));
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
});
