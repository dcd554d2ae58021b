/**
 * The SQLite writer thread: owns the write connection of one database file
 * and runs each write as BEGIN IMMEDIATE … COMMIT. COMMIT's fsync
 * (synchronous=FULL) blocks this thread, never the event loop, so UDP
 * datagrams keep being read while the disk works.
 *
 * Messages are handled strictly in arrival order (one at a time), so writes
 * commit in the order they were sent. Driver errors are translated here
 * (StoreDiskFull, StoreCorrupt, StoreIo) and sent back flattened.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isMaverickError } from '../../proto/errors.js';
import { openRawDatabase, type RawSqliteDatabase, type SqliteStatement } from './sqlite-adapters.js';
import { SQLITE_CONSTRAINT, sqlitePrimaryCode, translateSqliteError } from './sqlite-errors.js';
import {
  type FromWriter,
  flattenError,
  type ToWriter,
  type WriterSettings,
  type WriteStep,
} from './sqlite-writer-protocol.js';

/** Thrown inside a transaction when a step's expectation fails; rolls it back. */
class StaleStep extends Error {
  constructor(readonly step: number) {
    super(`step ${step} found the table changed`);
  }
}

const settings = workerData as WriterSettings & { closed: Int32Array };
const port = parentPort;
if (!port) throw new Error('sqlite-writer-worker.ts runs as a worker thread only');

const statements = new Map<string, SqliteStatement>();
let db: RawSqliteDatabase | undefined;

function prepared(sql: string): SqliteStatement {
  let statement = statements.get(sql);
  if (!statement) {
    statement = (db as RawSqliteDatabase).prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}

function runStep(step: WriteStep, index: number): void {
  let changes: number | bigint;
  try {
    changes = prepared(step.sql).run(...step.params).changes;
  } catch (err) {
    if (step.expect === 'insert' && sqlitePrimaryCode(err) === SQLITE_CONSTRAINT) throw new StaleStep(index);
    throw err;
  }
  if (step.expect === 'one-row' && Number(changes) !== 1) throw new StaleStep(index);
}

function write(id: number, operation: string, steps: WriteStep[]): FromWriter {
  const raw = db as RawSqliteDatabase;
  try {
    raw.exec('BEGIN IMMEDIATE');
  } catch (err) {
    return { kind: 'failed', id, error: flattenError(translateSqliteError(err, settings.file, operation)) };
  }
  try {
    steps.forEach(runStep);
    raw.exec('COMMIT');
    return { kind: 'committed', id };
  } catch (err) {
    try {
      raw.exec('ROLLBACK');
    } catch {
      // SQLite already rolled back by itself (it does on SQLITE_FULL / IOERR): nothing left to undo.
    }
    if (err instanceof StaleStep) return { kind: 'stale', id, step: err.step };
    return { kind: 'failed', id, error: flattenError(translateSqliteError(err, settings.file, operation)) };
  }
}

function handle(message: ToWriter): FromWriter | undefined {
  switch (message.kind) {
    case 'write':
      return write(message.id, message.operation, message.steps);
    case 'pragma':
      try {
        (db as RawSqliteDatabase).exec(`PRAGMA ${message.statement}`);
        return { kind: 'committed', id: message.id };
      } catch (err) {
        const error = translateSqliteError(err, settings.file, `PRAGMA ${message.statement}`);
        return { kind: 'failed', id: message.id, error: flattenError(error) };
      }
    case 'close':
      statements.clear();
      try {
        db?.close();
      } finally {
        db = undefined;
        // The event loop may be blocked waiting for this (a synchronous release()).
        Atomics.store(settings.closed, 0, 1);
        Atomics.notify(settings.closed, 0);
        port?.close();
      }
      return undefined;
  }
}

try {
  db = await openRawDatabase(settings.file, settings.driver);
  db.exec(`PRAGMA busy_timeout = ${settings.busyTimeoutMs}`);
  db.exec(`PRAGMA synchronous = ${settings.synchronous}`);
  db.exec('PRAGMA foreign_keys = ON');
  port.on('message', (message: ToWriter) => {
    const reply = handle(message);
    if (reply) port.postMessage(reply);
  });
  port.postMessage({ kind: 'ready' } satisfies FromWriter);
} catch (err) {
  const error = isMaverickError(err)
    ? err
    : translateSqliteError(err, settings.file, 'opening the database for writing');
  port.postMessage({ kind: 'failed', id: -1, error: flattenError(error) } satisfies FromWriter);
  Atomics.store(settings.closed, 0, 1);
  Atomics.notify(settings.closed, 0);
  port.close();
}
