/**
 * Streams stored uplinks in reception order, page by page along the
 * `receivedAt` (or `devEui, receivedAt`) index, so `maverick uplinks export`
 * holds one page in memory however long the farm's history is. Pages follow
 * a keyset cursor (receivedAt, id), so uplinks written meanwhile neither
 * repeat nor shift the pages.
 */
import { type MangoQuerySelector, type MangoQuerySortPart, normalizeMangoQuery, prepareQuery } from 'rxdb';
import type { FarmDatabase } from './farm-db.js';
import type { UplinkDoc } from './schemas.js';
import type { UplinkFilter } from './uplink-queries.js';

export const EXPORT_PAGE = 1_000;

function selectorFrom(filter: UplinkFilter, fromMs: number | undefined): MangoQuerySelector<UplinkDoc> {
  const sel: MangoQuerySelector<UplinkDoc> = {};
  if (filter.devEui) sel.devEui = filter.devEui.toLowerCase();
  const lo = Math.max(fromMs ?? 0, filter.sinceMs ?? 0);
  sel.receivedAt = { $gte: lo };
  if (filter.untilMs !== undefined) sel.receivedAt.$lte = filter.untilMs;
  return sel;
}

/** Adds RxDB's `_deleted: false` (the storage's own field, not in the document type). */
function liveOnly(selector: MangoQuerySelector<UplinkDoc>): MangoQuerySelector<UplinkDoc> {
  return { ...selector, _deleted: { $eq: false } } as MangoQuerySelector<UplinkDoc>;
}

/** Every uplink matching `filter`, oldest first (ties by id). */
export async function* streamUplinks(
  db: FarmDatabase,
  filter: UplinkFilter = {},
  pageSize: number = EXPORT_PAGE,
): AsyncGenerator<UplinkDoc> {
  let cursor: { receivedAt: number; id: string } | undefined;
  let limit = pageSize;
  for (;;) {
    const sort: MangoQuerySortPart<UplinkDoc>[] = filter.devEui
      ? [{ devEui: 'asc' }, { receivedAt: 'asc' }, { id: 'asc' }]
      : [{ receivedAt: 'asc' }, { id: 'asc' }];
    // Straight to the storage: RxDB's query and document caches would keep every page alive.
    const collection = db.uplinks;
    const schema = collection.schema.jsonSchema;
    // As RxQuery does: live documents only, which is also what lets the planner use the index.
    const query = normalizeMangoQuery(schema, {
      selector: liveOnly(selectorFrom(filter, cursor?.receivedAt)),
      sort,
      limit,
    });
    const { documents: docs } = await collection.storageInstance.query(prepareQuery(schema, query));
    let fresh = 0;
    for (const doc of docs as UplinkDoc[]) {
      // The page starts at the cursor's millisecond: skip what was already given.
      if (cursor && doc.receivedAt === cursor.receivedAt && doc.id <= cursor.id) continue;
      fresh++;
      cursor = { receivedAt: doc.receivedAt, id: doc.id };
      yield doc;
    }
    if (docs.length < limit) return;
    // A whole page within one millisecond gives nothing new: widen the page, never loop.
    limit = fresh === 0 ? limit * 2 : pageSize;
  }
}

/** `{ a: { b: 1 }, c: [2] }` → `[['a.b', 1], ['c', [2]]]`: decoded fields as export columns. */
export function flattenObject(object: Record<string, unknown>, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, value] of Object.entries(object)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.push(...flattenObject(value as Record<string, unknown>, path));
    } else {
      out.push([path, value]);
    }
  }
  return out;
}
