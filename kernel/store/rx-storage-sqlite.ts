/**
 * Maverick's own RxDB storage over SQLite: durable (WAL, fsync per commit),
 * unlimited, written against RxDB's public RxStorage interface (rxdb 17,
 * Apache-2.0). Not RxDB's premium or trial SQLite storage.
 *
 * Layout: one SQLite file per RxDB database (`<directory>/<databaseName>.sqlite`),
 * one table per collection and schema version (`<collection>-v<version>`).
 *
 * Limits worth knowing:
 * - Attachments are refused (MaverickError StoreUnsupported at collection
 *   creation): keep binary data in fields instead.
 * - multiInstance is not supported: one process writes a database; other
 *   processes may read the file (WAL readers) but will not receive change
 *   events. Open databases with `multiInstance: false`.
 * - RxDB's free core allows at most 13 collections per database and process
 *   (the premium limit check); design schemas to fit.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RxStorage, RxStorageInstanceCreationParams } from 'rxdb';
import { ensureRxStorageInstanceParamsAreCorrect, RXDB_VERSION } from 'rxdb';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { CollectionTable } from './collection-table.js';
import {
  RxStorageInstanceSqlite,
  type SqliteInstanceOptions,
  type SqliteStorageInternals,
} from './rx-storage-instance-sqlite.js';
import { acquireSqliteConnection, type SqliteDriverName, type SynchronousMode } from './sqlite-driver.js';

export type { SqliteInstanceOptions, SqliteStorageInternals } from './rx-storage-instance-sqlite.js';

export interface SqliteStorageOptions {
  /** Folder holding one `<databaseName>.sqlite` per database; created if missing. */
  directory: string;
  /** fsync policy; FULL (default) makes every committed bulkWrite survive power loss. */
  synchronous?: SynchronousMode;
  /** Force a driver (default: MAVERICK_SQLITE_DRIVER, else node:sqlite when present, else better-sqlite3). */
  driver?: SqliteDriverName;
  logger?: Logger;
}

export const SQLITE_STORAGE_NAME = 'maverick-sqlite';

export type RxStorageSqlite = Omit<
  RxStorage<SqliteStorageInternals, SqliteInstanceOptions>,
  'createStorageInstance'
> & {
  createStorageInstance<RxDocType>(
    params: RxStorageInstanceCreationParams<RxDocType, SqliteInstanceOptions>,
  ): Promise<RxStorageInstanceSqlite<RxDocType>>;
  readonly settings: Readonly<SqliteStorageOptions>;
  /** The file a database of this name lives in. */
  databaseFile(databaseName: string): string;
};

/** A file name for any RxDB database name: keep it readable, never let it leave the directory. */
function fileNameFor(databaseName: string): string {
  return `${databaseName.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')}.sqlite`;
}

export function getRxStorageSqlite(options: SqliteStorageOptions): RxStorageSqlite {
  const logger = (options.logger ?? silentLogger).child({ component: 'store' });
  const databaseFile = (databaseName: string) => join(options.directory, fileNameFor(databaseName));
  return {
    name: SQLITE_STORAGE_NAME,
    rxdbVersion: RXDB_VERSION,
    settings: options,
    databaseFile,
    async createStorageInstance<RxDocType>(
      params: RxStorageInstanceCreationParams<RxDocType, SqliteInstanceOptions>,
    ): Promise<RxStorageInstanceSqlite<RxDocType>> {
      ensureRxStorageInstanceParamsAreCorrect(params);
      if (params.schema.attachments) {
        throw new MaverickError(
          ErrorCode.StoreUnsupported,
          `Collection ${params.collectionName} declares attachments, which the Maverick SQLite storage does not store`,
          { hint: 'remove `attachments` from the schema and keep binary data in a (base64) field' },
        );
      }
      if (params.multiInstance) {
        logger.warn(
          { database: params.databaseName },
          'multiInstance is not supported by the SQLite storage; other processes will not see change events',
        );
      }
      try {
        mkdirSync(options.directory, { recursive: true });
      } catch (err) {
        throw new MaverickError(ErrorCode.StoreIo, `Cannot create the store directory ${options.directory}`, {
          hint: 'check the path and its permissions',
          cause: err,
        });
      }
      const connection = await acquireSqliteConnection(databaseFile(params.databaseName), {
        synchronous: options.synchronous,
        driver: options.driver,
        logger,
      });
      try {
        const tableName = `${params.collectionName}-v${params.schema.version}`;
        const table = new CollectionTable<RxDocType>(connection, tableName, params.schema);
        table.create();
        return new RxStorageInstanceSqlite<RxDocType>(
          params.databaseName,
          params.collectionName,
          params.schema,
          params.options ?? {},
          table,
          logger,
        );
      } catch (err) {
        connection.release();
        throw err;
      }
    },
  };
}
