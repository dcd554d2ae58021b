import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fillWithDefaultSettings,
  normalizeMangoQuery,
  prepareQuery,
  type RxDocumentData,
  type RxJsonSchema,
  randomToken,
} from 'rxdb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../proto/errors.js';
import { MAX_COLLECTIONS_PER_PROCESS, openMaverickDatabase } from './open-database.js';
import { getRxStorageSqlite } from './rx-storage-sqlite.js';
import { openRawDatabase, resolveDriver, type SqlRow } from './sqlite-adapters.js';
import type { SqliteConnection } from './sqlite-driver.js';

interface Note {
  id: string;
  text: string;
}
const noteSchema: RxJsonSchema<Note> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: { id: { type: 'string', maxLength: 10 }, text: { type: 'string', maxLength: 20 } },
  required: ['id'],
};

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'maverick-rx-sqlite-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function params(collectionName: string, schema = fillWithDefaultSettings(noteSchema)) {
  return {
    databaseInstanceToken: randomToken(10),
    databaseName: 'unit',
    collectionName,
    schema,
    options: {},
    multiInstance: false,
    devMode: false,
  };
}

describe('getRxStorageSqlite', () => {
  it('refuses schemas with attachments with StoreUnsupported', async () => {
    const storage = getRxStorageSqlite({ directory });
    const withAttachments = fillWithDefaultSettings({ ...noteSchema, attachments: {} });
    await expect(storage.createStorageInstance(params('files', withAttachments))).rejects.toMatchObject({
      code: ErrorCode.StoreUnsupported,
      message: expect.stringMatching(/attachments/),
    });
  });

  it('keeps all collections of a database in one file and deletes it when the last is removed', async () => {
    const storage = getRxStorageSqlite({ directory });
    const notes = await storage.createStorageInstance<Note>(params('notes'));
    const memos = await storage.createStorageInstance<Note>(params('memos'));
    expect(notes.internals.connection).toBe(memos.internals.connection);
    const file = storage.databaseFile('unit');
    expect(existsSync(file)).toBe(true);
    await notes.remove();
    expect(existsSync(file)).toBe(true);
    await memos.remove();
    expect(existsSync(file)).toBe(false);
  });

  it('answers a query that names an index the schema does not declare (JS-side scan)', async () => {
    const schema = fillWithDefaultSettings(noteSchema);
    const notes = await getRxStorageSqlite({ directory }).createStorageInstance<Note>(
      params('notes', schema),
    );
    try {
      const texts = ['pear', 'apple', 'zebra', 'äpfel', 'kiwi'];
      await notes.bulkWrite(
        texts.map((text, i) => ({
          document: {
            id: `n${i}`,
            text,
            _deleted: false,
            _rev: '1-a',
            _attachments: {},
            _meta: { lwt: 1000 + i },
          },
        })),
        'test',
      );
      const query = normalizeMangoQuery(schema, {
        selector: { text: { $gt: 'b' } },
        index: ['text', 'id'],
        sort: [{ text: 'asc' }],
      });
      const prepared = prepareQuery(schema, query);
      expect(prepared.queryPlan.index).toEqual(['text', 'id']);
      const result = await notes.query(prepared);
      expect(result.documents.map((doc) => doc.text)).toEqual(['kiwi', 'pear', 'zebra', 'äpfel']);
    } finally {
      await notes.close();
    }
  });

  it('answers 409 with the stored document when another process inserted it behind this one (no-lookup insert falls back)', async () => {
    const database = await openMaverickDatabase({
      directory,
      name: 'shared',
      collections: { notes: { schema: noteSchema } },
    });
    try {
      await database.notes.insert({ id: 'mine', text: 'first' });
      // Another process (a second connection, not this storage) writes a document this one never read.
      // It opens the file with the driver this run uses (better-sqlite3 on Node 20, node:sqlite on 24).
      const other = await openRawDatabase(join(directory, 'shared.sqlite'), await resolveDriver());
      const mine = other.prepare('SELECT * FROM "notes-v0" WHERE id = ?').get('mine') as SqlRow;
      const theirs = { ...JSON.parse(String(mine.data)), id: 'theirs', text: 'written elsewhere' };
      const columns = Object.keys(mine);
      const values = columns.map((c) =>
        c === 'id' ? 'theirs' : c === 'data' ? JSON.stringify(theirs) : (mine[c] ?? null),
      );
      other
        .prepare(
          `INSERT INTO "notes-v0" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        )
        .run(...values);
      other.close();
      const result = await database.notes.bulkInsert([
        { id: 'new', text: 'fine' },
        { id: 'theirs', text: 'clash' },
      ]);
      expect(result.error).toHaveLength(1);
      expect(result.error[0]).toMatchObject({
        status: 409,
        documentId: 'theirs',
        documentInDb: { text: 'written elsewhere' },
      });
      expect(result.success.map((d) => d.id)).toEqual(['new']);
      expect((await database.notes.findOne('new').exec())?.text).toBe('fine');
    } finally {
      await database.close();
    }
  });

  it('answers 409 with the stored version when another process updated the document after the `previous` this write names (no-read update falls back)', async () => {
    const notes = await getRxStorageSqlite({ directory }).createStorageInstance<Note>(params('notes'));
    try {
      const first = {
        id: 'a',
        text: 'one',
        _deleted: false,
        _attachments: {},
        _meta: { lwt: 1 },
        _rev: '1-mine',
      };
      expect((await notes.bulkWrite([{ document: first }], 'test')).error).toEqual([]);
      // An update from `first` that nobody disturbed is written without reading the table first.
      const second = { ...first, text: 'two', _meta: { lwt: 2 }, _rev: '2-mine' };
      expect((await notes.bulkWrite([{ previous: first, document: second }], 'test')).error).toEqual([]);
      // Another process (a second connection, with the run's driver) rewrites it behind this one.
      const other = await openRawDatabase(join(directory, 'unit.sqlite'), await resolveDriver());
      const theirs = { ...second, text: 'theirs', _rev: '3-theirs' };
      other.prepare('UPDATE "notes-v0" SET data = ? WHERE id = ?').run(JSON.stringify(theirs), 'a');
      other.close();
      // An update from `second` must not overwrite theirs: the guarded UPDATE finds another revision.
      const lost = { ...second, text: 'three', _meta: { lwt: 3 }, _rev: '3-mine' };
      const result = await notes.bulkWrite([{ previous: second, document: lost }], 'test');
      expect(result.error).toHaveLength(1);
      expect(result.error[0]).toMatchObject({
        status: 409,
        documentId: 'a',
        documentInDb: { text: 'theirs' },
      });
      expect((await notes.findDocumentsById(['a'], false)).map((d) => d.text)).toEqual(['theirs']);
      // From the version actually stored, the update goes through.
      const retried = { ...theirs, text: 'four', _meta: { lwt: 4 }, _rev: '4-mine' };
      expect((await notes.bulkWrite([{ previous: theirs, document: retried }], 'test')).error).toEqual([]);
      expect((await notes.findDocumentsById(['a'], false)).map((d) => d.text)).toEqual(['four']);
    } finally {
      await notes.close();
    }
  });

  it('fails calls on a closed instance with StoreClosed', async () => {
    const notes = await getRxStorageSqlite({ directory }).createStorageInstance<Note>(params('notes'));
    await notes.close();
    await notes.close();
    await expect(notes.findDocumentsById(['a'], false)).rejects.toMatchObject({
      code: ErrorCode.StoreClosed,
    });
  });

  it('keeps data across close and reopen (openMaverickDatabase)', async () => {
    const open = () =>
      openMaverickDatabase({ directory, name: 'reopen', collections: { notes: { schema: noteSchema } } });
    const first = await open();
    await first.notes.insert({ id: 'a', text: 'größe 😀' });
    await first.close();
    const second = await open();
    expect((await second.notes.findOne('a').exec())?.text).toBe('größe 😀');
    await second.close();
  });

  it(`refuses more than ${MAX_COLLECTIONS_PER_PROCESS} collections up front`, async () => {
    const collections = Object.fromEntries(
      Array.from({ length: MAX_COLLECTIONS_PER_PROCESS + 1 }, (_, i) => [`c${i}`, { schema: noteSchema }]),
    );
    await expect(openMaverickDatabase({ directory, name: 'many', collections })).rejects.toMatchObject({
      code: ErrorCode.StoreUnsupported,
    });
  });
});

function note(id: string): RxDocumentData<Note> {
  return { id, text: id, _deleted: false, _rev: `1-${id}`, _attachments: {}, _meta: { lwt: 1000 } };
}

function storedCount(connection: SqliteConnection): number {
  return Number(connection.prepare('SELECT COUNT(*) AS n FROM "notes-v0"').get()?.n);
}

/** Blocks the event loop (so no answer of the writer thread is handled) until `condition` holds. */
function holdEventLoopUntil(condition: () => boolean, what: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 20 s`);
    Atomics.wait(pause, 0, 0, 1);
  }
}

/**
 * Makes the next write of `connection` stop the event loop right after the writer thread
 * committed it; the returned promise resolves then, before the write's answer is handled.
 */
function stopAfterNextCommit(connection: SqliteConnection, rowsAfter: number): Promise<void> {
  const send = connection.writeGroups.bind(connection);
  return new Promise<void>((committed) => {
    vi.spyOn(connection, 'writeGroups').mockImplementationOnce((operation, groups) => {
      const outcome = send(operation, groups);
      holdEventLoopUntil(() => storedCount(connection) === rowsAfter, 'the writer thread committing');
      committed();
      return outcome;
    });
  });
}

/**
 * Reads on the event loop while a write is at the writer thread. The writer's COMMIT is visible
 * to the event loop's connection at once (WAL), but the write's change event goes out only when
 * the event loop handles the writer's answer. RxDB keeps a query's result current from change
 * events once it has read it (a count query adds 1 per insert event), so a read that already
 * holds a write must not be answered before that write's change event: RxDB then sees the event
 * arrive during the read and runs the read again. These tests hold the event loop (Atomics.wait)
 * from the moment the writer committed, so the read lands in that window every time.
 */
describe('reads while a write is committing', () => {
  const schema = fillWithDefaultSettings(noteSchema);
  const everything = prepareQuery(schema, normalizeMangoQuery(schema, { selector: {} }));
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("answers a read that already holds a committed write only after that write's change event", async () => {
    const notes = await getRxStorageSqlite({ directory }).createStorageInstance<Note>(params('notes'));
    try {
      const seen: string[] = [];
      notes.changeStream().subscribe((bulk) => seen.push(`event ${bulk.events.map((e) => e.documentId)}`));
      await notes.bulkWrite([{ document: note('a') }], 'test');
      const committed = stopAfterNextCommit(notes.internals.connection, 2);
      const writing = notes.bulkWrite([{ document: note('b') }], 'test');
      await committed;
      // The row is there for this connection, its change event is not out yet.
      expect(storedCount(notes.internals.connection)).toBe(2);
      expect(seen).toEqual(['event a']);
      const counting = notes.count(everything).then(({ count }) => seen.push(`count ${count}`));
      const querying = notes
        .query(everything)
        .then(({ documents }) => seen.push(`query ${documents.length}`));
      await Promise.all([writing, counting, querying]);
      expect(seen).toEqual(['event a', 'event b', 'count 2', 'query 2']);
    } finally {
      await notes.close();
    }
  });

  it('an RxDB count query run in that window does not count the write twice', async () => {
    const database = await openMaverickDatabase({
      directory,
      name: 'unit',
      collections: { notes: { schema: noteSchema } },
    });
    try {
      const notes = database.notes;
      const connection = (notes.storageInstance.internals as { connection: SqliteConnection }).connection;
      await notes.insert({ id: 'a', text: 'a' });
      const committed = stopAfterNextCommit(connection, 2);
      const writing = notes.insert({ id: 'b', text: 'b' });
      await committed;
      // The query's first run reads the table, which already holds b; from then on RxDB keeps
      // its result current from change events, b's among them.
      const counting = notes.count().exec();
      await writing;
      expect(await counting).toBe(2);
      expect(await notes.count().exec()).toBe(2);
      expect(await notes.find().exec()).toHaveLength(2);
    } finally {
      await database.close();
    }
  });

  it('answers a read at once, without the write, while that write waits for the file lock', async () => {
    const notes = await getRxStorageSqlite({ directory }).createStorageInstance<Note>(params('notes'));
    // Another process holds the write lock: the writer thread waits (busy_timeout) before its BEGIN.
    const other = await openRawDatabase(join(directory, 'unit.sqlite'), await resolveDriver());
    try {
      await notes.bulkWrite([{ document: note('a') }], 'test');
      other.exec('BEGIN IMMEDIATE');
      let written = false;
      const writing = notes.bulkWrite([{ document: note('b') }], 'test').then((result) => {
        written = true;
        return result;
      });
      // Not held up by the write in flight, which this read cannot hold.
      expect((await notes.count(everything)).count).toBe(1);
      expect((await notes.query(everything)).documents.map((d) => d.id)).toEqual(['a']);
      expect(written).toBe(false);
      other.exec('ROLLBACK');
      expect((await writing).error).toEqual([]);
      expect((await notes.count(everything)).count).toBe(2);
    } finally {
      other.close();
      await notes.close();
    }
  });
});
