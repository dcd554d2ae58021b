/**
 * A device that sends faster than the store commits loses nothing: its frames are checked one
 * after another and handed to the store without waiting for each other's commits, and each is
 * published only once its own commit returned, in the device's order. The backlog is bounded
 * by memory over all devices, and a failed commit leaves the stored session where it was.
 * The store here is a hand-driven one: its commits return only when the test says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { frameCost } from './backlog-budget.js';
import { FakeRadio, rxMeta } from './fake-radio.test-helpers.js';
import { MemoryNetworkRepository } from './memory-repository.test-helpers.js';
import { NetworkServer } from './network-server.js';
import { addDevice } from './registry.js';
import { TestDevice } from './test-device.test-helpers.js';
import type { ProcessedUplink } from './uplink-types.js';

const OTAA = {
  devEui: '70b3d57ed0000004',
  joinEui: '70b3d57ed0000000',
  appKey: '2b7e151628aed2a6abf7158809cf4f3d',
};

const ABP = {
  devEui: '70b3d57ed0000003',
  devAddr: '26011bdb',
  nwkSKey: '2b7e151628aed2a6abf7158809cf4f3c',
  appSKey: '000102030405060708090a0b0c0d0e0f',
};

/** A store whose commits wait until the test commits or fails them, oldest first. */
class HandDrivenStore {
  readonly waiting: { uplink: ProcessedUplink; resolve: () => void; reject: (err: Error) => void }[] = [];
  readonly committed: number[] = [];

  readonly beforePublish = (uplink: ProcessedUplink) =>
    new Promise<void>((resolve, reject) => this.waiting.push({ uplink, resolve, reject }));

  /** Commits the oldest `count` waiting uplinks. */
  commit(count: number): void {
    for (const w of this.waiting.splice(0, count)) {
      this.committed.push(w.uplink.fCnt);
      w.resolve();
    }
  }

  /** Fails the oldest waiting uplink's commit. */
  fail(): void {
    this.waiting.shift()?.reject(new Error('disk I/O error'));
  }
}

/** Lets queued work run until `done()` holds, for at most `turns` event-loop turns. */
async function until(done: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise<void>((r) => setImmediate(r));
  if (!done()) throw new Error(`condition not reached in ${turns} event-loop turns`);
}

let repo: MemoryNetworkRepository;
let radio: FakeRadio;
let store: HandDrivenStore;
let ns: NetworkServer | undefined;
let published: number[];
let device: TestDevice;

async function startServer(options: { maxBacklogBytes?: number } = {}): Promise<NetworkServer> {
  const server = new NetworkServer({
    repository: repo,
    radios: [radio],
    dedupWindowMs: 0,
    devStatusIntervalMs: 0,
    beforePublish: store.beforePublish,
    ...options,
  });
  server.on('up', (up) => {
    // Published only after its own commit returned.
    expect(store.committed).toContain(up.fCnt);
    published.push(up.fCnt);
  });
  await server.start();
  return server;
}

function send(count: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const phyPayload = device.uplink({ payload: Uint8Array.of(i & 0xff) });
    frames.push(phyPayload);
    radio.receive({ phyPayload, rx: rxMeta(), receivedAtMs: Date.now() });
  }
  return frames;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

beforeEach(async () => {
  repo = new MemoryNetworkRepository();
  radio = new FakeRadio();
  store = new HandDrivenStore();
  published = [];
  device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
  await addDevice(repo, {
    devEui: ABP.devEui,
    name: 'fast',
    applicationId: 'farm',
    activation: { mode: 'abp', devAddr: ABP.devAddr, nwkSKey: ABP.nwkSKey, appSKey: ABP.appSKey },
  });
});
afterEach(async () => {
  store.commit(store.waiting.length);
  await ns?.stop();
  ns = undefined;
});

describe('one device faster than the commits', () => {
  it('hands 500 frames to the store before any commit returns, then stores and publishes all in order', async () => {
    ns = await startServer();
    send(500);
    // Every frame reaches the store although not one commit has returned: no frame waits for another's.
    await until(() => store.waiting.length === 500);
    expect(store.waiting.map((w) => w.uplink.fCnt)).toEqual(range(0, 500));
    expect(published).toEqual([]);
    // The stored session has not moved: nothing is durable yet.
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBeUndefined();
    expect(ns.backlog().uplinks).toBe(500);

    store.commit(120);
    await until(() => published.length === 120);
    expect(published).toEqual(range(0, 120));
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBe(119);

    store.commit(380);
    await ns.flush();
    expect(published).toEqual(range(0, 500));
    expect(store.committed).toEqual(range(0, 500));
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBe(499);
    expect(ns.counters().uplinks_accepted).toBe(500);
    expect(ns.counters().uplinks_dropped_backlog).toBeUndefined();
    expect(ns.backlog()).toEqual({ uplinks: 0, uplinkBytes: 0, downlinks: 0 });
  });

  it('publishes in the device order even when later commits return first', async () => {
    ns = await startServer();
    send(3);
    await until(() => store.waiting.length === 3);
    const [first, second, third] = store.waiting.splice(0);
    third?.resolve();
    second?.resolve();
    store.committed.push(2, 1);
    // Let the publish lane run as far as it can: it must stop at the first frame's commit.
    for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r));
    expect(published).toEqual([]);
    expect(ns.backlog().uplinks).toBe(3);
    store.committed.push(0);
    first?.resolve();
    await ns.flush();
    expect(published).toEqual([0, 1, 2]);
  });

  it('drops what exceeds the memory budget, counts it, and takes frames again once commits return', async () => {
    const frameBytes = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey).uplink({
      payload: Uint8Array.of(0),
    }).length;
    const perFrame = frameCost(frameBytes, 1);
    ns = await startServer({ maxBacklogBytes: 10 * perFrame });
    send(50);
    await until(() => store.waiting.length === 10);
    await until(() => ns?.counters().uplinks_dropped_backlog === 40);
    expect(ns.backlog().uplinks).toBe(10);
    store.commit(10);
    await ns.flush();
    expect(published).toEqual(range(0, 10));

    send(5);
    await until(() => store.waiting.length === 5);
    store.commit(5);
    await ns.flush();
    expect(published).toEqual([...range(0, 10), ...range(50, 55)]);
    expect(ns.counters().uplinks_dropped_backlog).toBe(40);
  });

  it('a failed commit withholds that uplink only, and a last failure leaves the session for a retransmission', async () => {
    ns = await startServer();
    const rejected: string[] = [];
    ns.on('rejected', (r) => rejected.push(r.reason));
    send(5);
    await until(() => store.waiting.length === 5);
    store.commit(2);
    store.fail();
    store.commit(2);
    await ns.flush();
    expect(published).toEqual([0, 1, 3, 4]);
    expect(rejected).toEqual(['store_failed']);
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBe(4);

    // The newest uplink fails alone: the stored session stays at 4, so the device's
    // retransmission of frame 5 is a new uplink that is stored and published.
    const [fifth] = send(1);
    await until(() => store.waiting.length === 1);
    store.fail();
    await ns.flush();
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBe(4);
    radio.receive({ phyPayload: fifth as Uint8Array, rx: rxMeta(), receivedAtMs: Date.now() });
    await until(() => store.waiting.length === 1);
    store.commit(1);
    await ns.flush();
    expect(published).toEqual([0, 1, 3, 4, 5]);
  });

  it('a store that throws instead of rejecting fails that uplink only', async () => {
    const rejected: string[] = [];
    ns = new NetworkServer({
      repository: repo,
      radios: [radio],
      dedupWindowMs: 0,
      devStatusIntervalMs: 0,
      // Not async: the throw happens inside the call, before any promise exists.
      beforePublish: (up) => {
        if (up.fCnt === 1) throw new Error('store refused synchronously');
        return Promise.resolve();
      },
    });
    ns.on('rejected', (r) => rejected.push(r.reason));
    ns.on('up', (up) => published.push(up.fCnt));
    await ns.start();
    send(3);
    await ns.flush();
    expect(published).toEqual([0, 2]);
    expect(rejected).toEqual(['store_failed']);
    expect(ns.backlog()).toEqual({ uplinks: 0, uplinkBytes: 0, downlinks: 0 });
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBe(2);
  });

  it('a rejoin while the old session has uplinks waiting for commits keeps the new session', async () => {
    await addDevice(repo, {
      devEui: OTAA.devEui,
      name: 'rejoiner',
      applicationId: 'farm',
      activation: { mode: 'otaa', joinEui: OTAA.joinEui, appKey: OTAA.appKey },
    });
    ns = await startServer();
    const otaa = new TestDevice(OTAA.devEui, OTAA.joinEui, OTAA.appKey);
    const join = async () => {
      const before = radio.sent.length;
      radio.receive({ phyPayload: otaa.joinRequest(), rx: rxMeta(), receivedAtMs: Date.now() });
      await until(() => radio.sent.length > before);
      otaa.acceptJoin(radio.sent.at(-1)?.phyPayload as Uint8Array);
    };
    const uplinks = (count: number) => {
      for (let i = 0; i < count; i++) {
        radio.receive({
          phyPayload: otaa.uplink({ payload: Uint8Array.of(i) }),
          rx: rxMeta(),
          receivedAtMs: Date.now(),
        });
      }
    };
    await join();
    const firstAddr = otaa.devAddr;
    uplinks(3);
    await until(() => store.waiting.length === 3);
    expect(store.waiting.map((w) => w.uplink.devAddr)).toEqual([firstAddr, firstAddr, firstAddr]);
    await join();
    const newSession = await repo.getSession(OTAA.devEui);
    expect(newSession?.devAddr).toBe(otaa.devAddr);

    // The old session's uplinks commit after the rejoin: they are published, but their
    // session (counters of a session that is gone) must not replace the new one.
    store.commit(3);
    await ns.flush();
    expect(published).toEqual([0, 1, 2]);
    const afterOld = await repo.getSession(OTAA.devEui);
    expect(afterOld?.devAddr).toBe(newSession?.devAddr);
    expect(afterOld?.joinedAt).toBe(newSession?.joinedAt);
    expect(afterOld?.fCntUp).toBeUndefined();

    // The new session counts from 0 again, each frame stored and published.
    uplinks(2);
    await until(() => store.waiting.length === 2);
    expect(store.waiting.map((w) => [w.uplink.devAddr, w.uplink.fCnt])).toEqual([
      [otaa.devAddr, 0],
      [otaa.devAddr, 1],
    ]);
    expect(store.waiting[0]?.uplink.session).toBeGreaterThan(0);
    store.commit(2);
    await ns.flush();
    expect(published).toEqual([0, 1, 2, 0, 1]);
    expect((await repo.getSession(OTAA.devEui))?.fCntUp).toBe(1);
  });
});
