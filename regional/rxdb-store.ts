/**
 * RegionalStore over RxDB on any RxStorage (rxdb 17). Three collections, to
 * stay well inside RxDB's 13-per-process limit when the demo runs the
 * gateway and the regional node in one process:
 *   regional_bundles  one document per accepted bundle (exact COSE bytes + decoded summary)
 *   regional_uplinks  the decoded evidence, one document per uplink, indexed by plot and time
 *   regional_records  small keyed records: gateway keys, alerts, plot definitions (by `kind`)
 * Writes are upserts keyed by content identity (a bundle by gateway,
 * sequence and digest), so a retry after a crash is a no-op; a bundle
 * document is written last and is the commit marker. RxDB has no
 * multi-document transactions: `withGateway` is a per-gateway queue in this
 * process, which is exactly as far as an embedded store is shared.
 * Documents and schemas: rxdb-schema.ts.
 */
import {
  createRxDatabase,
  type MangoQuerySelector,
  normalizeMangoQuery,
  prepareQuery,
  type RxCollection,
  type RxDatabase,
  type RxStorage,
} from 'rxdb';
import type { PlotDefinition, UplinkRecord } from '../proto/bundle/types.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { LinkStateStore } from './link-state.js';
import { type LinkRecordDoc, RxdbLinkState } from './rxdb-link-state.js';
import {
  bundleId,
  bundleSchema,
  codeOrder,
  fromHex,
  hex,
  type RecordDoc,
  type RegionalCollections,
  recordSchema,
  toStored,
  type UplinkDoc,
  uplinkSchema,
} from './rxdb-schema.js';
import type {
  EvidenceQuery,
  GatewayChain,
  GatewayKeyRecord,
  PlotEvidence,
  RegionalAlert,
  RegionalStore,
  StoredBundle,
  StoredCommitment,
  StoredPeriodStatement,
} from './store.js';

export interface RxdbRegionalStoreOptions {
  // RxStorage's generics differ per storage; this store does not care which.
  // biome-ignore lint/suspicious/noExplicitAny: storage internals are opaque here
  storage: RxStorage<any, any>;
  /** RxDB database name (lowercase letters, digits, _$()+-/). */
  name?: string;
}

export class RxdbRegionalStore implements RegionalStore {
  /** Tail of each gateway's queue of chain work. */
  private readonly chains = new Map<string, Promise<void>>();

  /** Satellite reassembly state (rxdb-link-state.ts), in regional_records. */
  readonly linkState: LinkStateStore;

  private constructor(private readonly db: RxDatabase<RegionalCollections>) {
    this.linkState = new RxdbLinkState(db.regional_records as unknown as RxCollection<LinkRecordDoc>);
  }

  static async open(options: RxdbRegionalStoreOptions): Promise<RxdbRegionalStore> {
    const db = await createRxDatabase<RegionalCollections>({
      name: options.name ?? 'maverick_regional',
      storage: options.storage,
      multiInstance: false,
      eventReduce: true,
      closeDuplicates: true,
    });
    try {
      await db.addCollections({
        regional_bundles: { schema: bundleSchema },
        regional_uplinks: { schema: uplinkSchema },
        regional_records: { schema: recordSchema },
      });
    } catch (err) {
      await db.close();
      throw new MaverickError(ErrorCode.RegionalStore, 'could not open the regional store collections', {
        cause: err,
      });
    }
    return new RxdbRegionalStore(db);
  }

  async putGatewayKey(record: GatewayKeyRecord): Promise<void> {
    await this.db.regional_records.upsert({
      id: `gateway|${record.kid}`,
      kind: 'gateway',
      gatewayId: record.gatewayId,
      at: record.addedAt,
      data: {
        kid: record.kid,
        publicKey: hex(record.publicKey),
        ...(record.label ? { label: record.label } : {}),
        ...(record.removedAt !== undefined ? { removedAt: record.removedAt } : {}),
      },
    });
  }

  async removeGatewayKey(kid: string, at: number): Promise<boolean> {
    const doc = await this.db.regional_records.findOne(`gateway|${kid}`).exec();
    if (!doc || typeof doc.data.removedAt === 'number') return false;
    await doc.incrementalPatch({ data: { ...doc.data, removedAt: at } });
    return true;
  }

  async listGatewayKeys(): Promise<GatewayKeyRecord[]> {
    // Straight from the storage, not through RxDB's query cache: a key added by another process
    // (`maverick regional gateway add` while the node runs) raises no change event here.
    const records = this.db.regional_records;
    const query = normalizeMangoQuery(records.schema.jsonSchema, { selector: { kind: 'gateway' } });
    const { documents } = await records.storageInstance.query(prepareQuery(records.schema.jsonSchema, query));
    // A raw storage query also returns removed keys (tombstones).
    return documents
      .filter((d) => !d._deleted)
      .map((d) => ({
        gatewayId: d.gatewayId,
        kid: String(d.data.kid),
        publicKey: fromHex(String(d.data.publicKey)),
        ...(typeof d.data.label === 'string' ? { label: d.data.label } : {}),
        addedAt: d.at,
        ...(typeof d.data.removedAt === 'number' ? { removedAt: d.data.removedAt } : {}),
      }));
  }

  withGateway<T>(gatewayId: string, fn: (chain: GatewayChain) => Promise<T>): Promise<T> {
    const run = (this.chains.get(gatewayId) ?? Promise.resolve()).then(() => fn(this.chainOf(gatewayId)));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(gatewayId, settled);
    void settled.then(() => {
      if (this.chains.get(gatewayId) === settled) this.chains.delete(gatewayId);
    });
    return run;
  }

  private chainOf(gatewayId: string): GatewayChain {
    const chain: GatewayChain = {
      linksInRange: async (from, to) => {
        const docs = await this.db.regional_bundles
          .find({ selector: { gatewayId, seq: { $gte: from, $lte: to } } })
          .exec();
        return docs.map((d) => ({
          seq: d.seq,
          digest: d.digest,
          prevHash: d.prevHash,
          disputed: d.disputed === true,
          ...(d.overruled === true ? { overruled: true } : {}),
        }));
      },
      neighbours: async (seq) => {
        const [below] = await this.db.regional_bundles
          .find({ selector: { gatewayId, seq: { $lt: seq } }, sort: [{ seq: 'desc' }], limit: 1 })
          .exec();
        const [above] = await this.db.regional_bundles
          .find({ selector: { gatewayId, seq: { $gt: seq } }, sort: [{ seq: 'asc' }], limit: 1 })
          .exec();
        return { below: below?.seq ?? 0, above: above?.seq };
      },
      around: async (seq, radius) => ({
        links: await chain.linksInRange(Math.max(1, seq - radius), seq + radius),
        ...(await chain.neighbours(seq)),
      }),
      putBundle: (bundle, uplinks, plotDefinitions) => this.putBundle(bundle, uplinks, plotDefinitions),
      setDisputed: async (digest, disputed) => {
        const doc = await this.db.regional_bundles.findOne({ selector: { gatewayId, digest } }).exec();
        if (!doc)
          throw new MaverickError(ErrorCode.RegionalStore, `no bundle ${digest} of ${gatewayId} to mark`);
        await doc.incrementalPatch({ disputed });
      },
      overrule: async (digest) => {
        const doc = await this.db.regional_bundles.findOne({ selector: { gatewayId, digest } }).exec();
        if (!doc)
          throw new MaverickError(ErrorCode.RegionalStore, `no bundle ${digest} of ${gatewayId} to overrule`);
        await doc.incrementalPatch({ overruled: true, disputed: true });
      },
      getAlert: (id) => this.getAlert(id),
      putAlert: (alert) => this.putAlert(alert),
    };
    return chain;
  }

  async bundlesAtSeq(gatewayId: string, seq: number): Promise<StoredBundle[]> {
    const docs = await this.db.regional_bundles
      .find({ selector: { gatewayId, seq }, sort: [{ id: 'asc' }] })
      .exec();
    return docs.map((d) => toStored(d.toMutableJSON()));
  }

  async getBundleByDigest(digest: string): Promise<StoredBundle | undefined> {
    const doc = await this.db.regional_bundles.findOne({ selector: { digest } }).exec();
    return doc ? toStored(doc.toMutableJSON()) : undefined;
  }

  async headSeq(gatewayId: string): Promise<number> {
    const [doc] = await this.db.regional_bundles
      .find({ selector: { gatewayId }, sort: [{ seq: 'desc' }], limit: 1 })
      .exec();
    return doc?.seq ?? 0;
  }

  private async putBundle(
    bundle: StoredBundle,
    uplinks: UplinkRecord[],
    plotDefinitions: { geometryHash: string; plotId: string; definition: PlotDefinition }[],
  ): Promise<void> {
    const { gatewayId, seq, digest } = bundle;
    if (plotDefinitions.length > 0) {
      await this.db.regional_records.bulkUpsert(
        plotDefinitions.map((p) => ({
          id: `plot|${p.geometryHash}`,
          kind: 'plot' as const,
          gatewayId,
          at: bundle.receivedAt,
          data: { plotId: p.plotId, definition: p.definition as unknown as Record<string, unknown> },
        })),
      );
    }
    const uplinkDocs: UplinkDoc[] = uplinks.map((u) => ({
      id: `${digest}|${hex(u.devEui)}|${u.fCnt}|${u.receivedAt}`,
      gatewayId,
      seq,
      bundle: digest,
      devEui: hex(u.devEui),
      plotId: u.plotId ?? '',
      fCnt: u.fCnt,
      receivedAt: u.receivedAt,
      timeSource: u.timeSource,
      readings: u.readings.map((r) => ({ field: r.field, scale: r.scale, value: r.value })),
    }));
    const result = await this.db.regional_uplinks.bulkUpsert(uplinkDocs);
    if (result.error.length > 0) {
      throw new MaverickError(
        ErrorCode.RegionalStore,
        `storing ${result.error.length} uplinks of bundle ${seq} failed`,
      );
    }
    // Written last: its presence means the evidence above is complete.
    await this.db.regional_bundles.upsert({
      ...bundle,
      id: bundleId(gatewayId, seq, digest),
      cose: Buffer.from(bundle.cose).toString('base64'),
      devices: bundle.devices.map((d) => ({ ...d, devEui: hex(d.devEui) })),
    });
  }

  async listBundles(gatewayId?: string): Promise<StoredBundle[]> {
    const docs = await this.db.regional_bundles
      .find({ selector: gatewayId === undefined ? {} : { gatewayId }, sort: [{ id: 'asc' }] })
      .exec();
    return docs.map((d) => toStored(d.toMutableJSON()));
  }

  async putCommitment(c: StoredCommitment): Promise<void> {
    await this.db.regional_records.upsert({
      id: `commitment|${c.gatewayId}|${c.day}`,
      kind: 'commitment',
      gatewayId: c.gatewayId,
      at: c.receivedAt,
      data: { ...c, cose: Buffer.from(c.cose).toString('base64') },
    });
  }

  async getCommitment(gatewayId: string, day: number): Promise<StoredCommitment | undefined> {
    const doc = await this.db.regional_records.findOne(`commitment|${gatewayId}|${day}`).exec();
    if (!doc) return undefined;
    const data = doc.toMutableJSON().data as unknown as StoredCommitment & { cose: string };
    return { ...data, cose: new Uint8Array(Buffer.from(data.cose, 'base64')) };
  }

  async putPeriodStatement(statement: StoredPeriodStatement): Promise<boolean> {
    const id = `statement|${statement.digest}`;
    if (await this.db.regional_records.findOne(id).exec()) return false;
    await this.db.regional_records.insert({
      id,
      kind: 'statement',
      gatewayId: statement.gatewayId,
      at: statement.receivedAt,
      data: { ...statement, cose: Buffer.from(statement.cose).toString('base64') },
    });
    return true;
  }

  async listPeriodStatements(gatewayId?: string): Promise<StoredPeriodStatement[]> {
    const docs = await this.db.regional_records
      .find({ selector: gatewayId === undefined ? { kind: 'statement' } : { kind: 'statement', gatewayId } })
      .exec();
    return docs
      .map((d) => {
        const data = d.toMutableJSON().data as unknown as StoredPeriodStatement & { cose: string };
        return { ...data, cose: new Uint8Array(Buffer.from(data.cose, 'base64')) };
      })
      .sort(
        (a, b) =>
          codeOrder(a.gatewayId, b.gatewayId) ||
          a.fromDay - b.fromDay ||
          a.toDay - b.toDay ||
          codeOrder(a.digest, b.digest),
      );
  }

  async putAlert(alert: RegionalAlert): Promise<void> {
    await this.db.regional_records.upsert({
      id: `alert|${alert.id}`,
      kind: 'alert',
      gatewayId: alert.gatewayId,
      at: alert.at,
      data: { ...alert } as unknown as Record<string, unknown>,
    });
  }

  private async getAlert(id: string): Promise<RegionalAlert | undefined> {
    const doc = await this.db.regional_records.findOne(`alert|${id}`).exec();
    return doc ? (doc.toMutableJSON().data as unknown as RegionalAlert) : undefined;
  }

  async listAlerts(gatewayId?: string, options: { includeClosed?: boolean } = {}): Promise<RegionalAlert[]> {
    const selector: MangoQuerySelector<RecordDoc> =
      gatewayId === undefined ? { kind: 'alert' } : { kind: 'alert', gatewayId };
    const docs = await this.db.regional_records.find({ selector }).exec();
    return docs
      .map((d) => d.toMutableJSON().data as unknown as RegionalAlert)
      .filter((a) => options.includeClosed || a.closedAt === undefined)
      .sort((a, b) => a.at - b.at || a.seq - b.seq || a.id.localeCompare(b.id));
  }

  async getPlotDefinition(
    geometryHash: string,
  ): Promise<{ plotId: string; definition: PlotDefinition } | undefined> {
    const doc = await this.db.regional_records.findOne(`plot|${geometryHash}`).exec();
    if (!doc) return undefined;
    const data = doc.toMutableJSON().data;
    return { plotId: String(data.plotId), definition: data.definition as unknown as PlotDefinition };
  }

  async evidenceForPlot(query: EvidenceQuery): Promise<PlotEvidence[]> {
    const docs = await this.db.regional_uplinks
      .find({
        selector: { plotId: query.plotId, receivedAt: { $gte: query.from, $lte: query.to } },
        sort: [{ receivedAt: 'asc' }],
      })
      .exec();
    return docs.map((d) => ({
      gatewayId: d.gatewayId,
      seq: d.seq,
      digest: d.bundle,
      uplink: {
        devEui: fromHex(d.devEui),
        plotId: d.plotId === '' ? null : d.plotId,
        fCnt: d.fCnt,
        receivedAt: d.receivedAt,
        timeSource: d.timeSource,
        readings: d.readings.map((r) => ({ ...r })),
      },
    }));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
