/**
 * The network server's downlink state in the farm database, so it survives a
 * restart: each device's queue of application payloads (`downlinks|<devEui>`)
 * and each gateway's duty-cycle use over the last hour (`duty-cycle|<gatewayEui>`),
 * both in the `kv` collection. Writes are upserts of the whole (small, bounded)
 * value: a queue holds at most 64 payloads of at most 242 bytes.
 */
import type { DownlinkStateStore, DutyCycleEntries, QueuedDownlink } from '../ns/downlink-queue.js';
import type { FarmDatabase } from './farm-db.js';

const QUEUE_PREFIX = 'downlinks|';
const DUTY_PREFIX = 'duty-cycle|';

/** A queued payload as JSON: the same fields, the payload base64. */
type StoredDownlink = Omit<QueuedDownlink, 'data'> & { data: string };

function toStored(item: QueuedDownlink): StoredDownlink {
  return { ...item, data: Buffer.from(item.data).toString('base64') };
}

function fromStored(stored: StoredDownlink): QueuedDownlink {
  return { ...stored, data: new Uint8Array(Buffer.from(stored.data, 'base64')) };
}

export class FarmDownlinkState implements DownlinkStateStore {
  constructor(private readonly db: FarmDatabase) {}

  async loadQueues(): Promise<QueuedDownlink[][]> {
    // '}' follows '|' in ASCII: the range holds exactly the keys with the prefix.
    const docs = await this.db.kv
      .find({ selector: { key: { $gte: QUEUE_PREFIX, $lt: 'downlinks}' } }, sort: [{ key: 'asc' }] })
      .exec();
    return docs.map((d) => ((d.value.items ?? []) as StoredDownlink[]).map(fromStored));
  }

  async saveQueue(devEui: string, items: readonly QueuedDownlink[]): Promise<void> {
    const key = QUEUE_PREFIX + devEui;
    if (items.length === 0) {
      await this.db.kv.bulkRemove([key]);
      return;
    }
    await this.db.kv.upsert({ key, value: { items: items.map(toStored) }, updatedAt: Date.now() });
  }

  async loadDutyCycle(gatewayEui: string): Promise<DutyCycleEntries | undefined> {
    const doc = await this.db.kv.findOne(DUTY_PREFIX + gatewayEui).exec();
    return doc ? (doc.value.bands as DutyCycleEntries) : undefined;
  }

  async saveDutyCycle(gatewayEui: string, entries: DutyCycleEntries): Promise<void> {
    await this.db.kv.upsert({
      key: DUTY_PREFIX + gatewayEui,
      value: { bands: entries },
      updatedAt: Date.now(),
    });
  }
}
