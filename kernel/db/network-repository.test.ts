import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/wait.js';
import { defaultDeviceSession } from '../ns/session.js';
import { PROBE_DEVICE } from '../ns/test-device.test-helpers.js';
import type { Device } from '../ns/types.js';
import { getRxStorageSqlite } from '../store/rx-storage-sqlite.js';
import { openRawDatabase, resolveDriver } from '../store/sqlite-adapters.js';
import { type FarmDatabase, openFarmDatabase } from './farm-db.js';
import { UplinkIngestor } from './ingest.js';
import { RxdbNetworkRepository } from './network-repository.js';
import { onlyUplinkProgress } from './session-writes.js';

const device: Device = PROBE_DEVICE;

let db: FarmDatabase | undefined;
let n = 0;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function open() {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `repo${n++}` });
  return db;
}

/** Registers `device` with a session at `devAddr`; returns that session. */
async function registerWithSession(repo: RxdbNetworkRepository, devAddr: string) {
  await repo.putDevice(device);
  const session = defaultDeviceSession(device, {
    devAddr,
    nwkSKey: '11'.repeat(16),
    appSKey: '22'.repeat(16),
  });
  await repo.putSession(session);
  return session;
}

describe('RxdbNetworkRepository', () => {
  it('hands out copies, or its own records when asked read-only', async () => {
    const repo = await RxdbNetworkRepository.open(await open());
    await registerWithSession(repo, '00000001');
    const copy = await repo.getSession(device.devEui);
    if (!copy) throw new Error('no session');
    copy.fCntUp = 99;
    expect((await repo.getSession(device.devEui))?.fCntUp).toBeUndefined();
    const [first] = await repo.devicesByDevAddr('00000001');
    first!.session.nFCntDown = 77;
    first!.device.name = 'changed';
    expect((await repo.getSession(device.devEui))?.nFCntDown).not.toBe(77);
    expect((await repo.getDevice(device.devEui))?.name).toBe('probe');

    const own = await repo.getSession(device.devEui, true);
    expect(await repo.getSession(device.devEui, true)).toBe(own);
    const [shared] = await repo.devicesByDevAddr('00000001', true);
    expect(shared?.session).toBe(own);
    expect((await repo.devicesByDevAddr('00000001', true))[0]?.device).toBe(shared?.device);
  });

  it('keeps devices, sessions, DevNonces and JoinNonces, and finds devices by DevAddr', async () => {
    const farm = await open();
    const repo = await RxdbNetworkRepository.open(farm);
    const session = await registerWithSession(repo, '00000001');
    await repo.addDevNonce(device.devEui, 7);
    expect(await repo.nextJoinNonce(device.devEui)).toBe(1);
    expect(await repo.nextJoinNonce(device.devEui)).toBe(2);

    // A second repository over the same database sees exactly what was written (what a restart reads).
    const again = await RxdbNetworkRepository.open(farm);
    expect(await again.getDevice(device.devEui)).toEqual(device);
    expect(await again.getSession(device.devEui)).toEqual(session);
    expect((await again.devicesByDevAddr('00000001')).map((a) => a.device.devEui)).toEqual([device.devEui]);
    expect(await again.devicesByDevAddr('00000002')).toEqual([]);
    expect(await again.hasDevNonce(device.devEui, 7)).toBe(true);
    expect(await again.hasDevNonce(device.devEui, 8)).toBe(false);
    expect(await again.nextJoinNonce(device.devEui)).toBe(3);

    expect(await again.removeDevice(device.devEui)).toBe(true);
    expect(await again.getSession(device.devEui)).toBeUndefined();
    expect(await again.hasDevNonce(device.devEui, 7)).toBe(false);
    expect(await again.removeDevice(device.devEui)).toBe(false);
  });

  it('finds a device under its new DevAddr after a rejoin, not the old one, and shares a DevAddr between devices', async () => {
    const farm = await open();
    const repo = await RxdbNetworkRepository.open(farm);
    const other: Device = { ...device, devEui: '0102030405060709' };
    await repo.putDevice(device);
    await repo.putDevice(other);
    const keys = { nwkSKey: '11'.repeat(16), appSKey: '22'.repeat(16) };
    await repo.putSession(defaultDeviceSession(device, { devAddr: '00000001', ...keys }));
    await repo.putSession(defaultDeviceSession(other, { devAddr: '00000001', ...keys }));
    const holders = async (devAddr: string) =>
      (await repo.devicesByDevAddr(devAddr)).map((a) => a.device.devEui).sort();
    expect(await holders('00000001')).toEqual([device.devEui, other.devEui]);
    // The first device rejoins and gets a new DevAddr.
    await repo.putSession(defaultDeviceSession(device, { devAddr: '00000002', ...keys }));
    expect(await holders('00000001')).toEqual([other.devEui]);
    expect(await holders('00000002')).toEqual([device.devEui]);
    await repo.removeDevice(other.devEui);
    expect(await holders('00000001')).toEqual([]);
  });

  it('returns copies: mutating a result does not change the stored state', async () => {
    const repo = await RxdbNetworkRepository.open(await open());
    await repo.putDevice(device);
    const got = (await repo.getDevice(device.devEui))!;
    got.name = 'changed';
    expect((await repo.getDevice(device.devEui))!.name).toBe('probe');
  });

  it('group-commits concurrent session writes and keeps the latest per device', async () => {
    const farm = await open();
    const repo = await RxdbNetworkRepository.open(farm);
    await repo.putDevice(device);
    const base = defaultDeviceSession(device, {
      devAddr: '00000001',
      nwkSKey: '11'.repeat(16),
      appSKey: '22'.repeat(16),
    });
    // Downlink-counter changes are written through: these go out as group commits.
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => repo.putSession({ ...base, fCntUp: i, nFCntDown: i + 1 })),
    );
    const stored = await farm.sessions.findOne(device.devEui).exec();
    expect((stored!.toJSON().record as { fCntUp: number }).fCntUp).toBe(49);
  });

  it('raises the uplink counter at open to the highest stored uplink of the session', async () => {
    const farm = await open();
    const repo = await RxdbNetworkRepository.open(farm);
    await repo.putDevice(device);
    await repo.putSession({
      ...defaultDeviceSession(device, {
        devAddr: '00000001',
        nwkSKey: '11'.repeat(16),
        appSKey: '22'.repeat(16),
      }),
      fCntUp: 3,
    });
    // The uplink with FCnt 9 was stored, but the process died before the session write landed.
    const ingest = new UplinkIngestor(farm);
    await ingest.store({
      devEui: device.devEui,
      devAddr: '00000001',
      applicationId: 'farm',
      fCnt: 9,
      confirmed: false,
      adr: false,
      phyPayload: new Uint8Array([0x40]),
      rxInfo: [],
      frequencyHz: 868_100_000,
      receivedAtMs: 1_700_000_000_000,
      time: new Date(1_700_000_000_000).toISOString(),
      timeSource: 'host-unsynced',
    });
    const again = await RxdbNetworkRepository.open(farm);
    expect((await again.getSession(device.devEui))!.fCntUp).toBe(9);
    // Read from the storage: no RxQuery (with its RxDocuments, a second copy of every device,
    // session and newest uplink) stays in a collection's query cache.
    for (const collection of [farm.devices, farm.sessions, farm.uplinks]) {
      expect(collection._queryCache._map.size).toBe(0);
    }
  });

  it('finds a device registered meanwhile by another writer (the CLI) on a lookup miss', async () => {
    const farm = await open();
    const running = await RxdbNetworkRepository.open(farm);
    expect(await running.getDevice(device.devEui)).toBeUndefined();
    const cli = await RxdbNetworkRepository.open(farm);
    await cli.putDevice(device);
    await cli.putSession(
      defaultDeviceSession(device, {
        devAddr: '0000000a',
        nwkSKey: '11'.repeat(16),
        appSKey: '22'.repeat(16),
      }),
    );
    // The miss pull is rate-limited to once a second.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await running.devicesByDevAddr('0000000a')).map((a) => a.device.devEui)).toEqual([device.devEui]);
    expect(await running.getDevice(device.devEui)).toEqual(device);
  });

  it('writes a session over a version another process changed underneath it by retrying against storage', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'maverick-repo-'));
    const farm = await openFarmDatabase({ storage: getRxStorageSqlite({ directory }), name: 'conflict' });
    try {
      const repo = await RxdbNetworkRepository.open(farm);
      const session = await registerWithSession(repo, '0000000b');
      // Another process (a second connection, not this storage: no change event here) rewrites the
      // session, so the version this repository last wrote, and would update from, is stale.
      const other = await openRawDatabase(join(directory, 'conflict.sqlite'), await resolveDriver());
      const row = other.prepare('SELECT data FROM "sessions-v0" WHERE id = ?').get(device.devEui);
      const theirs = JSON.parse(String(row?.data)) as { record: { fCntUp?: number }; _rev: string };
      theirs.record.fCntUp = 40;
      theirs._rev = '2-otherprocess';
      other
        .prepare('UPDATE "sessions-v0" SET data = ? WHERE id = ?')
        .run(JSON.stringify(theirs), device.devEui);
      other.close();
      await repo.putSession({ ...session, fCntUp: 41, nFCntDown: 1 }); // written through
      const [stored] = await farm.sessions.storageInstance.findDocumentsById([device.devEui], false);
      expect((stored?.record as { fCntUp?: number } | undefined)?.fCntUp).toBe(41);
      // Three versions: the first write, the other process's, and ours on top of it.
      expect(stored?._rev.startsWith('3-')).toBe(true);
      await repo.close();
      const reopened = await RxdbNetworkRepository.open(farm);
      expect((await reopened.getSession(device.devEui))?.fCntUp).toBe(41);
      await reopened.close();
    } finally {
      await farm.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('writes uplink progress behind, but the downlink counter and new sessions through', async () => {
    const farm = await open();
    const repo = await RxdbNetworkRepository.open(farm, { writeBehindMs: 100 });
    await repo.putDevice(device);
    const session = defaultDeviceSession(device, {
      devAddr: '00000001',
      nwkSKey: '11'.repeat(16),
      appSKey: '22'.repeat(16),
    });
    const stored = async () =>
      (await farm.sessions.findOne(device.devEui).exec())?.toJSON().record as unknown as
        | typeof session
        | undefined;

    await repo.putSession(session); // a new session: written through
    expect((await stored())?.devAddr).toBe('00000001');

    await repo.putSession({ ...session, fCntUp: 5, adrHistory: [{ fCnt: 5, maxSnr: 7, gwCnt: 1 }] });
    expect((await repo.getSession(device.devEui))?.fCntUp).toBe(5); // readers see it at once
    expect((await stored())?.fCntUp).toBeUndefined(); // the disk gets it behind…
    await eventually(async () => (await stored())?.fCntUp === 5, 20_000, 'the write-behind'); // …by its timer

    await repo.putSession({ ...session, fCntUp: 6, nFCntDown: 1 }); // the downlink counter: through
    expect(await stored()).toMatchObject({ fCntUp: 6, nFCntDown: 1 });

    await repo.putSession({ ...session, fCntUp: 7, nFCntDown: 1 });
    await repo.close(); // close flushes what waits behind
    expect((await stored())?.fCntUp).toBe(7);
  });

  it('tells uplink progress from other session changes', () => {
    const base = defaultDeviceSession(device, {
      devAddr: '00000001',
      nwkSKey: '11'.repeat(16),
      appSKey: '22'.repeat(16),
    });
    expect(
      onlyUplinkProgress(base, { ...base, fCntUp: 9, adrHistory: [{ fCnt: 9, maxSnr: 1, gwCnt: 1 }] }),
    ).toBe(true);
    expect(onlyUplinkProgress(undefined, base)).toBe(false);
    expect(onlyUplinkProgress(base, { ...base, nFCntDown: base.nFCntDown + 1 })).toBe(false);
    expect(onlyUplinkProgress(base, { ...base, dr: base.dr + 1 })).toBe(false);
    expect(onlyUplinkProgress(base, { ...base, pendingMac: [{ cid: 'DevStatusReq' }] })).toBe(false);
    expect(onlyUplinkProgress(base, { ...base, devAddr: '00000002' })).toBe(false);
    // Compared as stored (JSON): an undefined field is an absent one, key order does not matter,
    // nested changes count, and a field only one side has is a change.
    const reordered = Object.fromEntries(Object.entries(base).reverse()) as typeof base;
    expect(onlyUplinkProgress(base, { ...reordered, lastDevStatus: undefined, fCntUp: 3 })).toBe(true);
    expect(
      onlyUplinkProgress(base, { ...base, extraChannels: { ...base.extraChannels, '3': 867_100_000 } }),
    ).toBe(false);
    expect(onlyUplinkProgress(base, { ...base, pendingAck: { downlinkId: 'd1', fCntDown: 0 } })).toBe(false);
    const { rxDelay: _dropped, ...withoutRxDelay } = base;
    expect(onlyUplinkProgress(base, withoutRxDelay as typeof base)).toBe(false);
  });
});
