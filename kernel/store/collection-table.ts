/**
 * The SQLite table behind one RxDB collection (one per schema version):
 *
 *   id TEXT PRIMARY KEY  the document's primary key
 *   deleted, lwt         `_deleted` and `_meta.lwt`, filters for cleanup()
 *   data TEXT            the whole document as JSON (what RxDB gets back)
 *   "ix:<fields>" TEXT   one column per RxDB index, holding the index's
 *                        indexable string, order-mapped (see index-key.ts),
 *                        each with its own SQLite index
 *
 * RxDB refuses to open a collection whose schema changed without a version
 * bump (error DB6), so a table's set of index columns never changes.
 */

import type { RxDocumentData, RxJsonSchema } from 'rxdb';
import { getIndexableStringMonad } from 'rxdb';
import { encodeIndexKey } from './index-key.js';
import type { SqliteConnection, SqliteStatement, SqlValue, StepGroup } from './sqlite-driver.js';

export interface IndexColumn {
  /** RxDB's index fields, e.g. ['_deleted', 'devEui', 'id']. */
  fields: string[];
  /** Quoted SQL identifier of the column. */
  column: string;
  indexableString: (doc: RxDocumentData<unknown>) => string;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function indexColumnName(fields: readonly string[]): string {
  return `ix:${fields.join(',')}`;
}

export class CollectionTable<RxDocType> {
  readonly table: string;
  readonly indexes: IndexColumn[];
  private readonly byName = new Map<string, IndexColumn>();
  private readonly insertSql: string;
  /** An update that only applies while the stored row still has the revision the writer read. */
  private readonly guardedUpdateSql: string;

  constructor(
    readonly connection: SqliteConnection,
    readonly tableName: string,
    schema: RxJsonSchema<RxDocumentData<RxDocType>>,
  ) {
    this.table = quoteIdentifier(tableName);
    const indexFields = (schema.indexes ?? []).map((index) => (Array.isArray(index) ? [...index] : [index]));
    this.indexes = indexFields.map((fields) => ({
      fields,
      column: quoteIdentifier(indexColumnName(fields)),
      indexableString: getIndexableStringMonad(schema, fields) as (doc: RxDocumentData<unknown>) => string,
    }));
    for (const index of this.indexes) this.byName.set(index.fields.join(','), index);
    const columns = ['id', 'deleted', 'lwt', 'data', ...this.indexes.map((index) => index.column)];
    this.insertSql = `INSERT INTO ${this.table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    const assignments = columns.slice(1).map((column) => `${column} = ?`);
    this.guardedUpdateSql = `UPDATE ${this.table} SET ${assignments.join(', ')} WHERE id = ? AND json_extract(data, '$._rev') = ?`;
  }

  /** Creates the table and its indexes if they do not exist yet (idempotent). */
  create(): void {
    const indexColumns = this.indexes.map((index) => `, ${index.column} TEXT NOT NULL`).join('');
    const ddl = [
      `CREATE TABLE IF NOT EXISTS ${this.table} (id TEXT PRIMARY KEY NOT NULL, deleted INTEGER NOT NULL, ` +
        `lwt REAL NOT NULL, data TEXT NOT NULL${indexColumns})`,
      ...this.indexes.map(
        (index) =>
          `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${this.tableName}:${indexColumnName(index.fields)}`)} ` +
          `ON ${this.table} (${index.column})`,
      ),
    ];
    this.connection.transaction('creating a collection table', () => {
      for (const statement of ddl) this.connection.exec(statement);
    });
  }

  /** The column for an RxDB index, or undefined if the schema does not declare it. */
  indexColumn(fields: readonly string[]): IndexColumn | undefined {
    return this.byName.get(fields.join(','));
  }

  /** An empty group of inserts of new documents, for the writer thread: each refused (stale) if its id exists. */
  insertGroup(): StepGroup {
    return { sql: this.insertSql, expect: 'insert', width: 4 + this.indexes.length, count: 0, params: [] };
  }

  addInsert(group: StepGroup, doc: RxDocumentData<RxDocType>, id: string): void {
    group.params.push(id);
    this.pushRowValues(group.params, doc);
    group.count++;
  }

  /** An empty group of updates of stored documents, for the writer thread: each stale unless the row still has `storedRev`. */
  updateGroup(): StepGroup {
    return {
      sql: this.guardedUpdateSql,
      expect: 'one-row',
      width: 5 + this.indexes.length,
      count: 0,
      params: [],
    };
  }

  addUpdate(group: StepGroup, doc: RxDocumentData<RxDocType>, id: string, storedRev: string): void {
    this.pushRowValues(group.params, doc);
    group.params.push(id, storedRev);
    group.count++;
  }

  /** Documents by primary key (any order, each at most once). */
  findByIds(ids: readonly string[], withDeleted: boolean): RxDocumentData<RxDocType>[] {
    // json_each keeps it one cached statement whatever the number of ids.
    const sql = `SELECT data FROM ${this.table} WHERE id IN (SELECT value FROM json_each(?))${withDeleted ? '' : ' AND deleted = 0'}`;
    return this.parseRows(this.connection.prepare(sql).all(JSON.stringify(ids)));
  }

  statement(sql: string): SqliteStatement {
    return this.connection.prepare(sql);
  }

  parseRows(rows: readonly Record<string, SqlValue>[]): RxDocumentData<RxDocType>[] {
    return rows.map((row) => JSON.parse(row.data as string) as RxDocumentData<RxDocType>);
  }

  drop(): void {
    this.connection.exec(`DROP TABLE IF EXISTS ${this.table}`);
  }

  /** deleted, lwt, data and the index keys, appended to `params` (no array of their own per row). */
  private pushRowValues(params: SqlValue[], doc: RxDocumentData<RxDocType>): void {
    params.push(doc._deleted ? 1 : 0, doc._meta.lwt, JSON.stringify(doc));
    for (const index of this.indexes) {
      params.push(encodeIndexKey(index.indexableString(doc as RxDocumentData<unknown>)));
    }
  }
}
