/**
 * Walking sealed bundles by UTC day through the bundles' (kind, toMs) index, one document at a
 * time: what daily commitments and period statements are built from. A bundle belongs to the
 * day its time range ends on (PROOF.md §4); a day's bundles are taken in sequence order.
 */
import type { MangoQuerySelector } from 'rxdb';
import type { FarmDatabase } from './farm-db.js';
import type { BundleDoc } from './schemas.js';

const DAY_MS = 86_400_000;

/** The first sealed bundle, in (toMs, id) order, matching `selector`. */
export async function firstBundle(
  db: FarmDatabase,
  selector: MangoQuerySelector<BundleDoc>,
): Promise<BundleDoc | undefined> {
  const found = await db.bundles
    .findOne({
      selector: { kind: 'bundle', ...selector },
      sort: [{ kind: 'asc' }, { toMs: 'asc' }, { id: 'asc' }],
    })
    .exec();
  return found ? (found.toJSON() as BundleDoc) : undefined;
}

/** The UTC days in [fromDay, toDay] that hold a sealed bundle, ascending: one indexed read per day. */
export async function* daysWithBundles(
  db: FarmDatabase,
  fromDay: number,
  toDay: number,
): AsyncGenerator<number> {
  for (let from = fromDay * DAY_MS; from < (toDay + 1) * DAY_MS; ) {
    const next = await firstBundle(db, { toMs: { $gte: from, $lt: (toDay + 1) * DAY_MS } });
    if (!next) return;
    const day = Math.floor(next.toMs / DAY_MS);
    yield day;
    from = (day + 1) * DAY_MS;
  }
}

/** The ids of the bundles ending on `day`, in sequence order: a keyset walk over (toMs, id). */
export async function bundleIdsOfDay(db: FarmDatabase, day: number): Promise<string[]> {
  const found: { seq: number; id: string }[] = [];
  const end = (day + 1) * DAY_MS;
  for (let after: { toMs: number; id: string } | undefined; ; ) {
    const next =
      (after && (await firstBundle(db, { toMs: after.toMs, id: { $gt: after.id } }))) ??
      (await firstBundle(db, {
        toMs: after ? { $gt: after.toMs, $lt: end } : { $gte: day * DAY_MS, $lt: end },
      }));
    if (!next) break;
    found.push({ seq: next.seq, id: next.id });
    after = { toMs: next.toMs, id: next.id };
  }
  return found.sort((a, b) => a.seq - b.seq).map((b) => b.id);
}

/** The bundles ending on `day`, in sequence order, read one at a time (each may be large). */
export async function* bundlesOfDay(db: FarmDatabase, day: number): AsyncGenerator<BundleDoc> {
  for (const id of await bundleIdsOfDay(db, day)) {
    const found = await db.bundles.findOne(id).exec();
    if (found) yield found.toJSON() as BundleDoc;
  }
}
