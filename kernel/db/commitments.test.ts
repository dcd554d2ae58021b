import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { sealBundle } from '../../proto/bundle/bundle.js';
import { verifyCommitment } from '../../proto/bundle/commitment.js';
import { keyIdOf, publicKeyOf, randomSecretKey, toHex } from '../../proto/bundle/ed25519.js';
import { GENESIS_PREV_HASH, type UplinkRecord } from '../../proto/bundle/types.js';
import { leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import { MerkleTree } from '../../proto/proof/merkle.js';
import { DailyCommitments } from './commitments.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import { type BundleDoc, bundleId } from './schemas.js';

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

/** A real sealed format 3 bundle of `uplinks` records spread over [fromMs, toMs]. */
function bundle(seq: number, fromMs: number, toMs: number, uplinks: number): BundleDoc {
  const records: UplinkRecord[] = Array.from({ length: uplinks }, (_, i) => ({
    devEui: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1),
    plotId: null,
    fCnt: seq * 1000 + i,
    receivedAt: fromMs + Math.floor(((toMs - fromMs) * i) / Math.max(1, uplinks - 1)),
    timeSource: 'gps',
    readings: [{ field: 'soil', scale: -1, value: 300 + i }],
  }));
  const sealed = sealBundle(
    {
      seq,
      prevHash: GENESIS_PREV_HASH,
      timeRange: { start: fromMs, end: toMs },
      plots: [],
      uplinks: records,
      compress: true,
    },
    { kid, secretKey },
    { iss: 'gw', sub: 'farm', iat: 1 },
  );
  return {
    id: bundleId(seq),
    seq,
    cose: Buffer.from(sealed.cose).toString('base64'),
    digest: toHex(sealed.digest),
    kind: 'bundle',
    fromMs,
    toMs,
    uplinkCount: uplinks,
    timeSources: { gps: uplinks, ntp: 0, 'host-unsynced': 0 },
    createdAt: 0,
    syncState: 'pending',
  };
}

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
