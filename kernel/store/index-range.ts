/**
 * Reading an RxDB query plan's index range from SQLite: the plan's start/end
 * keys become bounds on the index's key column (encoded by index-key.ts), rows
 * come back in index order, page by page when the caller may stop early.
 */

import type { PreparedQuery, RxDocumentData, RxJsonSchema, RxQueryPlan } from 'rxdb';
import {
  getIndexableStringMonad,
  getStartIndexStringFromLowerBound,
  getStartIndexStringFromUpperBound,
} from 'rxdb';
import type { Logger } from '../../proto/log.js';
import type { CollectionTable } from './collection-table.js';
import { encodeIndexKey } from './index-key.js';

/** Most rows fetched in one step of a lazy scan. */
const MAX_PAGE = 10_000;
/** How much each further page of a JS-filtered scan grows (the filter may match rarely). */
const PAGE_GROWTH = 4;

type Schema<RxDocType> = Readonly<RxJsonSchema<RxDocumentData<RxDocType>>>;

/** `WHERE` clause and parameters selecting the plan's range on `column`. */
export function indexRangeCondition<RxDocType>(
  schema: Schema<RxDocType>,
  queryPlan: RxQueryPlan,
  column: string,
): { where: string; params: string[] } {
  const lower = getStartIndexStringFromLowerBound(schema, queryPlan.index, queryPlan.startKeys);
  const upper = getStartIndexStringFromUpperBound(schema, queryPlan.index, queryPlan.endKeys);
  return {
    where: `${column} ${queryPlan.inclusiveStart ? '>=' : '>'} ? AND ${column} ${queryPlan.inclusiveEnd ? '<=' : '<'} ?`,
    params: [encodeIndexKey(lower), encodeIndexKey(upper)],
  };
}

/**
 * Yields pages of documents inside the query plan's index range, in index
 * order. With a finite `enough`, pages are fetched lazily (keyset pagination)
 * so a caller that filters in JS pulls only as many pages as it needs.
 */
export function* scanIndexRange<RxDocType>(
  table: CollectionTable<RxDocType>,
  schema: Schema<RxDocType>,
  preparedQuery: PreparedQuery<RxDocType>,
  logger: Logger,
  enough: number,
): Generator<RxDocumentData<RxDocType>[]> {
  const index = table.indexColumn(preparedQuery.queryPlan.index);
  if (!index) {
    yield scanWithoutSqlIndex(table, schema, preparedQuery.queryPlan, logger);
    return;
  }
  const { where, params } = indexRangeCondition(schema, preparedQuery.queryPlan, index.column);
  const base = `SELECT data, ${index.column} AS k FROM ${table.table} WHERE ${where}`;
  if (!Number.isFinite(enough)) {
    yield table.parseRows(table.statement(`${base} ORDER BY ${index.column}`).all(...params));
    return;
  }
  // Keys are unique (RxDB appends the primary key to every index), so "after the last key" never skips a row.
  let after: string | undefined;
  let yielded = 0;
  // The first page is what the caller asked for: a findOne over large documents (sealed bundles)
  // parses one row, not hundreds. When a JS filter drops rows, later pages grow geometrically.
  const filtered = !preparedQuery.queryPlan.selectorSatisfiedByIndex;
  let pageSize = 0;
  for (;;) {
    pageSize = Math.min(MAX_PAGE, Math.max(1, enough - yielded, filtered ? pageSize * PAGE_GROWTH : 0));
    const rows =
      after === undefined
        ? table.statement(`${base} ORDER BY ${index.column} LIMIT ?`).all(...params, pageSize)
        : table
            .statement(`${base} AND ${index.column} > ? ORDER BY ${index.column} LIMIT ?`)
            .all(...params, after, pageSize);
    if (rows.length === 0) return;
    after = rows[rows.length - 1].k as string;
    yielded += rows.length;
    yield table.parseRows(rows);
    if (rows.length < pageSize) return;
  }
}

/**
 * A query naming an index the schema does not declare (`query.index`): there
 * is no key column, so compute RxDB's index strings in JS over the table.
 */
function scanWithoutSqlIndex<RxDocType>(
  table: CollectionTable<RxDocType>,
  schema: Schema<RxDocType>,
  queryPlan: RxQueryPlan,
  logger: Logger,
): RxDocumentData<RxDocType>[] {
  logger.warn(
    { table: table.tableName, index: queryPlan.index },
    'query on an undeclared index: full table scan',
  );
  const keyOf = getIndexableStringMonad(schema, queryPlan.index);
  const lower = getStartIndexStringFromLowerBound(schema, queryPlan.index, queryPlan.startKeys);
  const upper = getStartIndexStringFromUpperBound(schema, queryPlan.index, queryPlan.endKeys);
  return table
    .parseRows(table.statement(`SELECT data FROM ${table.table}`).all())
    .map((doc) => ({ doc, key: keyOf(doc) }))
    .filter(({ key }) => (queryPlan.inclusiveStart ? key >= lower : key > lower))
    .filter(({ key }) => (queryPlan.inclusiveEnd ? key <= upper : key < upper))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ doc }) => doc);
}
