/**
 * The sealer's view of the farm database: where unsealed uplinks come from,
 * where sealed bundles go (the `bundles` collection is also the outbox: a
 * bundle waits there as `pending` until the regional node acknowledges it),
 * and where plot definitions are looked up.
 */

import { type MangoQuerySelector, normalizeMangoQuery, prepareQuery } from 'rxdb';
import { plotDefinitionFromGeoJson } from '../../proto/bundle/plots.js';
import type { PlotDefinition } from '../../proto/bundle/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type {
  BundleSink,
  PlotDirectory,
  SealedBundle,
  UnsealedUplink,
  UplinkSource,
} from '../bundle/sealer.js';
import type { FarmDatabase } from './farm-db.js';
import { type BundleDoc, bundleId, sessionOfUplinkId, UNSEALED, type UplinkDoc } from './schemas.js';

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export class FarmUplinkSource implements UplinkSource {
  constructor(private readonly db: FarmDatabase) {}

  /**
   * Read from the collection's storage directly, not through an RxQuery: an
   * RxQuery of thousands of uplinks builds an RxDocument for each and stays
   * in RxDB's query cache, its result kept up to date by every later write —
   * what ran a gateway under a 64 MB heap out of memory when several
   * bundles were sealed in a row.
   */
  async unsealed(limit: number): Promise<UnsealedUplink[]> {
    const schema = this.db.uplinks.schema.jsonSchema;
    const query = normalizeMangoQuery<UplinkDoc>(schema, {
      selector: { _deleted: { $eq: false }, sealedSeq: UNSEALED } as MangoQuerySelector<UplinkDoc>,
      sort: [{ sealedSeq: 'asc' }, { receivedAt: 'asc' }],
      limit,
    });
    const { documents: uplinks } = await this.db.uplinks.storageInstance.query(prepareQuery(schema, query));
    return uplinks.map((u) => ({
      id: u.id,
      devEui: u.devEui,
      fCnt: u.fCnt,
      session: sessionOfUplinkId(u.id),
      receivedAt: u.receivedAt,
      timeSource: u.timeSource,
      plotId: u.plotId ?? null,
      readings: (u.readings ?? [])
        .map((r) => ({ field: r.field, scale: r.scale, value: r.value }))
        .sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)),
    }));
  }

  countUnsealed(): Promise<number> {
    return this.db.uplinks.count({ selector: { sealedSeq: UNSEALED } }).exec();
  }
}

/**
 * Sets `sealedSeq` on stored uplinks in one storage write. Not `bulkUpsert`:
 * for documents that exist RxDB's upsert runs a failing insert of all of them
 * and then one write per document, each building an RxDocument — thousands
 * of writes and a heap spike per bundle of 5,000 uplinks. Here the stored
 * versions are read once and written back as updates of them through the
 * collection's storage instance (revisions, timestamps and change events as
 * any RxDB write). An uplink already carrying the mark is left alone; a 409
 * (someone wrote it in between) is retried against the version in storage.
 */
async function markSealed(db: FarmDatabase, ids: string[], seq: number): Promise<void> {
  const instance = db.uplinks.storageInstance;
  let pending = (await instance.findDocumentsById(ids, false)).filter((doc) => doc.sealedSeq !== seq);
  for (let attempt = 0; attempt < 3 && pending.length > 0; attempt++) {
    const now = Date.now();
    const result = await instance.bulkWrite(
      pending.map((previous) => ({
        previous,
        // Revision and write time are set by RxDB's storage wrapper.
        document: { ...previous, sealedSeq: seq, _meta: { ...previous._meta, lwt: now } },
      })),
      'maverick-seal-marks',
    );
    const conflicted: typeof pending = [];
    for (const error of result.error) {
      if (error.status === 409 && error.documentInDb) {
        if (error.documentInDb.sealedSeq !== seq) conflicted.push(error.documentInDb);
        continue;
      }
      throw new MaverickError(
        ErrorCode.StoreIo,
        `marking uplink ${error.documentId} sealed failed with status ${error.status}`,
        {
          hint: 'the bundle stays pending; the next seal repeats its commit and marks them',
          context: { seq },
        },
      );
    }
    pending = conflicted;
  }
  if (pending.length > 0) {
    throw new MaverickError(
      ErrorCode.StoreConflict,
      `uplinks ${pending.map((d) => d.id).join(', ')} kept changing while being marked sealed`,
      {
        hint: 'another writer is updating these uplinks; the next seal repeats the commit',
        context: { seq },
      },
    );
  }
}

export class FarmBundleSink implements BundleSink {
  constructor(
    private readonly db: FarmDatabase,
    private readonly onCommitted?: (bundle: SealedBundle) => void,
  ) {}

  /** Idempotent: the bundle document first (the outbox entry), then the sealed marks. */
  async commit(bundle: SealedBundle): Promise<void> {
    const id = bundleId(bundle.seq);
    const digest = hex(bundle.digest);
    const existing = await this.db.bundles.findOne(id).exec();
    if (!existing) {
      const doc: BundleDoc = {
        id,
        seq: bundle.seq,
        cose: b64(bundle.cose),
        digest,
        kind: 'bundle',
        fromMs: bundle.timeRange.start,
        toMs: bundle.timeRange.end,
        uplinkCount: bundle.uplinks,
        timeSources: { ...bundle.timeSources },
        createdAt: Date.now(),
        syncState: 'pending',
      };
      await this.db.bundles.insert(doc);
    } else if (existing.digest !== digest) {
      // The sealer never signs a sequence number twice; different bytes here mean a broken store.
      throw new MaverickError(
        ErrorCode.StoreCorrupt,
        `bundle ${bundle.seq} is already stored with digest ${existing.digest}, not ${digest}`,
        {
          hint: 'the store holds a different bundle under this sequence number: keep the data directory and report it',
        },
      );
    }
    const ids = bundle.uplinkIds;
    for (let i = 0; i < ids.length; i += 500) await markSealed(this.db, ids.slice(i, i + 500), bundle.seq);
    this.onCommitted?.(bundle);
  }
}

export class FarmPlotDirectory implements PlotDirectory {
  constructor(private readonly db: FarmDatabase) {}

  async definition(plotId: string): Promise<PlotDefinition | undefined> {
    const plot = await this.db.plots.findOne(plotId).exec();
    // areaHa4 is hectares × 10^4, which is square metres.
    return plot ? plotDefinitionFromGeoJson(plot.areaHa4, plot.geometry) : undefined;
  }
}
