import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { ErrorCode } from '../../proto/errors.js';
import { dayLeavesOf, leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import { MerkleTree } from '../../proto/proof/merkle.js';
import { buildPeriod, verifyPeriodStatement } from '../../proto/proof/period.js';
import { encodeReceipt, verifyReceipt } from '../../proto/proof/receipt.js';
import { sealedBundleDoc } from '../../test/fixtures/sealed-bundle-doc.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import { monthOf, PeriodStatements } from './period-statements.js';

const DAY = 86_400_000;
const secretKey = randomSecretKey();
const publicKey = publicKeyOf(secretKey);
const kid = keyIdOf(publicKey);
const resolve = (k: Uint8Array) => (Buffer.compare(k, kid) === 0 ? publicKey : undefined);
const june1 = Date.UTC(2026, 5, 1) / DAY;

let db: FarmDatabase | undefined;
let n = 0;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function farm(): Promise<{ db: FarmDatabase; periods: PeriodStatements }> {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `periods${n++}` });
  const periods = new PeriodStatements(db, { kid, secretKey }, () => ({
    iss: 'gw',
    sub: 'farm',
    iat: 1_780_000_000,
  }));
  return { db, periods };
}

const at = (day: number, hour: number) => day * DAY + hour * 3_600_000;

describe('period statements on the gateway', () => {
  it('months are calendar months in UTC', () => {
    expect(monthOf(june1 + 17)).toEqual({ fromDay: june1, toDay: june1 + 29 });
    const feb = Date.UTC(2028, 1, 1) / DAY;
    expect(monthOf(feb + 28)).toEqual({ fromDay: feb, toDay: feb + 28 }); // leap year
  });

  it('signs a closed range over every record of its format 3 bundles, once, and receipts verify against it', async () => {
    const { db, periods } = await farm();
    await db.bundles.bulkInsert([
      sealedBundleDoc({ kid, secretKey }, 1, at(june1, 0), at(june1, 11), 30),
      sealedBundleDoc({ kid, secretKey }, 2, at(june1, 12), at(june1, 23), 30),
      sealedBundleDoc({ kid, secretKey }, 3, at(june1 + 1, 1), at(june1 + 1, 20), 25),
      sealedBundleDoc({ kid, secretKey }, 4, at(june1 + 2, 1), at(june1 + 2, 20), 10), // outside the range
    ]);
    const signed = await periods.sign(june1, june1 + 1, at(june1 + 3, 0));
    const { statement } = verifyPeriodStatement(signed.cose, resolve);
    expect(statement).toMatchObject({ fromDay: june1, toDay: june1 + 1, leaves: 85, days: 2 });
    // The root is the MTH over the leaves of bundles 1, 2, 3 in sequence order.
    const docs = await db.bundles.find({ sort: [{ seq: 'asc' }] }).exec();
    const hashes = docs
      .slice(0, 3)
      .flatMap(
        (d) => leavesOfBundle(new Uint8Array(Buffer.from(d.cose, 'base64')), resolve)?.leafHashes ?? [],
      );
    expect(statement.root).toEqual(MerkleTree.fromLeafHashes(hashes).root);
    // Asking again gives the same signed bytes (kept in kv), and list() shows it.
    expect((await periods.sign(june1, june1 + 1, at(june1 + 3, 0))).cose).toEqual(signed.cose);
    expect((await periods.list()).map((p) => [p.fromDay, p.toDay])).toEqual([[june1, june1 + 1]]);
    // A spot check draws from the same tree.
    const { tree } = await periods.build(june1, june1 + 1);
    const receipt = encodeReceipt(signed.cose, [tree.inclusionProof(40)]);
    const leaf = leavesOfBundle(new Uint8Array(Buffer.from(docs[1]?.cose as string, 'base64')), resolve)
      ?.leaves[10];
    expect(verifyReceipt(receipt, [leaf as Uint8Array], resolve).proofs[0]?.leafIndex).toBe(40);
  });

  it('refuses a range that is not closed; leaves out a day sealed before format 3', async () => {
    const { db, periods } = await farm();
    await db.bundles.bulkInsert([
      sealedBundleDoc({ kid, secretKey }, 1, at(june1, 0), at(june1, 11), 30, 2),
      sealedBundleDoc({ kid, secretKey }, 2, at(june1, 12), at(june1, 23), 30),
      sealedBundleDoc({ kid, secretKey }, 3, at(june1 + 1, 1), at(june1 + 1, 20), 25),
    ]);
    await expect(periods.sign(june1, june1 + 1, at(june1 + 1, 21))).rejects.toMatchObject({
      code: ErrorCode.BundleSequence,
    });
    const { statement } = verifyPeriodStatement(
      (await periods.sign(june1, june1 + 1, at(june1 + 2, 0))).cose,
      resolve,
    );
    expect(statement).toMatchObject({ leaves: 25, days: 1 });
  });

  it('signs each closed calendar month once', async () => {
    const { db, periods } = await farm();
    const july1 = june1 + 30;
    await db.bundles.bulkInsert([
      sealedBundleDoc({ kid, secretKey }, 1, at(june1 + 3, 0), at(june1 + 3, 5), 5),
      sealedBundleDoc({ kid, secretKey }, 2, at(july1 + 2, 0), at(july1 + 2, 5), 5),
    ]);
    const made = await periods.signClosedMonths(at(july1 + 2, 5));
    expect(made.map((p) => [p.fromDay, p.toDay, p.leaves])).toEqual([[june1, july1 - 1, 5]]);
    expect(await periods.signClosedMonths(at(july1 + 2, 5))).toEqual([]);
  });

  it('signs, read a bundle at a time, the statement buildPeriod makes from every bundle at once', async () => {
    const { db, periods } = await farm();
    const docs = [
      sealedBundleDoc({ kid, secretKey }, 1, at(june1, 0), at(june1, 10), 12),
      sealedBundleDoc({ kid, secretKey }, 2, at(june1, 11), at(june1, 20), 7),
      sealedBundleDoc({ kid, secretKey }, 3, at(june1, 1), at(june1, 15), 4), // ends before bundle 2
      sealedBundleDoc({ kid, secretKey }, 4, at(june1, 2), at(june1, 20), 5), // ties bundle 2's end
      sealedBundleDoc({ kid, secretKey }, 5, at(june1 + 2, 0), at(june1 + 2, 3), 9, 2), // format 2: no day root
      sealedBundleDoc({ kid, secretKey }, 6, at(june1 + 2, 4), at(june1 + 2, 9), 3),
      sealedBundleDoc({ kid, secretKey }, 7, at(june1 + 4, 4), at(june1 + 4, 9), 6),
    ];
    await db.bundles.bulkInsert(docs);
    const expected = buildPeriod(
      june1,
      june1 + 5,
      dayLeavesOf(
        docs.map((d) => {
          const leaves = leavesOfBundle(new Uint8Array(Buffer.from(d.cose, 'base64')), resolve);
          return leaves ?? { seq: d.seq, day: Math.floor(d.toMs / DAY) };
        }),
      ),
    ).statement;
    const { statement } = verifyPeriodStatement(
      (await periods.sign(june1, june1 + 5, at(june1 + 6, 0))).cose,
      resolve,
    );
    expect(statement).toEqual(expected);
    expect(statement).toMatchObject({ leaves: 12 + 7 + 4 + 5 + 6, days: 2 });
  });
});
