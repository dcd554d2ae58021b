/**
 * Two SQLite drivers behind one small synchronous interface: Node's built-in
 * `node:sqlite` (`DatabaseSync`, Node >= 22.13) and `better-sqlite3` (a
 * compiled addon that works on every Node we support). Both are synchronous,
 * which is what makes one-transaction-per-bulkWrite simple and cheap.
 */
import { createRequire } from 'node:module';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

export type SqlValue = string | number | bigint | Uint8Array | null;
export type SqlRow = Record<string, SqlValue>;
export type SqliteDriverName = 'better-sqlite3' | 'node:sqlite';

export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number | bigint };
  all(...params: SqlValue[]): SqlRow[];
  get(...params: SqlValue[]): SqlRow | undefined;
}

/** What a driver must offer; the connection layer builds everything else on it. */
export interface RawSqliteDatabase {
  readonly driver: SqliteDriverName;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
}

/** The part of node:sqlite we use (Node 20's @types/node does not describe it). */
interface NodeSqliteModule {
  DatabaseSync: new (
    file: string,
  ) => {
    prepare(sql: string): SqliteStatement;
    exec(sql: string): void;
    close(): void;
  };
}

/** The part of better-sqlite3 we use; its own typings are CommonJS-flavoured. */
type BetterSqliteConstructor = new (
  file: string,
) => {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
};

let nodeSqliteProbe: Promise<NodeSqliteModule | undefined> | undefined;

/**
 * Loads node:sqlite if this runtime has it. Node 22/23/24 print an
 * ExperimentalWarning when the module loads; that one warning is swallowed
 * (once per process) so that every CLI invocation does not print it.
 */
function probeNodeSqlite(): Promise<NodeSqliteModule | undefined> {
  nodeSqliteProbe ??= (async () => {
    const original = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      const text = typeof warning === 'string' ? warning : warning.message;
      if (/sqlite/i.test(text)) return;
      (original as (...args: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      const specifier = 'node:sqlite';
      return (await import(specifier)) as NodeSqliteModule;
    } catch {
      return undefined;
    } finally {
      process.emitWarning = original;
    }
  })();
  return nodeSqliteProbe;
}

function loadBetterSqlite(): BetterSqliteConstructor {
  // better-sqlite3 is CommonJS; createRequire keeps this module loadable even
  // where only node:sqlite is wanted.
  const require = createRequire(import.meta.url);
  return require('better-sqlite3') as BetterSqliteConstructor;
}

/** Which driver to use: MAVERICK_SQLITE_DRIVER forces one, else node:sqlite when present. */
export async function resolveDriver(
  requested = process.env.MAVERICK_SQLITE_DRIVER,
): Promise<SqliteDriverName> {
  if (requested === 'better-sqlite3') return 'better-sqlite3';
  if (requested === 'node:sqlite') {
    if (!(await probeNodeSqlite())) {
      throw new MaverickError(
        ErrorCode.StoreUnsupported,
        `MAVERICK_SQLITE_DRIVER=node:sqlite but this Node (${process.version}) has no node:sqlite`,
        { hint: 'use Node >= 22.13, or unset MAVERICK_SQLITE_DRIVER to fall back to better-sqlite3' },
      );
    }
    return 'node:sqlite';
  }
  if (requested !== undefined && requested !== '') {
    throw new MaverickError(
      ErrorCode.StoreUnsupported,
      `MAVERICK_SQLITE_DRIVER must be better-sqlite3 or node:sqlite, not "${requested}"`,
      { hint: 'fix or unset the MAVERICK_SQLITE_DRIVER environment variable' },
    );
  }
  return (await probeNodeSqlite()) ? 'node:sqlite' : 'better-sqlite3';
}

export async function openRawDatabase(file: string, driver: SqliteDriverName): Promise<RawSqliteDatabase> {
  if (driver === 'node:sqlite') {
    const sqlite = await probeNodeSqlite();
    if (!sqlite)
      throw new MaverickError(ErrorCode.StoreUnsupported, 'node:sqlite is not available in this runtime');
    const db = new sqlite.DatabaseSync(file);
    return {
      driver,
      prepare: (sql) => db.prepare(sql),
      exec: (sql) => db.exec(sql),
      close: () => db.close(),
    };
  }
  const BetterSqlite = loadBetterSqlite();
  const db = new BetterSqlite(file);
  return {
    driver,
    prepare: (sql) => db.prepare(sql),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
}
