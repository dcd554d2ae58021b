/**
 * One RxDB collection stored in one SQLite table: the RxStorageInstance
 * contract of rxdb 17 (node_modules/rxdb/dist/types/types/rx-storage.interface.d.ts).
 *
 * - bulkWrite: one SQLite transaction per call, run on the database's writer
 *   thread (sqlite-writer.ts) so its fsync never blocks the event loop.
 *   Conflicts (409 with `documentInDb`) come from RxDB's own
 *   categorizeBulkWriteRows, fed with the stored versions read on the event
 *   loop once every earlier write of the file has committed; the writer then
 *   checks that nothing changed meanwhile (another process): every insert
 *   finds no row, every update finds the revision that was read, or the
 *   transaction is rolled back and the write decided again. The first try
 *   skips the read: it takes each row's `previous` as the stored version (and
 *   no stored document for a row without one), so a bulkInsert is pure
 *   inserts and an update of the version last written is one guarded UPDATE;
 *   only a stale answer sends the write the long way.
 *   Change events are emitted only after COMMIT returned, before the write's
 *   exclusive section ends; a read whose snapshot already holds the write is
 *   answered after them (SqliteConnection.readInOrder), or RxDB, which keeps a
 *   query's result current from change events, would count the write twice.
 * - query/count: RxDB's query plan picks an index; its bounds become a range
 *   over that index's key column, the rest of the selector is matched in JS
 *   with RxDB's query matcher and, when the index order is not the wanted
 *   order, rows are sorted with RxDB's sort comparator.
 */

import type {
  BulkWriteRow,
  EventBulk,
  PreparedQuery,
  RxDocumentData,
  RxJsonSchema,
  RxStorageBulkWriteResponse,
  RxStorageChangeEvent,
  RxStorageCountResult,
  RxStorageDefaultCheckpoint,
  RxStorageInstance,
  RxStorageQueryResult,
  StringKeys,
} from 'rxdb';
import {
  categorizeBulkWriteRows,
  getPrimaryFieldOfPrimaryKey,
  getQueryMatcher,
  getSortComparator,
  getStartIndexStringFromUpperBound,
  INDEX_MAX,
} from 'rxdb';
import type { Observable } from 'rxjs';
import { Subject } from 'rxjs';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import type { CollectionTable } from './collection-table.js';
import { encodeIndexKey } from './index-key.js';
import { indexRangeCondition, scanIndexRange } from './index-range.js';
import type { SqliteConnection } from './sqlite-driver.js';

export interface SqliteStorageInternals {
  connection: SqliteConnection;
  tableName: string;
}

/** Per-collection options: none yet (everything is set on the storage). */
export type SqliteInstanceOptions = Record<string, never>;

/** Tries at a bulkWrite whose stored documents another process keeps changing before giving up. */
const MAX_WRITE_ATTEMPTS = 5;

type ChangeBulk<RxDocType> = EventBulk<
  RxStorageChangeEvent<RxDocumentData<RxDocType>>,
  RxStorageDefaultCheckpoint
>;

export class RxStorageInstanceSqlite<RxDocType>
  implements
    RxStorageInstance<RxDocType, SqliteStorageInternals, SqliteInstanceOptions, RxStorageDefaultCheckpoint>
{
  readonly primaryPath: StringKeys<RxDocumentData<RxDocType>>;
  readonly internals: SqliteStorageInternals;
  private readonly changes = new Subject<ChangeBulk<RxDocType>>();
  private readonly table: CollectionTable<RxDocType>;
  private closed = false;

  constructor(
    readonly databaseName: string,
    readonly collectionName: string,
    readonly schema: Readonly<RxJsonSchema<RxDocumentData<RxDocType>>>,
    readonly options: Readonly<SqliteInstanceOptions>,
    table: CollectionTable<RxDocType>,
    private readonly logger: Logger,
  ) {
    this.primaryPath = getPrimaryFieldOfPrimaryKey(schema.primaryKey) as StringKeys<
      RxDocumentData<RxDocType>
    >;
    this.table = table;
    this.internals = { connection: table.connection, tableName: table.tableName };
  }

  /**
   * Serialized per database file (`connection.exclusive`): the stored
   * versions are read only after every earlier write has committed, so a
   * query issued right after bulkWrite() resolved already sees its rows.
   */
  async bulkWrite(
    rows: BulkWriteRow<RxDocType>[],
    context: string,
  ): Promise<RxStorageBulkWriteResponse<RxDocType>> {
    this.ensureOpen();
    if (rows.length === 0) return { error: [] };
    const errors = await this.table.connection.exclusive(async () => {
      const categorized = await this.decideAndWrite(rows, context);
      // Emitted after COMMIT: a subscriber never sees a write that could still vanish. Inside the
      // exclusive section: a read that holds this write is answered only after it (readInOrder).
      if (categorized.eventBulk.events.length > 0 && categorized.newestRow) {
        const newest = categorized.newestRow.document;
        const bulk = categorized.eventBulk as ChangeBulk<RxDocType>;
        bulk.checkpoint = { id: newest[this.primaryPath] as string, lwt: newest._meta.lwt };
        this.changes.next(bulk);
      }
      return categorized.errors;
    });
    return { error: errors };
  }

  private async decideAndWrite(
    rows: BulkWriteRow<RxDocType>[],
    context: string,
  ): Promise<ReturnType<typeof categorizeBulkWriteRows<RxDocType>>> {
    const primaryPath = this.primaryPath;
    // First try without reading: assume the table holds exactly what the rows say, i.e. no
    // document where a row has no `previous` and the `previous` version where it has one.
    // The writer checks both (an insert finds no row, an update finds that revision) and
    // answers stale if either is wrong; then the stored versions are read and it is decided again.
    let readStored = false;
    for (let attempt = 1; ; attempt++) {
      this.ensureOpen();
      const docsInDb = new Map<string, RxDocumentData<RxDocType>>();
      if (readStored) {
        const ids = rows.map((row) => row.document[primaryPath] as string);
        for (const doc of this.table.findByIds(ids, true)) docsInDb.set(doc[primaryPath] as string, doc);
      } else {
        for (const row of rows) {
          if (row.previous) docsInDb.set(row.document[primaryPath] as string, row.previous);
        }
      }
      const result = categorizeBulkWriteRows<RxDocType>(
        this,
        primaryPath as StringKeys<RxDocType>,
        docsInDb,
        rows,
        context,
      );
      if (!readStored && result.errors.length > 0) {
        // An error decided on assumed versions is not the answer: decide it on the stored ones.
        readStored = true;
        continue;
      }
      const inserts = this.table.insertGroup();
      for (const row of result.bulkInsertDocs) {
        this.table.addInsert(inserts, row.document, row.document[primaryPath] as string);
      }
      const updates = this.table.updateGroup();
      for (const row of result.bulkUpdateDocs) {
        const id = row.document[primaryPath] as string;
        this.table.addUpdate(updates, row.document, id, (docsInDb.get(id) as RxDocumentData<RxDocType>)._rev);
      }
      const groups = [inserts, updates].filter((group) => group.count > 0);
      if (groups.length === 0) return result;
      const outcome = await this.table.connection.writeGroups(`writing ${rows.length} documents`, groups);
      if (outcome.kind === 'committed') return result;
      if (attempt >= MAX_WRITE_ATTEMPTS) {
        throw new MaverickError(
          ErrorCode.StoreConflict,
          `${this.collectionName}: the stored documents kept changing while ${rows.length} documents were written; nothing was written`,
          {
            hint: 'another process is writing the same database; stop it and retry',
            context: { collection: this.collectionName, attempts: attempt },
          },
        );
      }
      readStored = true;
    }
  }

  async findDocumentsById(ids: string[], withDeleted: boolean): Promise<RxDocumentData<RxDocType>[]> {
    this.ensureOpen();
    if (ids.length === 0) return [];
    return this.table.connection.readInOrder(() => this.findNow(ids, withDeleted));
  }

  private findNow(ids: string[], withDeleted: boolean): RxDocumentData<RxDocType>[] {
    const found = new Map<string, RxDocumentData<RxDocType>>();
    for (const doc of this.table.findByIds(ids, withDeleted)) found.set(doc[this.primaryPath] as string, doc);
    // Same order (and multiplicity) as asked, like RxDB's memory storage.
    const out: RxDocumentData<RxDocType>[] = [];
    for (const id of ids) {
      const doc = found.get(id);
      if (doc) out.push(doc);
    }
    return out;
  }

  /** Reads (query, count, findDocumentsById) are answered in order with the writes they hold: see readInOrder. */
  async query(preparedQuery: PreparedQuery<RxDocType>): Promise<RxStorageQueryResult<RxDocType>> {
    this.ensureOpen();
    return this.table.connection.readInOrder(() => this.queryNow(preparedQuery));
  }

  private queryNow(preparedQuery: PreparedQuery<RxDocType>): RxStorageQueryResult<RxDocType> {
    const { query, queryPlan } = preparedQuery;
    const skip = query.skip ?? 0;
    const limit = typeof query.limit === 'number' ? query.limit : Number.POSITIVE_INFINITY;
    const wanted = skip + limit;
    const matcher = queryPlan.selectorSatisfiedByIndex ? undefined : getQueryMatcher(this.schema, query);
    const sortInIndexOrder = queryPlan.sortSatisfiedByIndex;
    let rows: RxDocumentData<RxDocType>[] = [];
    for (const page of scanIndexRange(
      this.table,
      this.schema,
      preparedQuery,
      this.logger,
      sortInIndexOrder ? wanted : Number.POSITIVE_INFINITY,
    )) {
      for (const doc of page) {
        if (!matcher || matcher(doc)) rows.push(doc);
      }
      if (sortInIndexOrder && rows.length >= wanted) break;
    }
    if (!sortInIndexOrder) rows.sort(getSortComparator(this.schema, query));
    if (skip !== 0 || rows.length > wanted) rows = rows.slice(skip, wanted);
    return { documents: rows };
  }

  async count(preparedQuery: PreparedQuery<RxDocType>): Promise<RxStorageCountResult> {
    this.ensureOpen();
    return this.table.connection.readInOrder(() => this.countNow(preparedQuery));
  }

  private countNow(preparedQuery: PreparedQuery<RxDocType>): RxStorageCountResult {
    const { queryPlan } = preparedQuery;
    const index = this.table.indexColumn(queryPlan.index);
    if (queryPlan.selectorSatisfiedByIndex && index) {
      const { where, params } = indexRangeCondition(this.schema, queryPlan, index.column);
      const row = this.table
        .statement(`SELECT COUNT(*) AS n FROM ${this.table.table} WHERE ${where}`)
        .get(...params);
      return { count: Number(row?.n ?? 0), mode: 'fast' };
    }
    // Like RxDB's memory storage, count ignores skip/limit (RxDB forbids them on count queries).
    const matcher = getQueryMatcher(this.schema, preparedQuery.query);
    let count = 0;
    for (const page of scanIndexRange(
      this.table,
      this.schema,
      preparedQuery,
      this.logger,
      Number.POSITIVE_INFINITY,
    )) {
      for (const doc of page) if (matcher(doc)) count++;
    }
    return { count, mode: 'fast' };
  }

  async getChangedDocumentsSince(
    limit: number,
    checkpoint?: RxStorageDefaultCheckpoint,
  ): Promise<{ documents: RxDocumentData<RxDocType>[]; checkpoint: RxStorageDefaultCheckpoint }> {
    this.ensureOpen();
    const fields = ['_meta.lwt', this.primaryPath as string];
    const index = this.table.indexColumn(fields);
    if (!index) throw this.missingIndex(fields);
    const after = checkpoint
      ? encodeIndexKey(
          index.indexableString({
            _meta: { lwt: checkpoint.lwt },
            [this.primaryPath]: checkpoint.id,
          } as never),
        )
      : '';
    const sql = `SELECT data FROM ${this.table.table} WHERE ${index.column} > ? ORDER BY ${index.column} LIMIT ?`;
    const documents = this.table.parseRows(
      this.table.statement(sql).all(after, Math.max(0, Math.trunc(limit))),
    );
    const last = documents.at(-1);
    return {
      documents,
      checkpoint: last
        ? { id: last[this.primaryPath] as string, lwt: last._meta.lwt }
        : (checkpoint ?? { id: '', lwt: 0 }),
    };
  }

  changeStream(): Observable<ChangeBulk<RxDocType>> {
    return this.changes.asObservable();
  }

  async cleanup(minimumDeletedTime: number): Promise<boolean> {
    this.ensureOpen();
    const olderThan = Date.now() - minimumDeletedTime;
    // The ['_meta.lwt', primary] index bounds the scan; no extra SQLite index to maintain on every insert.
    const fields = ['_meta.lwt', this.primaryPath as string];
    const index = this.table.indexColumn(fields);
    if (!index) throw this.missingIndex(fields);
    const upper = encodeIndexKey(
      getStartIndexStringFromUpperBound(this.schema, fields, [olderThan, INDEX_MAX]),
    );
    const sql = `DELETE FROM ${this.table.table} WHERE ${index.column} <= ? AND deleted = 1 AND lwt <= ?`;
    await this.table.connection.exclusive(() =>
      this.table.connection.write('purging deleted documents', [{ sql, params: [upper, olderThan] }]),
    );
    return true;
  }

  async getAttachmentData(): Promise<Blob> {
    throw new MaverickError(
      ErrorCode.StoreUnsupported,
      'The Maverick SQLite storage does not store attachments',
      {
        hint: 'keep binary data in a document field (base64) instead of an RxDB attachment',
      },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.changes.complete();
    this.table.connection.release();
  }

  async remove(): Promise<void> {
    this.ensureOpen();
    await this.table.connection.exclusive(() => this.table.drop());
    const tables = this.table.connection
      .prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
      .get();
    if (Number(tables?.n ?? 0) === 0) this.table.connection.deleteFilesOnLastRelease();
    this.logger.info({ collection: this.collectionName, table: this.table.tableName }, 'collection removed');
    await this.close();
  }

  private missingIndex(fields: string[]): MaverickError {
    return new MaverickError(
      ErrorCode.StoreUnsupported,
      `Collection ${this.collectionName} has no index [${fields.join(', ')}]`,
      { hint: 'pass schemas through RxDB (fillWithDefaultSettings adds this index)' },
    );
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new MaverickError(
        ErrorCode.StoreClosed,
        `The storage of collection ${this.collectionName} (database ${this.databaseName}) is closed`,
        { hint: 'open the database again' },
      );
    }
  }
}
