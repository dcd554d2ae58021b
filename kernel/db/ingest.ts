/**
 * Batched, durable ingest of processed uplinks, as a group commit.
 *
 * Records accumulate while a batch is committing; the moment that commit
 * returns, the next batch takes everything queued (up to `maxBatch`) and
 * commits it. An idle store commits a record at once (after the current
 * event-loop turn, so a burst handed in together shares one batch); a busy
 * store makes batches as large as the arrival rate over one commit's time.
 * One write per collection covers a whole batch: one fsync with
 * synchronous=FULL covers every uplink in it, so the fsyncs per second are
 * bounded by the disk, not by a timer. A batch may hold any number of
 * uplinks of one device (there is no per-device limit, and no timer: a
 * timer-spaced batch capped throughput at devices in flight / delay).
 * `store()` resolves only after the batch that holds the record has
 * committed: an uplink counts as stored, and may be published, only then.
 *
 * An uplink's readings (its decoded fields as fixed-point integers) live in
 * the uplink document itself, so a batch is exactly one write: a crash either
 * kept the whole uplink with its readings or nothing of it, and a retry
 * re-inserts idempotently (409 = already there).
 */
import { type BulkWriteRow, type RxCollection, type RxDocumentData, registerMutableWriteContext } from 'rxdb';
import { describeError, ErrorCode, isMaverickError, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import type { ProcessedUplink } from '../ns/uplink-types.js';
import type { FarmDatabase } from './farm-db.js';
import { readingsFromObject } from './fixed-point.js';
import { asPlainJson } from './plain-json.js';
import { UNSEALED, type UplinkDoc, uplinkId } from './schemas.js';

export interface UplinkRecord {
  devEui: string;
  devAddr: string;
  applicationId: string;
  fCnt: number;
  /** The device session (see uplinkId); absent = 0. */
  session?: number;
  fPort?: number;
  confirmed: boolean;
  adr: boolean;
  dr?: number;
  phyPayload: Uint8Array;
  data?: Uint8Array;
  object?: Record<string, unknown>;
  codecErrors?: string[];
  rxInfo: object[];
  frequencyHz: number;
  receivedAtMs: number;
  time: string;
  timeSource: 'gps' | 'ntp' | 'host-unsynced';
  plotId?: string;
}

export interface IngestOptions {
  /**
   * Most uplinks one transaction carries (default 500); more wait for the next commit. A
   * batch's documents and its message to the writer thread exist only while it commits, so
   * the cap bounds that transient: at 2,000 a heap snapshot of the 5,000 uplinks/s burst held
   * 15 MB in one commit, and the process peaked ~15 MB higher than at 500
   * (bench/gateway-udp.bench.ts, three runs each). 500 per fsync is still far more than a
   * commit needs to keep up (the ingest bench stores >10,000 uplinks/s).
   */
  maxBatch?: number;
  logger?: Logger;
}

interface Pending {
  record: UplinkRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A record of the batch being written, with its document. */
interface Writing {
  pending: Pending;
  uplink: UplinkDoc;
}

export interface IngestCounters {
  stored: number;
  duplicates: number;
  /** Writes that found their key taken by a different frame: each one an error and an alarm. */
  conflicts: number;
  batches: number;
  failedBatches: number;
}

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

export function toUplinkDoc(rec: UplinkRecord): UplinkDoc {
  const doc: UplinkDoc = {
    id: uplinkId(rec.devEui, rec.session ?? 0, rec.fCnt),
    devEui: rec.devEui,
    devAddr: rec.devAddr,
    applicationId: rec.applicationId,
    fCnt: rec.fCnt,
    confirmed: rec.confirmed,
    adr: rec.adr,
    phy: b64(rec.phyPayload),
    // Plain JSON, as RxDB stores it: metadata may hold undefined fields. Metadata that is plain
    // already is kept as it is (no copy per uplink): nothing changes a received frame's metadata.
    rxInfo: asPlainJson(rec.rxInfo) as Record<string, unknown>[],
    frequencyHz: rec.frequencyHz,
    receivedAt: rec.receivedAtMs,
    time: rec.time,
    timeSource: rec.timeSource,
    sealedSeq: UNSEALED,
  };
  if (rec.fPort !== undefined) doc.fPort = rec.fPort;
  if (rec.dr !== undefined) doc.dr = rec.dr;
  if (rec.data) doc.data = b64(rec.data);
  if (rec.object) doc.object = asPlainJson(rec.object) as Record<string, unknown>;
  if (rec.codecErrors?.length) doc.codecErrors = rec.codecErrors;
  if (rec.plotId) doc.plotId = rec.plotId;
  const readings = readingsFromObject(rec.object);
  if (readings.length) doc.readings = readings;
  return doc;
}

/** The store's record of an uplink the network server processed. */
export function uplinkRecordOf(up: ProcessedUplink): UplinkRecord {
  // Optional fields set one by one, not spread in: no throwaway object per field per uplink.
  const record: UplinkRecord = {
    devEui: up.device.devEui,
    devAddr: up.devAddr,
    applicationId: up.device.applicationId,
    fCnt: up.fCnt,
    session: up.session,
    confirmed: up.confirmed,
    adr: up.adr,
    dr: up.dr,
    phyPayload: up.phyPayload,
    data: up.data,
    rxInfo: up.rxInfo,
    frequencyHz: up.txInfo.frequencyHz,
    // GPS time when a receiver had it, else the host clock (the record says which).
    receivedAtMs: Date.parse(up.time) || Date.now(),
    time: up.time,
    timeSource: up.timeSource,
  };
  if (up.fPort !== undefined) record.fPort = up.fPort;
  if (up.object) record.object = up.object;
  if (up.errors.length) record.codecErrors = up.errors;
  if (up.device.plotId) record.plotId = up.device.plotId;
  return record;
}

export class UplinkIngestor {
  private queue: Pending[] = [];
  /** The running drain loop, while there is one. */
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly maxBatch: number;
  private readonly logger: Logger;
  readonly counters: IngestCounters = {
    stored: 0,
    duplicates: 0,
    conflicts: 0,
    batches: 0,
    failedBatches: 0,
  };

  constructor(
    private readonly db: FarmDatabase,
    options: IngestOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 500);
    this.logger = options.logger ?? silentLogger;
  }

  /** Resolves once the record is durably committed (or was already stored). */
  store(rec: UplinkRecord): Promise<void> {
    if (this.closed) {
      return Promise.reject(new MaverickError(ErrorCode.StoreClosed, 'uplink store is closed'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record: rec, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Waits until everything queued so far has committed (or failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** Commits batches one after another, in arrival order, until the queue is empty. */
  private async drain(): Promise<void> {
    // Let the records handed in during this event-loop turn join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
      this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
      await this.commit(batch);
    }
    this.draining = undefined;
  }

  /**
   * The documents of a batch, built when the batch is written rather than when each record
   * was handed in: in a burst, records queued behind a commit hold no document meanwhile (less
   * for the garbage collector to keep alive). A record JSON cannot hold (a codec that returned
   * a BigInt or a cycle) is refused on its own; the rest of the batch is written.
   */
  private documentsOf(queued: Pending[]): Writing[] {
    const batch: Writing[] = [];
    for (const pending of queued) {
      let uplink: UplinkDoc;
      try {
        uplink = toUplinkDoc(pending.record);
      } catch (err) {
        const { devEui, session, fCnt } = pending.record;
        const id = uplinkId(devEui, session ?? 0, fCnt);
        this.logger.error({ id, err: describeError(err) }, 'uplink cannot be stored as JSON');
        pending.reject(
          new MaverickError(
            ErrorCode.StoreUnsupported,
            `uplink ${id} cannot be stored: ${describeError(err)}`,
            {
              hint: 'the payload codec returned a value JSON cannot hold (a BigInt, a cycle): fix the codec',
              context: { id },
            },
          ),
        );
        continue;
      }
      batch.push({ pending, uplink });
    }
    return batch;
  }

  private async commit(queued: Pending[]): Promise<void> {
    const batch = this.documentsOf(queued);
    if (batch.length === 0) return;
    let outcome: InsertOutcome;
    try {
      outcome = await insertUplinks(
        this.db.uplinks,
        batch.map((w) => w.uplink),
      );
    } catch (err) {
      this.counters.failedBatches++;
      this.logger.error({ err: describeError(err), size: batch.length }, 'uplink batch not stored');
      const error = isMaverickError(err)
        ? err
        : new MaverickError(ErrorCode.StoreIo, `uplink batch not stored: ${describeError(err)}`, {
            cause: err,
          });
      for (const w of batch) w.pending.reject(error);
      return;
    }
    this.counters.batches++;
    this.counters.duplicates += outcome.duplicates;
    this.counters.conflicts += outcome.conflicts.size;
    this.counters.stored += batch.length - outcome.duplicates - outcome.conflicts.size;
    for (const { pending: p, uplink } of batch) {
      const storedPhy = outcome.conflicts.get(uplink);
      if (storedPhy === undefined) {
        p.resolve();
        continue;
      }
      // Never a silent skip: the record already there is kept, this one is refused loudly.
      this.logger.error(
        { id: uplink.id, storedPhy, newPhy: uplink.phy },
        'uplink key already holds a different frame; the new frame is not stored',
      );
      p.reject(
        new MaverickError(
          ErrorCode.StoreConflict,
          `uplink ${uplink.id} is already stored with a different frame`,
          {
            hint: 'two different frames claim one device, session and FCnt: check the device registration (a removed and re-added device restarts at session 0) and the gateway log',
            context: { id: uplink.id, storedPhy, newPhy: uplink.phy },
          },
        ),
      );
    }
  }
}

interface InsertOutcome {
  /** The same frame was already stored under its key (a retried batch): nothing to do. */
  duplicates: number;
  /** Documents whose key already holds a different frame, with that frame (base64; '' when RxDB did not say). */
  conflicts: Map<UplinkDoc, string>;
}

/**
 * The uplink documents reach the collection's storage instance as they are (each built for
 * this write alone, in store()): RxDB's wrapper may set their revision and write time in
 * place instead of copying every document, as it does for its own bulkInsert.
 */
const UPLINK_INSERT_CONTEXT = 'maverick-uplink-insert';
registerMutableWriteContext(UPLINK_INSERT_CONTEXT);
/** Replaced by RxDB's storage wrapper before the storage sees the document. */
const UNWRITTEN_META = Object.freeze({ lwt: 0 });

/**
 * Inserts where an existing document (409) holding the same frame means "already stored"
 * and one holding another frame is a conflict; any other error throws. Written through
 * the collection's storage instance, as RxCollection.bulkInsert writes (revisions, write
 * times, change events, the database's write lock), without its per-document copy.
 */
async function insertUplinks(collection: RxCollection<UplinkDoc>, docs: UplinkDoc[]): Promise<InsertOutcome> {
  const outcome: InsertOutcome = { duplicates: 0, conflicts: new Map() };
  if (docs.length === 0) return outcome;
  // One row per key: a second record of a key in the same batch is judged against the first.
  const byId = new Map<string, UplinkDoc>();
  const rows: BulkWriteRow<UplinkDoc>[] = [];
  for (const doc of docs) {
    const earlier = byId.get(doc.id);
    if (earlier) {
      if (earlier.phy === doc.phy) outcome.duplicates++;
      else outcome.conflicts.set(doc, earlier.phy);
      continue;
    }
    byId.set(doc.id, doc);
    const document = doc as RxDocumentData<UplinkDoc>;
    document._deleted = false;
    document._attachments = {};
    document._meta = UNWRITTEN_META as RxDocumentData<UplinkDoc>['_meta'];
    document._rev = '';
    rows.push({ document });
  }
  const result = await collection.storageInstance.bulkWrite(rows, UPLINK_INSERT_CONTEXT);
  for (const e of result.error) {
    if (e.status !== 409) {
      throw new MaverickError(
        ErrorCode.StoreIo,
        `write of ${collection.name}/${e.documentId} failed with status ${e.status}`,
        { context: { error: e } },
      );
    }
    const existing = e.documentInDb as UplinkDoc | undefined;
    const mine = byId.get(e.documentId);
    if (!mine) continue;
    if (existing && existing.phy === mine.phy) outcome.duplicates++;
    else outcome.conflicts.set(mine, existing?.phy ?? '');
  }
  return outcome;
}
