/**
 * Opens the embedded regional node on a data directory: the RxDB store on
 * Maverick's durable SQLite RxStorage under `<dataDir>/regional/`, the
 * gateway registry, and the intake. Tests pass another RxStorage.
 */
import { join } from 'node:path';
import type { RxStorage } from 'rxdb';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import { type Logger, silentLogger } from '../proto/log.js';
import { RegionalNode } from './intake.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';

export interface OpenRegionalOptions {
  dataDir: string;
  // RxStorage's generics differ per storage; the regional node does not care which.
  // biome-ignore lint/suspicious/noExplicitAny: storage internals are opaque here
  storage?: RxStorage<any, any>;
  logger?: Logger;
}

export interface OpenedRegional {
  store: RxdbRegionalStore;
  registry: GatewayRegistry;
  node: RegionalNode;
  close(): Promise<void>;
}

export async function openRegional(options: OpenRegionalOptions): Promise<OpenedRegional> {
  const logger = options.logger ?? silentLogger;
  const storage =
    options.storage ?? getRxStorageSqlite({ directory: join(options.dataDir, 'regional'), logger });
  const store = await RxdbRegionalStore.open({ storage, name: 'regional' });
  const registry = await GatewayRegistry.open(store);
  const node = new RegionalNode({ registry, store, logger: logger.child({ component: 'regional' }) });
  return { store, registry, node, close: () => store.close() };
}
