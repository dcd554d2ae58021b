import { EventEmitter } from 'node:events';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { type FarmDatabase, openFarmDatabase } from '../../kernel/db/farm-db.js';
import { toUplinkDoc } from '../../kernel/db/ingest.js';
import { RxdbNetworkRepository } from '../../kernel/db/network-repository.js';
import type { NetworkServer, NetworkServerEvents } from '../../kernel/ns/network-server.js';
import { defaultDeviceSession } from '../../kernel/ns/session.js';
import type { Device } from '../../kernel/ns/types.js';
import type { ProcessedUplink } from '../../kernel/ns/uplink-types.js';
import { DeviceHealthBoard } from './device-health.js';

const device: Device = {
  devEui: '0000000000000b01',
  name: 'probe',
  applicationId: 'farm',
  regionId: 'EU868',
  codec: { kind: 'none' },
  activation: { mode: 'abp', devAddr: '26011bda', nwkSKey: '11'.repeat(16), appSKey: '22'.repeat(16) },
  skipFCntCheck: false,
};
const now = Date.UTC(2026, 5, 1, 12, 30);

let db: FarmDatabase | undefined;
let n = 0;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function boardWithStore(): Promise<{
  board: DeviceHealthBoard;
  ns: EventEmitter<NetworkServerEvents>;
}> {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `health${n++}` });
  const repository = await RxdbNetworkRepository.open(db);
  await repository.putDevice(device);
  await repository.putSession(
    defaultDeviceSession(device, { devAddr: '26011bda', nwkSKey: '11'.repeat(16), appSKey: '22'.repeat(16) }),
  );
  const stored = (session: number, fCnt: number, atMs: number, codecErrors?: string[]) =>
    toUplinkDoc({
      devEui: device.devEui,
      devAddr: '26011bda',
      applicationId: 'farm',
      fCnt,
      session,
      confirmed: false,
      adr: true,
      phyPayload: Uint8Array.of(0x40, fCnt),
      rxInfo: [{ gatewayEui: 'aa555a0000000001', rssi: -90 - fCnt, snr: 5 }],
      frequencyHz: 868_100_000,
      receivedAtMs: atMs,
      time: new Date(atMs).toISOString(),
      timeSource: 'gps',
      ...(codecErrors ? { codecErrors } : {}),
    });
  await db.uplinks.bulkInsert([
    stored(0, 1, now - 2 * 86_400_000), // outside the 24 h
    stored(0, 2, now - 3_600_000, ['bad byte']),
    stored(1, 0, now - 60_000),
  ]);
  const board = new DeviceHealthBoard(db, repository);
  // The events the board listens to; a real NetworkServer is this emitter with more behind it.
  const ns = new EventEmitter<NetworkServerEvents>();
  board.observe(ns as unknown as NetworkServer, () => now);
  return { board, ns };
}

function up(session: number, fCnt: number, atMs: number): ProcessedUplink {
  return {
    device: {
      devEui: device.devEui,
      name: 'probe',
      applicationId: 'farm',
      regionId: 'EU868',
      codec: { kind: 'none' },
    },
    devAddr: '26011bda',
    fCnt,
    session,
    confirmed: false,
    adr: true,
    dr: 5,
    data: new Uint8Array(0),
    warnings: [],
    errors: [],
    rxInfo: [{ gatewayEui: 'aa555a0000000001', rssi: -70, snr: 9 } as ProcessedUplink['rxInfo'][number]],
    txInfo: {
      frequencyHz: 868_100_000,
      dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
    },
    time: new Date(atMs).toISOString(),
    timeSource: 'gps',
    phyPayload: new Uint8Array(0),
  } as ProcessedUplink;
}

describe('DeviceHealthBoard', () => {
  it('reads the store once per device, then counts each new uplink of every session once', async () => {
    const { board, ns } = await boardWithStore();
    // Reported before the device's first read: the store holds it, the read counts it.
    ns.emit('up', up(1, 0, now - 60_000));
    const [first] = await board.list(now);
    expect(first).toMatchObject({
      devEui: device.devEui,
      uplinks24h: 2,
      lastSeenMs: now - 60_000,
      fCnt: 0,
      rssi: -90,
      lastError: { message: 'codec: bad byte', atMs: now - 3_600_000 },
    });
    ns.emit('up', up(1, 0, now - 60_000)); // a repeat of the last stored uplink
    ns.emit('up', up(1, 1, now - 30_000));
    ns.emit('up', up(2, 0, now - 10_000)); // a rejoin: FCnt starts again
    const [after] = await board.list(now);
    expect(after).toMatchObject({ uplinks24h: 4, lastSeenMs: now - 10_000, fCnt: 0, rssi: -70, snr: 9 });
    expect(await board.heardSince(now - 20_000, now)).toBe(1);
    expect(await board.heardSince(now - 5_000, now)).toBe(0);
  });

  it('holds one fixed-size record per device however many uplinks arrive', async () => {
    const { board, ns } = await boardWithStore();
    await board.list(now);
    // What the board keeps per device (its private maps), typed arrays counted by their length.
    const kept = board as unknown as Record<
      'traffic' | 'pending' | 'loading' | 'errors',
      Map<string, unknown>
    >;
    const size = () =>
      JSON.stringify([...kept.traffic, kept.pending.size, kept.loading.size, kept.errors.size], (_k, v) =>
        ArrayBuffer.isView(v) ? v.byteLength : v,
      ).length;
    const before = size();
    for (let fCnt = 2; fCnt < 100_002; fCnt++) ns.emit('up', up(1, fCnt, now - 50_000 + fCnt / 10));
    const [row] = await board.list(now + 100_000);
    expect(row?.uplinks24h).toBe(2 + 100_000);
    // Same shape, only numbers changed: at most a few characters more per figure.
    expect(Math.abs(size() - before)).toBeLessThan(64);
  });
});
