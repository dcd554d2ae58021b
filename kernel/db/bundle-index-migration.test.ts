import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRxDatabase } from 'rxdb';
import { afterEach, describe, expect, it } from 'vitest';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { sealedBundleDoc } from '../../test/fixtures/sealed-bundle-doc.js';
import { getRxStorageSqlite } from '../store/rx-storage-sqlite.js';
import { openFarmDatabase } from './farm-db.js';
import { type BundleDoc, bundleSchema } from './schemas.js';

const DAY = 86_400_000;
const secretKey = randomSecretKey();
const kid = keyIdOf(publicKeyOf(secretKey));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bundles schema version 1 (the (kind, toMs) index)', () => {
  it('opens a store written with version 0 and keeps every bundle, then finds a day through the index', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'maverick-bundle-index-'));
    dirs.push(directory);
    const start = Date.UTC(2026, 5, 1);
    const docs: BundleDoc[] = Array.from({ length: 21 }, (_, i) =>
      sealedBundleDoc(
        { kid, secretKey },
        i + 1,
        start + i * 3 * 3_600_000,
        start + (i * 3 + 2) * 3_600_000,
        3,
      ),
    );
    // The store as the previous version wrote it: bundles schema version 0, without the index.
    const old = await createRxDatabase({
      name: 'farm',
      storage: getRxStorageSqlite({ directory, synchronous: 'NORMAL' }),
      multiInstance: false,
    });
    const { version: _v, indexes: _i, ...rest } = bundleSchema;
    await old.addCollections({
      bundles: { schema: { ...rest, version: 0, indexes: [['syncState', 'seq']] } },
    });
    await old.bundles.bulkInsert(docs);
    await old.close();

    const db = await openFarmDatabase({
      storage: getRxStorageSqlite({ directory, synchronous: 'NORMAL' }),
      name: 'farm',
    });
    try {
      const held = (await db.bundles.find({ sort: [{ id: 'asc' }] }).exec()).map((d) => d.toJSON());
      expect(held).toEqual(docs);
      const day1 = db.bundles.find({
        selector: { kind: 'bundle', toMs: { $gte: start + DAY, $lt: start + 2 * DAY } },
        sort: [{ kind: 'asc' }, { toMs: 'asc' }],
      });
      const plan = day1.getPreparedQuery().queryPlan;
      expect(plan.index).toEqual(['_deleted', 'kind', 'toMs', 'id']);
      expect(plan.selectorSatisfiedByIndex).toBe(true);
      expect((await day1.exec()).map((d) => d.seq)).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
      // Writable after the migration.
      await db.bundles.insert(
        sealedBundleDoc({ kid, secretKey }, 22, start + 3 * DAY, start + 3 * DAY + 1, 2),
      );
      expect(await db.bundles.count().exec()).toBe(22);
    } finally {
      await db.close();
    }
  });
});
