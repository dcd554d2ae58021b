/**
 * Opens the gateway's RxDB database on a given RxStorage (the SQLite storage
 * in production and in the demo; RxDB's memory storage only in unit tests).
 */
import { addRxPlugin, createRxDatabase, type RxCollection, type RxDatabase, type RxStorage } from 'rxdb';
import { RxDBMigrationSchemaPlugin } from 'rxdb/plugins/migration-schema';
import { boundChangeEventBuffers } from './change-event-buffer.js';
import {
  type BundleDoc,
  type DeviceDoc,
  type DevNonceDoc,
  farmCollections,
  type KvDoc,
  type PlotDoc,
  type SessionDoc,
  type UplinkDoc,
} from './schemas.js';

export interface FarmCollections {
  uplinks: RxCollection<UplinkDoc>;
  devices: RxCollection<DeviceDoc>;
  sessions: RxCollection<SessionDoc>;
  devnonces: RxCollection<DevNonceDoc>;
  plots: RxCollection<PlotDoc>;
  bundles: RxCollection<BundleDoc>;
  kv: RxCollection<KvDoc>;
}

export type FarmDatabase = RxDatabase<FarmCollections>;

addRxPlugin(RxDBMigrationSchemaPlugin);

/** Bundle documents copied per step when a store from before schema version 1 is opened. */
const BUNDLE_MIGRATION_BATCH = 8;

export interface OpenFarmDatabaseOptions {
  // RxStorage's generics differ per storage; the farm database does not care which.
  // biome-ignore lint/suspicious/noExplicitAny: storage internals are opaque here
  storage: RxStorage<any, any>;
  name?: string;
}

export async function openFarmDatabase(options: OpenFarmDatabaseOptions): Promise<FarmDatabase> {
  const db = await createRxDatabase<FarmCollections>({
    name: options.name ?? 'maverick',
    storage: options.storage,
    multiInstance: false,
    eventReduce: true,
    closeDuplicates: true,
  });
  await db.addCollections(farmCollections);
  boundChangeEventBuffers(Object.values(db.collections));
  try {
    // A store written before bundles had the (kind, toMs) index: copy its bundles into the
    // new table, BUNDLE_MIGRATION_BATCH at a time (RxDB's default of 200 could exceed a small heap).
    await db.bundles.migratePromise(BUNDLE_MIGRATION_BATCH);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
