import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import type { SealedBundle } from '../bundle/sealer.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import { UplinkIngestor } from './ingest.js';
import { bundleId, UNSEALED } from './schemas.js';
import { FarmBundleSink, FarmUplinkSource } from './sealing.js';

let db: FarmDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function storeUplinks(count: number): Promise<FarmDatabase> {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `sealing${Date.now()}` });
  const ingest = new UplinkIngestor(db);
  await Promise.all(
    Array.from({ length: count }, (_, fCnt) =>
      ingest.store({
        devEui: '0011223344556677',
        devAddr: '26011bda',
        applicationId: 'farm',
        fCnt,
        confirmed: false,
        adr: false,
        phyPayload: Uint8Array.from([0x40, fCnt]),
        rxInfo: [],
        frequencyHz: 868_100_000,
        receivedAtMs: 1_700_000_000_000 + fCnt * 1000,
        time: new Date(1_700_000_000_000 + fCnt * 1000).toISOString(),
        timeSource: 'ntp',
      }),
    ),
  );
  return db;
}

const bundle = (seq: number, uplinkIds: string[]): SealedBundle => ({
  seq,
  digest: Uint8Array.from([seq]),
  cose: Uint8Array.from([1, 2, 3]),
  uplinkIds,
  timeRange: { start: 0, end: 1 },
  uplinks: uplinkIds.length,
  timeSources: { gps: 0, ntp: uplinkIds.length, 'host-unsynced': 0 },
});

describe('FarmBundleSink', () => {
  it('marks exactly the bundled uplinks sealed, across write chunks, and a repeated commit changes nothing', async () => {
    const farm = await storeUplinks(1203);
    const source = new FarmUplinkSource(farm);
    const oldest = await source.unsealed(1201);
    const sink = new FarmBundleSink(farm);
    await sink.commit(
      bundle(
        4,
        oldest.map((u) => u.id),
      ),
    );
    expect(await source.countUnsealed()).toBe(2);
    const sealed = await farm.uplinks.find({ selector: { sealedSeq: 4 } }).exec();
    expect(sealed.map((u) => u.id).sort()).toEqual(oldest.map((u) => u.id).sort());
    const revisions = sealed.map((u) => u.revision);
    // After a crash the same bundle may be committed again: idempotent, no new revisions.
    await sink.commit(
      bundle(
        4,
        oldest.map((u) => u.id),
      ),
    );
    const again = await farm.uplinks.find({ selector: { sealedSeq: 4 } }).exec();
    expect(again.map((u) => u.revision)).toEqual(revisions);
    const left = await farm.uplinks.find({ selector: { sealedSeq: UNSEALED } }).exec();
    expect(left.map((u) => u.fCnt)).toEqual([1201, 1202]);
    expect((await farm.bundles.findOne(bundleId(4)).exec())?.uplinkCount).toBe(1201);
  });
});
