import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyCommitment } from '../../proto/bundle/commitment.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
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

function bundle(seq: number, fromMs: number, toMs: number, uplinks: number): BundleDoc {
  return {
    id: bundleId(seq),
    seq,
    cose: '',
    digest: seq.toString(16).padStart(64, '0'),
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
    expect(commitment).toMatchObject({ day: day0, seqFirst: 1, seqLast: 2, bundles: 2, uplinks: 80 });

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
