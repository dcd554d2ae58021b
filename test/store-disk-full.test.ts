/**
 * Full disk: `PRAGMA max_page_count` caps the database file so it cannot
 * grow, which makes SQLite fail exactly like a full disk (SQLITE_FULL,
 * https://www.sqlite.org/pragma.html#pragma_max_page_count). Works on every
 * machine, no root or loop mount needed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillWithDefaultSettings, type RxDocumentData, randomToken } from 'rxdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMaverickDatabase } from '../kernel/store/open-database.js';
import type { RxStorageInstanceSqlite } from '../kernel/store/rx-storage-instance-sqlite.js';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import { ErrorCode, isMaverickError, MaverickError } from '../proto/errors.js';
import { type CrashUplink, uplinkBatch, uplinkSchema } from './fixtures/store-crash-uplinks.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'maverick-store-full-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const schema = fillWithDefaultSettings(uplinkSchema);
let lwt = 1_000;
/** Small batches numbered from 100 so their DevEUI+FCnt keys never overlap batch 0 (200 documents). */
const smallBatch = (batch: number) => uplinkBatch(100 + batch, 50);

function asRows(docs: CrashUplink[]) {
  return docs.map((doc) => ({
    document: {
      ...doc,
      _deleted: false,
      _rev: '1-a',
      _attachments: {},
      _meta: { lwt: lwt++ },
    } as RxDocumentData<CrashUplink>,
  }));
}

async function openInstance(): Promise<RxStorageInstanceSqlite<CrashUplink>> {
  return getRxStorageSqlite({ directory }).createStorageInstance<CrashUplink>({
    databaseInstanceToken: randomToken(10),
    databaseName: 'full',
    collectionName: 'uplinks',
    schema,
    options: {},
    multiInstance: false,
    devMode: false,
  });
}

describe('store on a full disk', () => {
  it('fails a write with StoreDiskFull, keeps everything stored earlier, recovers when space returns', async () => {
    const instance = await openInstance();
    const connection = instance.internals.connection;
    try {
      expect((await instance.bulkWrite(asRows(uplinkBatch(0, 200)), 'fill')).error).toEqual([]);
      const pages = Number(connection.pragma('page_count'));
      connection.pragma(`max_page_count = ${pages + 8}`);

      let stored = 200;
      let failure: unknown;
      let failedBatch = -1;
      for (let batch = 1; batch < 200 && failure === undefined; batch++) {
        try {
          const response = await instance.bulkWrite(asRows(smallBatch(batch)), 'fill');
          expect(response.error).toEqual([]);
          stored += 50;
        } catch (err) {
          failure = err;
          failedBatch = batch;
        }
      }
      expect(failure).toBeInstanceOf(MaverickError);
      const error = failure as MaverickError;
      expect(error.code).toBe(ErrorCode.StoreDiskFull);
      expect(error.message).toMatch(/No space left .*full\.sqlite.*rolled back/);
      expect(error.message).toMatch(/free disk space/);

      // Reads still work and nothing stored earlier is lost; the failed batch left no trace.
      const all = await instance.findDocumentsById(
        Array.from({ length: failedBatch }, (_, batch) =>
          batch === 0 ? uplinkBatch(0, 200) : smallBatch(batch),
        )
          .flat()
          .map((doc) => doc.id),
        false,
      );
      expect(all.length).toBe(stored);
      const failedIds = smallBatch(failedBatch).map((doc) => doc.id);
      expect(await instance.findDocumentsById(failedIds, true)).toEqual([]);

      // Space comes back: the same batch now goes in.
      connection.pragma('max_page_count = 1073741823');
      expect((await instance.bulkWrite(asRows(smallBatch(failedBatch)), 'retry')).error).toEqual([]);
      expect((await instance.findDocumentsById(failedIds, false)).length).toBe(50);
      expect(connection.pragma('integrity_check')).toBe('ok');
    } finally {
      await instance.close();
    }
  });

  it('surfaces StoreDiskFull through an RxCollection and the database stays usable', async () => {
    const database = await openMaverickDatabase({
      directory,
      name: 'fullrx',
      collections: { uplinks: { schema: uplinkSchema } },
    });
    try {
      await database.uplinks.bulkInsert(uplinkBatch(0, 100));
      const storageInstance = database.uplinks.storageInstance as unknown as {
        internals: RxStorageInstanceSqlite<CrashUplink>['internals'];
      };
      const connection = storageInstance.internals.connection;
      connection.pragma(`max_page_count = ${Number(connection.pragma('page_count')) + 4}`);
      let failure: unknown;
      for (let batch = 1; batch < 100 && failure === undefined; batch++) {
        await database.uplinks.bulkInsert(uplinkBatch(batch, 100)).catch((err: unknown) => {
          failure = err;
        });
      }
      expect(isMaverickError(failure, ErrorCode.StoreDiskFull)).toBe(true);
      expect(
        await database.uplinks.count({ selector: { devEui: { $gt: '' } } }).exec(),
      ).toBeGreaterThanOrEqual(100);
      expect((await database.uplinks.findOne(uplinkBatch(0, 100)[99].id).exec())?.fCnt).toBe(9);
      connection.pragma('max_page_count = 1073741823');
      const retried = await database.uplinks.bulkInsert(uplinkBatch(500, 100));
      expect(retried.error).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
