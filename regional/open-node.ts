/**
 * Opens the regional node: by default the embedded RxDB store on Maverick's
 * durable SQLite RxStorage under `<dataDir>/regional/` (tests pass another
 * RxStorage), or PostgreSQL when `postgres` is given; then the gateway
 * registry and the intake.
 */
import { join } from 'node:path';
import type { RxStorage } from 'rxdb';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import { type Logger, silentLogger } from '../proto/log.js';
import { RegionalNode } from './intake.js';
import { PgRegionalStore } from './pg-store.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';
import type { RegionalStore } from './store.js';

export interface OpenRegionalOptions {
  dataDir: string;
  // RxStorage's generics differ per storage; the regional node does not care which.
  // biome-ignore lint/suspicious/noExplicitAny: storage internals are opaque here
  storage?: RxStorage<any, any>;
  /** Use PostgreSQL instead of the embedded store (several workers may share it). */
  postgres?: { url: string; password?: string; poolSize?: number };
  logger?: Logger;
}

export interface OpenedRegional {
  store: RegionalStore;
  registry: GatewayRegistry;
  node: RegionalNode;
  close(): Promise<void>;
}

export async function openRegional(options: OpenRegionalOptions): Promise<OpenedRegional> {
  const logger = options.logger ?? silentLogger;
  const store: RegionalStore = options.postgres
    ? await PgRegionalStore.open({ ...options.postgres, logger })
    : await RxdbRegionalStore.open({
        storage:
          options.storage ?? getRxStorageSqlite({ directory: join(options.dataDir, 'regional'), logger }),
        name: 'regional',
      });
  const registry = await GatewayRegistry.open(store);
  const node = new RegionalNode({ registry, store, logger: logger.child({ component: 'regional' }) });
  return { store, registry, node, close: () => store.close() };
}
