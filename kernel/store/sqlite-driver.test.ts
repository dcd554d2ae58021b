import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError, MaverickError } from '../../proto/errors.js';
import { resolveDriver } from './sqlite-adapters.js';
import { acquireSqliteConnection, openSqliteFileCount } from './sqlite-driver.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'maverick-sqlite-driver-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** A real database with enough rows to span many pages, checkpointed into the main file. */
async function makeDatabase(file: string): Promise<void> {
  const connection = await acquireSqliteConnection(file);
  connection.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  connection.exec('CREATE INDEX t_body ON t (body)');
  connection.transaction('fill', () => {
    for (let i = 0; i < 2000; i++)
      connection.prepare('INSERT INTO t (body) VALUES (?)').run(`row ${i} ${'x'.repeat(i % 97)}`);
  });
  connection.pragma('wal_checkpoint(TRUNCATE)');
  connection.release();
}

/** Opens and reads everything; must either work or fail with a MaverickError. */
async function openAndScan(file: string): Promise<'ok' | MaverickError> {
  try {
    const connection = await acquireSqliteConnection(file);
    try {
      const tables = connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      for (const { name } of tables)
        connection.prepare(`SELECT * FROM "${String(name).replaceAll('"', '""')}"`).all();
      return 'ok';
    } finally {
      connection.release();
    }
  } catch (err) {
    if (err instanceof MaverickError) return err;
    throw err;
  }
}

describe('SQLite driver layer', () => {
  it(`uses ${process.env.MAVERICK_SQLITE_DRIVER ?? 'the default driver'} with WAL, synchronous, busy_timeout and a 2 MB page cache set`, async () => {
    const expected = await resolveDriver();
    for (const [mode, level] of [
      ['NORMAL', 1],
      ['FULL', 2],
      ['EXTRA', 3],
    ] as const) {
      const connection = await acquireSqliteConnection(join(directory, `${mode}.sqlite`), {
        synchronous: mode,
      });
      expect(connection.driver).toBe(expected);
      expect(connection.pragma('journal_mode')).toBe('wal');
      expect(Number(connection.pragma('synchronous'))).toBe(level);
      expect(Number(connection.pragma('foreign_keys'))).toBe(1);
      expect(Number(connection.pragma('busy_timeout'))).toBe(5000);
      // better-sqlite3's build default is 16 MB, which the quick_check at open would fill.
      expect(Number(connection.pragma('cache_size'))).toBe(-2000);
      connection.release();
    }
  });

  it('shares one connection per file and closes it with the last release', async () => {
    const before = openSqliteFileCount();
    const file = join(directory, 'shared.sqlite');
    const [a, b] = await Promise.all([
      acquireSqliteConnection(file),
      acquireSqliteConnection(`${directory}/./shared.sqlite`),
    ]);
    expect(a).toBe(b);
    expect(openSqliteFileCount()).toBe(before + 1);
    a.release();
    expect(a.closed).toBe(false);
    b.release();
    expect(a.closed).toBe(true);
    expect(openSqliteFileCount()).toBe(before);
    expect(() => a.prepare('SELECT 1')).toThrow(expect.objectContaining({ code: ErrorCode.StoreClosed }));
  });

  it('rolls a failed transaction back and reports SQL errors as StoreIo', async () => {
    const connection = await acquireSqliteConnection(join(directory, 'tx.sqlite'));
    try {
      connection.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      expect(() =>
        connection.transaction('test', () => {
          connection.prepare('INSERT INTO t (id) VALUES (?)').run(1);
          connection.prepare('INSERT INTO t (id) VALUES (?)').run(1);
        }),
      ).toThrow(expect.objectContaining({ code: ErrorCode.StoreIo }));
      expect(connection.prepare('SELECT COUNT(*) AS n FROM t').get()?.n).toBe(0);
    } finally {
      connection.release();
    }
  });

  it('runs write() on the writer thread: committed writes are visible to reads here, in order', async () => {
    const connection = await acquireSqliteConnection(join(directory, 'writer.sqlite'));
    try {
      connection.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
      const insert = (id: string, n: number) => ({
        sql: 'INSERT INTO t (id, n) VALUES (?, ?)',
        params: [id, n],
        expect: 'insert' as const,
      });
      // Sent back to back without waiting: the thread commits them in the order sent.
      const first = connection.write('first', [insert('a', 1), insert('b', 2)]);
      const second = connection.write('second', [
        { sql: 'UPDATE t SET n = n * 10 WHERE id = ?', params: ['a'], expect: 'one-row' },
      ]);
      expect(await first).toEqual({ kind: 'committed' });
      expect(await second).toEqual({ kind: 'committed' });
      expect(connection.prepare('SELECT id, n FROM t ORDER BY id').all()).toEqual([
        { id: 'a', n: 10 },
        { id: 'b', n: 2 },
      ]);
    } finally {
      connection.release();
    }
  });

  it('answers stale and keeps nothing of a write whose expectation fails; other errors keep their class', async () => {
    const connection = await acquireSqliteConnection(join(directory, 'stale.sqlite'));
    try {
      connection.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
      connection.exec("INSERT INTO t VALUES ('a', 1)");
      const add = { sql: 'INSERT INTO t (id, n) VALUES (?, ?)', params: ['b', 2], expect: 'insert' as const };
      // The row to update is not there: the insert before it is rolled back too.
      expect(
        await connection.write('update missing', [
          add,
          { sql: 'UPDATE t SET n = 5 WHERE id = ?', params: ['zz'], expect: 'one-row' },
        ]),
      ).toEqual({ kind: 'stale', step: 1 });
      // The primary key is taken: stale, not an error.
      expect(
        await connection.write('insert existing', [
          { sql: 'INSERT INTO t (id, n) VALUES (?, ?)', params: ['a', 9], expect: 'insert' },
        ]),
      ).toEqual({ kind: 'stale', step: 0 });
      expect(connection.prepare('SELECT id, n FROM t').all()).toEqual([{ id: 'a', n: 1 }]);
      // Without an expectation, the same clash is an error, rebuilt here as a MaverickError.
      const failure = await connection
        .write('plain insert', [{ sql: 'INSERT INTO t (id, n) VALUES (?, ?)', params: ['a', 9] }])
        .catch((err: unknown) => err);
      expect(isMaverickError(failure, ErrorCode.StoreIo)).toBe(true);
      expect((failure as MaverickError).message).toMatch(
        /while plain insert on .*stale\.sqlite: UNIQUE constraint/,
      );
      // The thread is still there for the next write.
      expect(await connection.write('later', [add])).toEqual({ kind: 'committed' });
    } finally {
      connection.release();
    }
  });

  it('refuses a file that is not a database with StoreCorrupt naming the file and what to do', async () => {
    const file = join(directory, 'garbage.sqlite');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const outcome = await openAndScan(file);
    expect(isMaverickError(outcome, ErrorCode.StoreCorrupt)).toBe(true);
    expect((outcome as MaverickError).message).toContain('garbage.sqlite');
    expect((outcome as MaverickError).message).toMatch(/move the file .* aside.*backup/);
    expect(openSqliteFileCount()).toBe(0);
  });

  it('detects damaged pages in a real database at open (quick_check)', async () => {
    const file = join(directory, 'damaged.sqlite');
    await makeDatabase(file);
    const bytes = readFileSync(file);
    // Scribble over b-tree pages after the schema page; the header stays valid.
    bytes.fill(0x7f, 4096 * 3 + 100, 4096 * 3 + 1500);
    bytes.fill(0x00, 4096 * 8, 4096 * 9);
    writeFileSync(file, bytes);
    const outcome = await openAndScan(file);
    expect(isMaverickError(outcome, ErrorCode.StoreCorrupt)).toBe(true);
    expect((outcome as MaverickError).message).toContain('damaged.sqlite');
  });

  it('survives arbitrary bytes as a database file: opens or fails with a MaverickError, never worse', async () => {
    const original = join(directory, 'seed.sqlite');
    await makeDatabase(original);
    const seedBytes = readFileSync(original);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 20_000 }).map((bytes) => Buffer.from(bytes)),
          fc
            .array(fc.tuple(fc.nat(seedBytes.length - 1), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 40,
            })
            .map((edits) => {
              const mutated = Buffer.from(seedBytes);
              for (const [offset, value] of edits) mutated[offset] = value;
              return mutated;
            }),
        ),
        async (bytes) => {
          const file = join(directory, `fuzz-${run++}.sqlite`);
          writeFileSync(file, bytes);
          const outcome = await openAndScan(file);
          expect(outcome === 'ok' || outcome instanceof MaverickError).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
    expect(openSqliteFileCount()).toBe(0);
  });

  it('rejects an unknown MAVERICK_SQLITE_DRIVER with StoreUnsupported', async () => {
    await expect(resolveDriver('sqlite9')).rejects.toMatchObject({ code: ErrorCode.StoreUnsupported });
  });
});
