/**
 * The SQLite writer thread: one per process, holding the write connection of
 * every database file the process writes, and running each write as
 * BEGIN IMMEDIATE … COMMIT. COMMIT's fsync (synchronous=FULL) blocks this
 * thread, never the event loop, so UDP datagrams keep being read while the
 * disk works.
 *
 * Messages are handled strictly in arrival order (one at a time), so writes
 * commit in the order they were sent. Driver errors are translated here
 * (StoreDiskFull, StoreCorrupt, StoreIo) and sent back flattened.
 */
import { parentPort } from 'node:worker_threads';
import { ErrorCode, isMaverickError, MaverickError } from '../../proto/errors.js';
import {
  openRawDatabase,
  type RawSqliteDatabase,
  type SqliteStatement,
  type SqlValue,
} from './sqlite-adapters.js';
import { SQLITE_CONSTRAINT, sqlitePrimaryCode, translateSqliteError } from './sqlite-errors.js';
import {
  type FlatError,
  type FromWriter,
  flattenError,
  type StepGroup,
  type ToWriter,
} from './sqlite-writer-protocol.js';

/** Thrown inside a transaction when a step's expectation fails; rolls it back. */
class StaleStep extends Error {
  constructor(readonly step: number) {
    super(`step ${step} found the table changed`);
  }
}

interface Connection {
  file: string;
  db: RawSqliteDatabase;
  statements: Map<string, SqliteStatement>;
}

const port = parentPort;
if (!port) throw new Error('sqlite-writer-worker.ts runs as a worker thread only');

/**
 * WAL pages after which a COMMIT copies the WAL back into the database file
 * (SQLite's default is 1,000, ~4 MB). Every page reaches the file once per
 * checkpoint, so a page written by many commits in between (an index leaf
 * that every batch touches) is copied once instead of many times: at 10,000
 * (~40 MB of WAL on disk) the ingest writer spent ~20 % less CPU per uplink
 * than at 1,000. Durability does not change: each COMMIT still fsyncs the WAL.
 */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Page cache of each write connection, in KiB (SQLite's default is 2,000). Every uplink
 * insert touches a leaf of each index, and the indexes by device and by primary key have
 * one insertion point per device: with 2 MB those leaves were evicted and read back at
 * every batch. 8 MB took ~20 % off the CPU of a bulk of uplink inserts on this thread
 * (the uplink table's four indexes, 200 devices); 16 MB gained little more. The cache fills
 * in the first minutes of any busy period and stays, and it is malloc'd memory the gateway's
 * resident peak carries: 4 MB ran the 1,000-device 5,000/s burst (bench/gateway-udp) at
 * 165/174 MB against 179/183 with 8 MB (glibc's heap ~10 MB smaller in smaps with 2 MB), at
 * the same CPU per uplink there (251-323 µs against 267-336) and in the ingest bench
 * (10,423 against 10,181 uplinks per CPU-second; the store alone 23,934 against 26,187).
 */
const WRITER_CACHE_KIB = 4_096;

const connections = new Map<string, Connection>();
/** Why a file could not be opened: the answer to every write sent to it. */
const openFailures = new Map<string, FlatError>();

function prepared(connection: Connection, sql: string): SqliteStatement {
  let statement = connection.statements.get(sql);
  if (!statement) {
    statement = connection.db.prepare(sql);
    connection.statements.set(sql, statement);
  }
  return statement;
}

/** Runs a group's steps; `first` is the index of its first step in the transaction. */
function runGroup(connection: Connection, group: StepGroup, first: number): void {
  const statement = prepared(connection, group.sql);
  const { width, params, expect } = group;
  const args: SqlValue[] = new Array(width);
  for (let step = 0; step < group.count; step++) {
    for (let i = 0; i < width; i++) args[i] = params[step * width + i] as SqlValue;
    let changes: number | bigint;
    try {
      changes = statement.run(...args).changes;
    } catch (err) {
      if (expect === 'insert' && sqlitePrimaryCode(err) === SQLITE_CONSTRAINT)
        throw new StaleStep(first + step);
      throw err;
    }
    if (expect === 'one-row' && Number(changes) !== 1) throw new StaleStep(first + step);
  }
}

function write(connection: Connection, id: number, operation: string, groups: StepGroup[]): FromWriter {
  const { db, file } = connection;
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    return { kind: 'failed', id, error: flattenError(translateSqliteError(err, file, operation)) };
  }
  try {
    let first = 0;
    for (const group of groups) {
      runGroup(connection, group, first);
      first += group.count;
    }
    db.exec('COMMIT');
    return { kind: 'committed', id };
  } catch (err) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // SQLite already rolled back by itself (it does on SQLITE_FULL / IOERR): nothing left to undo.
    }
    if (err instanceof StaleStep) return { kind: 'stale', id, step: err.step };
    return { kind: 'failed', id, error: flattenError(translateSqliteError(err, file, operation)) };
  }
}

function notOpen(file: string): FlatError {
  return (
    openFailures.get(file) ??
    flattenError(
      new MaverickError(ErrorCode.StoreClosed, `The database ${file} is not open for writing`, {
        hint: 'open the store again before writing',
      }),
    )
  );
}

async function handle(message: ToWriter): Promise<FromWriter | undefined> {
  switch (message.kind) {
    case 'open': {
      try {
        const db = await openRawDatabase(message.file, message.driver);
        db.exec(`PRAGMA busy_timeout = ${message.busyTimeoutMs}`);
        db.exec(`PRAGMA synchronous = ${message.synchronous}`);
        db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
        db.exec(`PRAGMA cache_size = -${WRITER_CACHE_KIB}`);
        db.exec('PRAGMA foreign_keys = ON');
        connections.set(message.file, { file: message.file, db, statements: new Map() });
        openFailures.delete(message.file);
        return { kind: 'committed', id: message.id };
      } catch (err) {
        const error = isMaverickError(err)
          ? err
          : translateSqliteError(err, message.file, 'opening the database for writing');
        openFailures.set(message.file, flattenError(error));
        return { kind: 'failed', id: message.id, error: flattenError(error) };
      }
    }
    case 'write': {
      const connection = connections.get(message.file);
      if (!connection) return { kind: 'failed', id: message.id, error: notOpen(message.file) };
      return write(connection, message.id, message.operation, message.groups);
    }
    case 'pragma': {
      const connection = connections.get(message.file);
      if (!connection) return { kind: 'failed', id: message.id, error: notOpen(message.file) };
      try {
        connection.db.exec(`PRAGMA ${message.statement}`);
        return { kind: 'committed', id: message.id };
      } catch (err) {
        const error = translateSqliteError(err, message.file, `PRAGMA ${message.statement}`);
        return { kind: 'failed', id: message.id, error: flattenError(error) };
      }
    }
    case 'close': {
      const connection = connections.get(message.file);
      connections.delete(message.file);
      openFailures.delete(message.file);
      try {
        connection?.statements.clear();
        connection?.db.close();
      } finally {
        // The event loop may be blocked waiting for this (a synchronous release()).
        Atomics.store(message.closed, 0, 1);
        Atomics.notify(message.closed, 0);
      }
      return undefined;
    }
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToWriter) => {
  queue = queue.then(async () => {
    const reply = await handle(message);
    if (reply) port.postMessage(reply);
  });
});
