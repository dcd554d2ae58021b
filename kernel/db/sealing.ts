/**
 * The sealer's view of the farm database: where unsealed uplinks come from,
 * where sealed bundles go (the `bundles` collection is also the outbox: a
 * bundle waits there as `pending` until the regional node acknowledges it),
 * and where plot definitions are looked up.
 */

import { plotDefinitionFromGeoJson } from '../../proto/bundle/plots.js';
import type { PlotDefinition } from '../../proto/bundle/types.js';
import type {
  BundleSink,
  PlotDirectory,
  SealedBundle,
  UnsealedUplink,
  UplinkSource,
} from '../bundle/sealer.js';
import type { FarmDatabase } from './farm-db.js';
import { type BundleDoc, bundleId, sessionOfUplinkId, UNSEALED } from './schemas.js';

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export class FarmUplinkSource implements UplinkSource {
  constructor(private readonly db: FarmDatabase) {}

  async unsealed(limit: number): Promise<UnsealedUplink[]> {
    const uplinks = await this.db.uplinks
      .find({ selector: { sealedSeq: UNSEALED }, sort: [{ sealedSeq: 'asc' }, { receivedAt: 'asc' }], limit })
      .exec();
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
      throw new Error(`bundle ${bundle.seq} is already stored with digest ${existing.digest}, not ${digest}`);
    }
    const ids = bundle.uplinkIds;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const uplinks = await this.db.uplinks.findByIds(chunk).exec();
      await this.db.uplinks.bulkUpsert(
        [...uplinks.values()].map((d) => ({ ...d.toMutableJSON(), sealedSeq: bundle.seq })),
      );
    }
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
