/**
 * Opens the gateway's store from a command (`maverick device`, `uplinks`, `plot`)
 * — also while `maverick run` holds it: SQLite in WAL mode lets another
 * process read, and short writes wait on the busy timeout.
 */
import { existsSync } from 'node:fs';
import { type FarmDatabase, openFarmDatabase } from '../kernel/db/farm-db.js';
import { RxdbNetworkRepository } from '../kernel/db/network-repository.js';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import type { SynchronousMode } from '../kernel/store/sqlite-driver.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import { GATEWAY_DATABASE_NAME, markStoreCreated, prepareStoreFiles, storeDirectory } from './store-files.js';

export { storeDirectory };

export async function openGatewayDatabase(
  dataDir: string,
  options: { synchronous?: SynchronousMode; logger?: Logger; initStore?: boolean } = {},
): Promise<FarmDatabase> {
  if (!existsSync(dataDir)) {
    throw new MaverickError(ErrorCode.DataDirMissing, `data directory ${dataDir} does not exist`, {
      hint: `run \`maverick init --data-dir ${dataDir}\` first`,
    });
  }
  prepareStoreFiles(dataDir, options.initStore ? { initStore: true } : {});
  const db = await openFarmDatabase({
    storage: getRxStorageSqlite({
      directory: storeDirectory(dataDir),
      synchronous: options.synchronous ?? 'FULL',
      ...(options.logger ? { logger: options.logger } : {}),
    }),
    name: GATEWAY_DATABASE_NAME,
  });
  markStoreCreated(dataDir);
  return db;
}

/** Runs `fn` with the store and the network repository open, and closes both. */
export async function withGatewayStore<T>(
  dataDir: string,
  fn: (db: FarmDatabase, repository: RxdbNetworkRepository) => Promise<T>,
): Promise<T> {
  const db = await openGatewayDatabase(dataDir);
  try {
    const repository = await RxdbNetworkRepository.open(db);
    try {
      return await fn(db, repository);
    } finally {
      await repository.close();
    }
  } finally {
    await db.close();
  }
}
