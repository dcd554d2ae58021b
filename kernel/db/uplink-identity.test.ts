/**
 * Uplink identity across the upgrade that put sessions into it: a SQLite store written by the
 * version before (test/fixtures/store-before-sessions: an ABP device with skip-fcnt-check, its
 * uplinks FCnt 0..3 under the old `devEui|fCnt32` keys, its session without `generation`)
 * opens with every row, those rows are session 0, and the device's counter reset after the
 * upgrade is stored beside them as session 1 and sealed with them.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeRadio, rxMeta } from '../ns/fake-radio.test-helpers.js';
import { NetworkServer } from '../ns/network-server.js';
import { TestDevice } from '../ns/test-device.test-helpers.js';
import { getRxStorageSqlite } from '../store/rx-storage-sqlite.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import { UplinkIngestor, uplinkRecordOf } from './ingest.js';
import { RxdbNetworkRepository } from './network-repository.js';
import { FarmUplinkSource } from './sealing.js';

const fixture = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'store-before-sessions');
const DEV_EUI = '0011223344556677';
const DEV_ADDR = '26011bda';
const NWK_S_KEY = '000102030405060708090a0b0c0d0e0f';
const APP_S_KEY = '0f0e0d0c0b0a09080706050403020100';

let dir: string;
let db: FarmDatabase | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maverick-identity-'));
  await cp(fixture, dir, { recursive: true });
});
afterEach(async () => {
  await db?.close();
  db = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('a store written before sessions were part of the uplink key', () => {
  it('opens with all its rows as session 0 and stores a counter reset after them as session 1', async () => {
    db = await openFarmDatabase({
      storage: getRxStorageSqlite({ directory: dir, synchronous: 'FULL' }),
      name: 'gateway',
    });
    const oldIds = (await db.uplinks.find().exec()).map((u) => u.id).sort();
    expect(oldIds).toEqual([0, 1, 2, 3].map((f) => `${DEV_EUI}|000000000${f}`));

    const repository = await RxdbNetworkRepository.open(db, { writeBehindMs: 0 });
    expect((await repository.getSession(DEV_EUI))?.fCntUp).toBe(3);
    const ingestor = new UplinkIngestor(db);
    const radio = new FakeRadio();
    const ns = new NetworkServer({
      repository,
      radios: [radio],
      dedupWindowMs: 0,
      beforePublish: (up) => ingestor.store(uplinkRecordOf(up)),
    });
    const published: [number, number][] = [];
    ns.on('up', (up) => published.push([up.session, up.fCnt]));
    await ns.start();
    // The device restarts its counter: FCnt 0 and 1 again, then 1 again (a retransmission).
    const device = TestDevice.abp(DEV_EUI, DEV_ADDR, NWK_S_KEY, APP_S_KEY);
    const frames = [
      device.uplink({ fCnt: 0, payload: Uint8Array.of(9) }),
      device.uplink({ payload: Uint8Array.of(8) }),
    ];
    frames.push(frames[1] as Uint8Array);
    for (const phyPayload of frames) {
      radio.receive({ phyPayload, rx: rxMeta(), receivedAtMs: Date.now() });
      await ns.flush();
    }
    await ns.stop();
    await ingestor.close();

    expect(published).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(ns.counters()).toMatchObject({ retransmissions: 1 });
    const ids = (await db.uplinks.find().exec()).map((u) => u.id).sort();
    expect(ids).toEqual([...oldIds, `${DEV_EUI}|000001|0000000000`, `${DEV_EUI}|000001|0000000001`]);
    expect((await repository.getSession(DEV_EUI))?.generation).toBe(1);

    const unsealed = await new FarmUplinkSource(db).unsealed(100);
    expect(unsealed.map((u) => [u.session, u.fCnt])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 0],
      [1, 1],
    ]);
    await repository.close();
  });

  it('refuses a frame whose identity is taken by a different frame: an alarm, not a silent skip', async () => {
    db = await openFarmDatabase({
      storage: getRxStorageSqlite({ directory: dir, synchronous: 'FULL' }),
      name: 'gateway',
    });
    // Session 1, FCnt 0 is already taken by some other frame (e.g. a removed and re-added device).
    const [taken] = await db.uplinks.find({ selector: { fCnt: 0 } }).exec();
    if (!taken) throw new Error('fixture has no FCnt 0');
    await db.uplinks.insert({ ...taken.toMutableJSON(), id: `${DEV_EUI}|000001|0000000000` });
    const repository = await RxdbNetworkRepository.open(db, { writeBehindMs: 0 });
    const ingestor = new UplinkIngestor(db);
    const radio = new FakeRadio();
    const ns = new NetworkServer({
      repository,
      radios: [radio],
      dedupWindowMs: 0,
      beforePublish: (up) => ingestor.store(uplinkRecordOf(up)),
    });
    const ups: number[] = [];
    const alarms: string[] = [];
    const rejected: string[] = [];
    ns.on('up', (up) => ups.push(up.fCnt));
    ns.on('log', (e) => alarms.push(`${e.level}:${e.code}`));
    ns.on('rejected', (r) => rejected.push(r.reason));
    await ns.start();
    const device = TestDevice.abp(DEV_EUI, DEV_ADDR, NWK_S_KEY, APP_S_KEY);
    radio.receive({
      phyPayload: device.uplink({ fCnt: 0, payload: Uint8Array.of(7) }),
      rx: rxMeta(),
      receivedAtMs: Date.now(),
    });
    await ns.stop();
    await ingestor.close();
    expect(ups).toEqual([]);
    expect(rejected).toEqual(['store_conflict']);
    expect(alarms).toContain('error:STORE_CONFLICT');
    expect(ingestor.counters.conflicts).toBe(1);
    expect(ns.counters().rejected_store_conflict).toBe(1);
    // The frame stored first is untouched.
    expect((await db.uplinks.findOne(`${DEV_EUI}|000001|0000000000`).exec())?.phy).toBe(taken.phy);
    await repository.close();
  });
});
