/**
 * The gateway store's files on disk: they hold AppKeys and session keys, so the
 * store directory is 0700 and the SQLite files 0600 from the moment they exist
 * (the database file is made 0600 before SQLite opens it; SQLite gives its WAL
 * and shared-memory files the database file's mode). And a store that existed
 * must not silently come back empty: a missing or zero-byte database in a data
 * directory that had one refuses to open until the operator says --init-store.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import { configPath } from './config/paths.js';

/** The RxDB database name the gateway uses; its SQLite file is `<name>.sqlite`. */
export const GATEWAY_DATABASE_NAME = 'gateway';
/** Written beside store/ once a store was opened: from then on, losing the database is an error. */
export const STORE_MARKER_FILE = 'store.created';
const SQLITE_SUFFIXES = ['', '-wal', '-shm'] as const;

export function storeDirectory(dataDir: string): string {
  return join(dataDir, 'store');
}

export function gatewayDatabaseFile(dataDir: string): string {
  return join(storeDirectory(dataDir), `${GATEWAY_DATABASE_NAME}.sqlite`);
}

export interface PrepareStoreOptions {
  /** Start an empty store even though this data directory had one (`maverick run --init-store`). */
  initStore?: boolean;
}

/** Call before opening the gateway store; call markStoreCreated after it opened. */
export function prepareStoreFiles(dataDir: string, options: PrepareStoreOptions = {}): void {
  const dir = storeDirectory(dataDir);
  const file = gatewayDatabaseFile(dataDir);
  const size = existsSync(file) ? statSync(file).size : undefined;
  const hadStore = existsSync(join(dataDir, STORE_MARKER_FILE));
  const lost =
    (size === undefined && hadStore) || (size === 0 && (hadStore || existsSync(configPath(dataDir))));
  if (lost && !options.initStore) {
    throw new MaverickError(
      ErrorCode.StoreCorrupt,
      `the store ${file} is ${size === undefined ? 'missing' : 'empty (0 bytes)'}, but this data directory had one: starting would lose every device, session and DevNonce`,
      {
        hint: `restore ${dir} from a backup; or, to start over with an empty store (devices must be added again), run with --init-store`,
        context: { file },
      },
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, 0o700);
  if (size === undefined) closeSync(openSync(file, 'wx', 0o600));
  for (const suffix of SQLITE_SUFFIXES) {
    if (existsSync(file + suffix)) tighten(file + suffix, 0o600);
  }
}

export function markStoreCreated(dataDir: string): void {
  const marker = join(dataDir, STORE_MARKER_FILE);
  if (!existsSync(marker)) writeFileSync(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
}

/** Takes group and other bits away from a file made by an older version (or a copy). */
function tighten(path: string, mode: number): void {
  if ((statSync(path).mode & 0o777 & ~mode) !== 0) chmodSync(path, mode);
}
