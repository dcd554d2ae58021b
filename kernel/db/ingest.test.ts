import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { type LogLine, recordingLogger } from '../../proto/log.test-helpers.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import { UplinkIngestor, type UplinkRecord } from './ingest.js';
import { applyRetention } from './retention.js';
import { bundleId } from './schemas.js';
import { countUplinks, listUplinks } from './uplink-queries.js';

let db: FarmDatabase | undefined;
let counter = 0;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function open() {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `ingest${counter++}` });
  return db;
}

function record(devEui: string, fCnt: number, receivedAtMs = 1_700_000_000_000 + fCnt * 1000): UplinkRecord {
  return {
    devEui,
    devAddr: '26011bda',
    applicationId: 'farm',
    fCnt,
    fPort: 2,
    confirmed: false,
    adr: true,
    dr: 5,
    phyPayload: Uint8Array.from([0x40, 1, 2, 3, 4]),
    data: Uint8Array.from([1, 103, 0, 212]),
    object: { temperatureSensor: { '1': 21.2 }, humiditySensor: { '2': 40 } },
    rxInfo: [{ gatewayEui: '0102030405060708', rssi: -80, snr: 7.5, tmst: 1 }],
    frequencyHz: 868_100_000,
    receivedAtMs,
    time: new Date(receivedAtMs).toISOString(),
    timeSource: 'host-unsynced',
  };
}

describe('UplinkIngestor', () => {
  it('commits a burst handed in together as one batch and resolves each store() only after the commit', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    const committed = new Set<number>();
    const stored = Array.from({ length: 10 }, (_, i) =>
      ingest.store(record('0011223344556677', i)).then(() => committed.add(i)),
    );
    // Nothing resolves before the transaction is in: the first await sees an empty set.
    expect(committed.size).toBe(0);
    await Promise.all(stored);
    expect(await countUplinks(farm)).toBe(10);
    // Each uplink carries its two readings as fixed-point integers.
    const third = await farm.uplinks.findOne({ selector: { fCnt: 3 } }).exec();
    expect(third!.readings).toEqual([
      { field: 'humiditySensor.2', value: 40, scale: -0 },
      { field: 'temperatureSensor.1', value: 212, scale: -1 },
    ]);
    expect(ingest.counters).toMatchObject({ stored: 10, batches: 1, duplicates: 0 });
  });

  it('group commit: what arrives while a batch commits goes into the next batch, many uplinks of one device included', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    // Hold the first commit open until the second wave has been handed in.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const storage = farm.uplinks.storageInstance;
    const bulkWrite = storage.bulkWrite.bind(storage);
    const batchSizes: number[] = [];
    storage.bulkWrite = async (rows, context) => {
      batchSizes.push(rows.length);
      if (batchSizes.length === 1) await gate;
      return bulkWrite(rows, context);
    };
    const first = ingest.store(record('0011223344556677', 0));
    await new Promise((r) => setImmediate(r));
    expect(batchSizes).toEqual([1]);
    const wave = Array.from({ length: 50 }, (_, i) => ingest.store(record('0011223344556677', i + 1)));
    release();
    await Promise.all([first, ...wave]);
    expect(batchSizes).toEqual([1, 50]);
    expect(ingest.counters).toMatchObject({ stored: 51, batches: 2 });
    expect(await countUplinks(farm)).toBe(51);
  });

  it('splits a queue longer than maxBatch into several transactions, in arrival order', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm, { maxBatch: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => ingest.store(record('aa', i))));
    expect(ingest.counters).toMatchObject({ stored: 10, batches: 3 });
    expect((await listUplinks(farm, { devEui: 'aa' })).map((u) => u.fCnt)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('rejects every store() of a failed batch and keeps committing later ones', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    const storage = farm.uplinks.storageInstance;
    const bulkWrite = storage.bulkWrite.bind(storage);
    let calls = 0;
    storage.bulkWrite = async (rows, context) => {
      if (++calls === 1) throw new Error('disk on fire');
      return bulkWrite(rows, context);
    };
    const failed = [ingest.store(record('aa', 1)), ingest.store(record('aa', 2))];
    for (const p of failed) await expect(p).rejects.toMatchObject({ code: ErrorCode.StoreIo });
    await ingest.store(record('aa', 3));
    expect(ingest.counters).toMatchObject({ stored: 1, failedBatches: 1 });
    expect(await countUplinks(farm)).toBe(1);
  });

  it('treats a re-stored uplink (same DevEUI and FCnt) as a no-op, not a duplicate', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    await ingest.store(record('0011223344556677', 7));
    await ingest.store(record('0011223344556677', 7));
    expect(await countUplinks(farm)).toBe(1);
    expect((await farm.uplinks.findOne().exec())!.readings).toHaveLength(2);
    expect(ingest.counters.duplicates).toBe(1);
  });

  it('keeps FCnt 0..2 of every session: a rejoin or counter reset is a new uplink, not a duplicate', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm, { maxBatch: 100 });
    const all: Promise<void>[] = [];
    for (const session of [0, 1, 2, 3]) {
      for (let fCnt = 0; fCnt < 3; fCnt++) {
        const rec = record('0011223344556677', fCnt, 1_700_000_000_000 + session * 10_000 + fCnt * 1000);
        rec.session = session;
        rec.phyPayload = Uint8Array.from([0x40, session, fCnt]);
        all.push(ingest.store(rec));
      }
    }
    await Promise.all(all);
    expect(await countUplinks(farm)).toBe(12);
    const ids = (await farm.uplinks.find().exec()).map((d) => d.id).sort();
    // Session 0 keeps the key format of older stores; later sessions name themselves.
    expect(ids[0]).toBe('0011223344556677|0000000000');
    expect(ids).toContain('0011223344556677|000003|0000000002');
    expect(ingest.counters).toMatchObject({ stored: 12, duplicates: 0, conflicts: 0 });
  });

  it('refuses, counts and logs a frame whose key already holds a different frame', async () => {
    const farm = await open();
    const lines: LogLine[] = [];
    const logger = recordingLogger(lines);
    const ingest = new UplinkIngestor(farm, { maxBatch: 10, logger });
    await ingest.store(record('0011223344556677', 7));
    const other = record('0011223344556677', 7);
    other.phyPayload = Uint8Array.from([0x40, 9, 9, 9]);
    const failure = await ingest.store(other).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isMaverickError(failure) && failure.code).toBe(ErrorCode.StoreConflict);
    expect(ingest.counters).toMatchObject({ stored: 1, duplicates: 0, conflicts: 1 });
    expect(lines.some((l) => l.level === 'error' && l.msg?.includes('different frame'))).toBe(true);
    // What was stored first is kept untouched.
    const kept = await farm.uplinks.findOne('0011223344556677|0000000007').exec();
    expect(kept?.phy).toBe(Buffer.from([0x40, 1, 2, 3, 4]).toString('base64'));
  });

  it('judges two records of one key in the same batch against each other: one stored, the repeat a no-op, another frame a conflict', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm, { maxBatch: 10 });
    const other = record('0011223344556677', 7);
    other.phyPayload = Uint8Array.from([0x40, 9, 9, 9]);
    const outcomes = await Promise.allSettled([
      ingest.store(record('0011223344556677', 7)),
      ingest.store(record('0011223344556677', 7)),
      ingest.store(other),
      ingest.store(record('0011223344556677', 8)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const refused = (outcomes[2] as PromiseRejectedResult).reason;
    expect(isMaverickError(refused) && refused.code).toBe(ErrorCode.StoreConflict);
    expect(ingest.counters).toMatchObject({ batches: 1, stored: 2, duplicates: 1, conflicts: 1 });
    const kept = await farm.uplinks.findOne('0011223344556677|0000000007').exec();
    expect(kept?.phy).toBe(Buffer.from([0x40, 1, 2, 3, 4]).toString('base64'));
    // Written as RxDB writes: a revision, a write time, and a change event per document.
    expect(kept?.revision).toMatch(/^1-/);
    expect(kept?.toJSON(true)._meta.lwt).toBeGreaterThan(0);
  });

  it('refuses a record JSON cannot hold on its own and stores the rest of its batch', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    const bad = record('aa', 2);
    bad.object = { counter: 1n };
    const outcomes = await Promise.allSettled([
      ingest.store(record('aa', 1)),
      ingest.store(bad),
      ingest.store(record('aa', 3)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refused = (outcomes[1] as PromiseRejectedResult).reason;
    expect(isMaverickError(refused) && refused.code).toBe(ErrorCode.StoreUnsupported);
    expect(String(refused)).toContain('aa|0000000002');
    expect((await listUplinks(farm, { devEui: 'aa' })).map((u) => u.fCnt)).toEqual([1, 3]);
    expect(ingest.counters).toMatchObject({ stored: 2, batches: 1, failedBatches: 0 });
  });

  it('emits the collection change events of an insert after the commit', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    const seen: string[] = [];
    const subscription = farm.uplinks.$.subscribe((event) =>
      seen.push(`${event.operation} ${event.documentId}`),
    );
    await ingest.store(record('aa', 1));
    subscription.unsubscribe();
    expect(seen).toEqual(['INSERT aa|0000000001']);
  });

  it('lists uplinks per device with the fields the CLI prints', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    await Promise.all([
      ingest.store(record('aa', 1)),
      ingest.store(record('bb', 1)),
      ingest.store(record('aa', 2)),
    ]);
    const list = await listUplinks(farm, { devEui: 'aa' });
    expect(list.map((u) => u.fCnt)).toEqual([1, 2]);
    expect(list[0]).toMatchObject({ devEui: 'aa', fPort: 2, rssi: -80, snr: 7.5, gateways: 1 });
    expect(await countUplinks(farm, { devEui: 'bb' })).toBe(1);
  });

  it('rejects store() after close with a StoreClosed error', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    await ingest.close();
    await expect(ingest.store(record('aa', 1))).rejects.toMatchObject({ code: 4003 });
  });
});

describe('retention', () => {
  it('drops only old uplinks sealed in acknowledged bundles, and alarms instead of dropping unsynced evidence', async () => {
    const farm = await open();
    const ingest = new UplinkIngestor(farm);
    const day = 86_400_000;
    const now = 1_800_000_000_000;
    await Promise.all([
      ingest.store(record('aa', 1, now - 40 * day)), // old, sealed in acked bundle 0 → goes
      ingest.store(record('aa', 2, now - 40 * day)), // old, sealed in unacked bundle 1 → stays
      ingest.store(record('aa', 3, now - 40 * day)), // old, unsealed → stays
      ingest.store(record('aa', 4, now - 1 * day)), // recent, acked → stays (under quota)
    ]);
    const mark = async (fCnt: number, seq: number) => {
      const doc = await farm.uplinks.findOne({ selector: { fCnt } }).exec();
      await doc!.incrementalPatch({ sealedSeq: seq });
    };
    await mark(1, 0);
    await mark(2, 1);
    await mark(4, 0);
    const bundle = (seq: number, syncState: 'pending' | 'acked') => ({
      id: bundleId(seq),
      seq,
      cose: '',
      digest: '00',
      kind: 'bundle' as const,
      fromMs: 0,
      toMs: 0,
      uplinkCount: 1,
      createdAt: now,
      syncState,
    });
    await farm.bundles.bulkInsert([bundle(0, 'acked'), bundle(1, 'pending')]);

    const first = await applyRetention(farm, {
      nowMs: now,
      rawDays: 30,
      sizeBytes: async () => 100,
      quotaBytes: 1000,
    });
    expect(first).toMatchObject({ deletedUplinks: 1, deletedReadings: 2, quotaAlarm: false });
    expect((await listUplinks(farm)).map((u) => u.fCnt)).toEqual([2, 3, 4]);

    // Over quota: the acked recent one goes too, then only unsynced evidence is left → alarm, nothing else dropped.
    const second = await applyRetention(farm, {
      nowMs: now,
      rawDays: 30,
      sizeBytes: async () => 5000,
      quotaBytes: 1000,
    });
    expect(second).toMatchObject({ deletedUplinks: 1, quotaAlarm: true });
    expect((await listUplinks(farm)).map((u) => u.fCnt)).toEqual([2, 3]);
  });
});
