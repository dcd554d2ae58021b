/**
 * Opens an RxDB database on Maverick's SQLite storage with the settings a
 * single-process gateway wants (rxdb 17, https://rxdb.info/rx-database.html):
 * - `multiInstance: false`: one process owns the database; no BroadcastChannel.
 * - `closeDuplicates: true`: re-opening the same name in one process (a test,
 *   a restart inside the process) closes the older instance instead of
 *   throwing RxDB error DB9.
 * - `eventReduce: true`: live queries update without re-running.
 *
 * RxDB's free core allows 13 open collections per process (NON_PREMIUM_COLLECTION_LIMIT).
 */

import type { RxCollectionCreator, RxDatabase } from 'rxdb';
import { createRxDatabase } from 'rxdb';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { getRxStorageSqlite } from './rx-storage-sqlite.js';
import type { SynchronousMode } from './sqlite-driver.js';

export const MAX_COLLECTIONS_PER_PROCESS = 13;

export interface OpenMaverickDatabaseOptions {
  directory: string;
  /** RxDB database name: lowercase letters, digits and `_$()+-/` (RxDB's rule). */
  name: string;
  collections: Record<string, RxCollectionCreator>;
  synchronous?: SynchronousMode;
  logger?: Logger;
}

export async function openMaverickDatabase(options: OpenMaverickDatabaseOptions): Promise<RxDatabase> {
  const collectionCount = Object.keys(options.collections).length;
  if (collectionCount > MAX_COLLECTIONS_PER_PROCESS) {
    throw new MaverickError(
      ErrorCode.StoreUnsupported,
      `${collectionCount} collections requested; RxDB's free core opens at most ${MAX_COLLECTIONS_PER_PROCESS} per process`,
      { hint: 'merge collections (e.g. a `kind` field) to stay within the limit' },
    );
  }
  const storage = getRxStorageSqlite({
    directory: options.directory,
    synchronous: options.synchronous,
    logger: options.logger,
  });
  const database = await createRxDatabase({
    name: options.name,
    storage,
    multiInstance: false,
    eventReduce: true,
    closeDuplicates: true,
  });
  try {
    if (collectionCount > 0) await database.addCollections(options.collections);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
