/**
 * One SQLite connection per database file per process, shared by reference
 * count: every RxDB collection of a database is a table in the same file, and
 * SQLite serialises writers per file anyway, so a second connection would only
 * add lock contention (SQLITE_BUSY) without adding throughput.
 *
 * Durability settings (https://www.sqlite.org/pragma.html, https://www.sqlite.org/wal.html):
 * - `journal_mode=WAL`: readers (the `maverick uplinks` CLI) do not block the writer.
 * - `synchronous=FULL` (default): the WAL is fsynced at every commit, so a
 *   committed transaction survives power loss. NORMAL may lose the last
 *   commits on power loss (never corrupts); EXTRA also fsyncs the directory.
 * - `PRAGMA quick_check` at open: a damaged file is reported, not half-used.
 * - `cache_size` of this (reading) connection is SQLite's own default, 2 MiB,
 *   set before the check: better-sqlite3 is built with 16 MB, which the check
 *   (it reads every page) filled on a large store and the process kept for
 *   its whole life. The OS page cache keeps the file's hot pages anyway.
 *
 * Writes that must not block the event loop (every RxDB bulkWrite) go to a
 * writer thread (one per process) with its own connection to the file (sqlite-writer.ts);
 * they are queued here one after another (`exclusive`), so a write reads the
 * table only after the previous one committed. Reads, and the synchronous
 * `transaction()` used at open (DDL), run on this connection.
 */
import { realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import {
  openRawDatabase,
  type RawSqliteDatabase,
  resolveDriver,
  type SqliteDriverName,
  type SqliteStatement,
  type SqlValue,
} from './sqlite-adapters.js';
import { corruptStoreError, translateSqliteError } from './sqlite-errors.js';
import { SqliteWriter, type WriteOutcome } from './sqlite-writer.js';
import { groupSteps, type StepGroup, type WriteStep } from './sqlite-writer-protocol.js';

export type { SqliteDriverName, SqliteStatement, SqlRow, SqlValue } from './sqlite-adapters.js';
export type { WriteOutcome } from './sqlite-writer.js';
export type { StepGroup, WriteStep } from './sqlite-writer-protocol.js';

export type SynchronousMode = 'NORMAL' | 'FULL' | 'EXTRA';

export interface OpenSqliteOptions {
  /** fsync policy, see the module comment. Default FULL. */
  synchronous?: SynchronousMode;
  /** How long a writer waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Force a driver; default: MAVERICK_SQLITE_DRIVER, else node:sqlite when present. */
  driver?: SqliteDriverName;
  logger?: Logger;
}

const synchronousModes: readonly SynchronousMode[] = ['NORMAL', 'FULL', 'EXTRA'];

export class SqliteConnection {
  private readonly statements = new Map<string, SqliteStatement>();
  private refs = 1;
  private isClosed = false;
  private deleteFiles = false;
  private writer: SqliteWriter | undefined;
  /** Per-connection settings made with pragma(), replayed on the writer's connection when it starts. */
  private readonly settingsMade: string[] = [];
  /** The tail of the queue of exclusive sections (see `exclusive`). */
  private queueTail: Promise<unknown> = Promise.resolve();
  /** The exclusive section running now, and the file's data_version when it started. */
  private running: { dataVersion: number; done: Promise<unknown> } | undefined;

  constructor(
    readonly file: string,
    private readonly raw: RawSqliteDatabase,
    private readonly onLastRelease: () => void,
    private readonly writerOptions: { synchronous: SynchronousMode; busyTimeoutMs: number },
  ) {}

  get driver(): SqliteDriverName {
    return this.raw.driver;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** A cached prepared statement whose errors come out as MaverickErrors. */
  prepare(sql: string): SqliteStatement {
    this.ensureOpen();
    let statement = this.statements.get(sql);
    if (!statement) {
      const prepared = this.guard('preparing a statement', () => this.raw.prepare(sql));
      statement = {
        run: (...params) => this.guard('writing', () => prepared.run(...params)),
        all: (...params) => this.guard('reading', () => prepared.all(...params)),
        get: (...params) => this.guard('reading', () => prepared.get(...params)),
      };
      this.statements.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.ensureOpen();
    this.guard('executing SQL', () => this.raw.exec(sql));
  }

  /** Runs `fn` inside BEGIN IMMEDIATE … COMMIT; on any error rolls back and rethrows (translated). */
  transaction<T>(operation: string, fn: () => T): T {
    this.ensureOpen();
    this.guard(operation, () => this.raw.exec('BEGIN IMMEDIATE'));
    try {
      const result = fn();
      this.raw.exec('COMMIT');
      return result;
    } catch (err) {
      try {
        this.raw.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back by itself (it does on SQLITE_FULL / IOERR): nothing left to undo.
      }
      throw translateSqliteError(err, this.file, operation);
    }
  }

  /**
   * The value of a single-valued PRAGMA (e.g. `page_count`). A setting
   * (`name = value`) is made on the writer thread's connection too, ahead of
   * any write sent after it.
   */
  pragma(statement: string): SqlValue | undefined {
    const row = this.guard(`PRAGMA ${statement}`, () => this.raw.prepare(`PRAGMA ${statement}`).get());
    if (statement.includes('=')) {
      this.settingsMade.push(statement);
      this.writer?.pragma(statement).catch(() => {
        // A writer that failed reports the failure with the next write.
      });
    }
    return row ? Object.values(row)[0] : undefined;
  }

  /**
   * Runs `steps` as one transaction on the writer thread (started on first
   * use); resolves once COMMIT returned, or with `stale` when a step's
   * expectation failed and everything was rolled back. Errors are the
   * writer's MaverickErrors (StoreDiskFull, StoreCorrupt, StoreIo).
   */
  write(operation: string, steps: readonly WriteStep[]): Promise<WriteOutcome> {
    return this.writeGroups(operation, groupSteps(steps));
  }

  /** write() for steps already grouped by statement (what a bulk write builds directly). */
  writeGroups(operation: string, groups: StepGroup[]): Promise<WriteOutcome> {
    this.ensureOpen();
    if (!this.writer) {
      this.writer = new SqliteWriter({
        file: this.file,
        driver: this.raw.driver,
        synchronous: this.writerOptions.synchronous,
        busyTimeoutMs: this.writerOptions.busyTimeoutMs,
      });
      for (const statement of this.settingsMade) void this.writer.pragma(statement).catch(() => {});
    }
    return this.writer.write(operation, groups);
  }

  /**
   * Runs `section` after every section queued before it has finished: a
   * read-then-write (read the stored versions, decide, write) never sees a
   * table that an earlier write of this process is still changing.
   */
  exclusive<T>(section: () => Promise<T> | T): Promise<T> {
    const start = () => this.runSection(section);
    const run = this.queueTail.then(start, start);
    this.queueTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs synchronous reads of this connection in one snapshot, answered in order with the
   * exclusive sections: a snapshot that may hold the write of the section running now (the
   * writer thread committed it, WAL makes it visible here at once, but the section has not
   * finished, so its change events are not out yet) is answered only once that section has
   * finished. RxDB keeps a query's result current from change events after reading it; a count
   * that held an insert answered before the insert's event counted that insert twice. Answered
   * after it, RxDB sees the event arrive during its read and reads again. A snapshot without
   * the running section's write (it has not committed yet) is answered at once, so a read never
   * waits for a write it does not hold (an fsync, another process's lock).
   */
  async readInOrder<T>(read: () => T): Promise<T> {
    const running = this.running;
    if (!running) return read();
    this.exec('BEGIN');
    let dataVersion: number;
    let result: T;
    try {
      // The first statement fixes the snapshot; data_version changes with every commit of
      // another connection (the writer thread's among them) that the snapshot holds.
      dataVersion = this.dataVersion();
      result = read();
    } finally {
      this.exec('COMMIT');
    }
    if (dataVersion !== running.dataVersion) await running.done.catch(() => undefined);
    return result;
  }

  private runSection<T>(section: () => Promise<T> | T): Promise<T> {
    const running = { dataVersion: this.dataVersion(), done: (async () => section())() };
    this.running = running;
    const finished = () => {
      if (this.running === running) this.running = undefined;
    };
    running.done.then(finished, finished);
    return running.done;
  }

  private dataVersion(): number {
    return Number(this.prepare('PRAGMA data_version').get()?.data_version);
  }

  retain(): this {
    this.refs++;
    return this;
  }

  /** After RxDB removed the last collection: delete the file (and -wal, -shm) when the last user releases it. */
  deleteFilesOnLastRelease(): void {
    this.deleteFiles = true;
  }

  /** Drops one reference; the last one closes the file. */
  release(): void {
    if (this.isClosed) return;
    this.refs--;
    if (this.refs > 0) return;
    this.isClosed = true;
    this.statements.clear();
    this.onLastRelease();
    this.writer?.closeSync();
    this.raw.close();
    if (this.deleteFiles) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.file}${suffix}`, { force: true });
    }
  }

  private guard<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw translateSqliteError(err, this.file, operation);
    }
  }

  private ensureOpen(): void {
    if (this.isClosed) {
      throw new MaverickError(ErrorCode.StoreClosed, `The database ${this.file} is already closed`, {
        hint: 'open the store again before using it',
      });
    }
  }
}

const registry = new Map<string, Promise<SqliteConnection>>();

/** KiB of page cache of the connection opened here (SQLite's compiled-in default). */
const READER_CACHE_KIB = 2_000;

/** Absolute, symlink-free path of a (possibly not yet existing) file in an existing directory. */
function canonicalPath(file: string): string {
  return join(realpathSync(dirname(file)), basename(file));
}

function applyPragmas(raw: RawSqliteDatabase, file: string, options: OpenSqliteOptions): void {
  const synchronous = options.synchronous ?? 'FULL';
  if (!synchronousModes.includes(synchronous)) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `synchronous must be NORMAL, FULL or EXTRA, not ${synchronous}`,
    );
  }
  const busyTimeout = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
  raw.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
  raw.exec(`PRAGMA cache_size = -${READER_CACHE_KIB}`);
  const check = raw.prepare('PRAGMA quick_check').all();
  const verdicts = check.map((row) => String(Object.values(row)[0]));
  if (verdicts.length !== 1 || verdicts[0] !== 'ok') {
    throw corruptStoreError(file, `quick_check reported: ${verdicts.slice(0, 5).join('; ')}`);
  }
  const mode = raw.prepare('PRAGMA journal_mode = WAL').get();
  if (String(mode ? Object.values(mode)[0] : '').toLowerCase() !== 'wal') {
    options.logger?.warn({ file, mode }, 'SQLite refused WAL mode; continuing with its journal mode');
  }
  raw.exec(`PRAGMA synchronous = ${synchronous}`);
  raw.exec('PRAGMA foreign_keys = ON');
}

/**
 * Opens (or shares) the connection to `file`. Each call must be paired with
 * one `release()`. A damaged file fails with StoreCorrupt naming the file.
 * The first opener's options (synchronous, driver) apply while the file stays open.
 */
export function acquireSqliteConnection(
  file: string,
  options: OpenSqliteOptions = {},
): Promise<SqliteConnection> {
  const key = canonicalPath(file);
  const existing = registry.get(key);
  if (existing) return existing.then((connection) => connection.retain());
  const logger = options.logger ?? silentLogger;
  const opening = (async () => {
    const driver = options.driver ?? (await resolveDriver());
    let raw: RawSqliteDatabase | undefined;
    try {
      raw = await openRawDatabase(key, driver);
      applyPragmas(raw, key, options);
    } catch (err) {
      try {
        raw?.close();
      } catch {
        // The open already failed; the original error is the one worth reporting.
      }
      throw translateSqliteError(err, key, 'opening the database');
    }
    logger.debug({ file: key, driver, synchronous: options.synchronous ?? 'FULL' }, 'SQLite database open');
    return new SqliteConnection(key, raw, () => registry.delete(key), {
      synchronous: options.synchronous ?? 'FULL',
      busyTimeoutMs: Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000)),
    });
  })();
  registry.set(key, opening);
  opening.catch(() => registry.delete(key));
  return opening;
}

/** How many files this process holds open (for tests and `maverick doctor`). */
export function openSqliteFileCount(): number {
  return registry.size;
}
