/**
 * Per-device processing never waits on a downlink, and nothing a frame that fails the MIC
 * sends costs queue space: a dead downlink route (a gateway that never answers TX_ACK) leaves
 * every uplink stored and published, and 50,000 bad-MIC frames for one DevAddr leave no
 * backlog and no lasting memory behind.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TxAck, TxRequest } from '../../proto/radio.js';
import { eventually } from '../../test/helpers/wait.js';
import { FakeRadio, rxMeta } from './fake-radio.test-helpers.js';
import { MemoryNetworkRepository } from './memory-repository.test-helpers.js';
import { NetworkServer } from './network-server.js';
import { addDevice } from './registry.js';
import { TestDevice } from './test-device.test-helpers.js';

const ABP = {
  devEui: '70b3d57ed0000002',
  devAddr: '26011bda',
  nwkSKey: '2b7e151628aed2a6abf7158809cf4f3c',
  appSKey: '000102030405060708090a0b0c0d0e0f',
};

/** A gateway route that takes frames and never acknowledges them until released. */
class DeadRouteRadio extends FakeRadio {
  private readonly waiting: ((ack: TxAck) => void)[] = [];
  override async schedule(tx: TxRequest): Promise<TxAck> {
    this.sent.push(tx);
    return new Promise<TxAck>((resolve) => this.waiting.push(resolve));
  }
  /** Answers every transmission still waiting (and any later one) with TIMEOUT. */
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve({ gatewayEui: 'x', status: 'TIMEOUT', id: 0 });
    this.schedule = async (tx) => {
      this.sent.push(tx);
      return { gatewayEui: tx.gatewayEui, status: 'TIMEOUT', id: tx.id };
    };
  }
}

let repo: MemoryNetworkRepository;
let ns: NetworkServer | undefined;
beforeEach(async () => {
  repo = new MemoryNetworkRepository();
  await addDevice(repo, {
    devEui: ABP.devEui,
    name: 'abp',
    applicationId: 'farm',
    activation: { mode: 'abp', devAddr: ABP.devAddr, nwkSKey: ABP.nwkSKey, appSKey: ABP.appSKey },
  });
});
afterEach(async () => {
  await ns?.stop();
  ns = undefined;
});

describe('downlinks apart from uplinks', () => {
  it('stores and publishes every confirmed uplink while the downlink route never answers', async () => {
    const radio = new DeadRouteRadio();
    const stored: number[] = [];
    const published: number[] = [];
    ns = new NetworkServer({
      repository: repo,
      radios: [radio],
      dedupWindowMs: 0,
      devStatusIntervalMs: 0,
      beforePublish: async (up) => {
        stored.push(up.fCnt);
      },
    });
    ns.on('up', (up) => published.push(up.fCnt));
    await ns.start();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    for (let i = 0; i < 5; i++) {
      radio.receive({
        phyPayload: device.uplink({ confirmed: true, payload: Uint8Array.of(i) }),
        rx: rxMeta({ tmst: 1_000_000 + i * 10_000_000 }),
        receivedAtMs: Date.now(),
      });
      // flush() waits for uplink processing only: it returns although the first TX_ACK never came.
      await ns.flush();
      expect(stored).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
    }
    expect(published).toEqual([0, 1, 2, 3, 4]);
    // One attempt is stuck at the gateway; of the four answers behind it only the newest waits.
    expect(radio.sent).toHaveLength(1);
    expect(ns.counters().downlinks_replaced).toBe(3);
    expect(ns.backlog()).toEqual({ uplinks: 0, uplinkBytes: 0, downlinks: 1 });

    radio.release();
    await ns.settle();
    expect(ns.backlog()).toEqual({ uplinks: 0, uplinkBytes: 0, downlinks: 0 });
    // The stuck answer (RX1 then RX2) and the newest one (RX1 then RX2): nothing else was tried.
    expect(radio.sent).toHaveLength(4);
    expect((await repo.getSession(ABP.devEui))?.fCntUp).toBe(4);
  });

  it('turns away 50,000 bad-MIC frames for one DevAddr without a backlog or lasting memory', async () => {
    const radio = new FakeRadio();
    ns = new NetworkServer({ repository: repo, radios: [radio], dedupWindowMs: 0, devStatusIntervalMs: 0 });
    await ns.start();
    // Right DevAddr, wrong key: every frame parses and fails the MIC.
    const forger = TestDevice.abp(ABP.devEui, ABP.devAddr, '00'.repeat(16), ABP.appSKey);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heapAfterGc = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const send = (count: number) => {
      for (let i = 0; i < count; i++) {
        radio.receive({
          phyPayload: forger.uplink({ payload: Uint8Array.of(i & 0xff) }),
          rx: rxMeta(),
          receivedAtMs: Date.now(),
        });
      }
    };
    send(1000);
    await ns.flush();
    const before = heapAfterGc();
    let maxBacklog = 0;
    for (let round = 0; round < 49; round++) {
      send(1000);
      maxBacklog = Math.max(maxBacklog, ns.backlog().uplinks);
      await ns.flush();
    }
    const grown = heapAfterGc() - before;
    expect(ns.counters().rejected_bad_mic).toBe(50_000);
    expect(ns.counters().uplinks_accepted).toBeUndefined();
    // Rejected before queueing: not one frame ever waited in the device's lane.
    expect(maxBacklog).toBe(0);
    // Nothing of the flood is kept: what the heap grew by is noise, not 50,000 frames.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });
});

/** A radio that records when the network server asks it to hold uplinks back. */
class HoldingRadio extends FakeRadio {
  readonly holds: boolean[] = [];
  holdUplinks(held: boolean): void {
    this.holds.push(held);
  }
}

/** `n` uplinks of `device` (a seven-byte payload each) heard by `radio` now. */
function hear(radio: FakeRadio, device: TestDevice, n: number): void {
  for (let i = 0; i < n; i++) {
    radio.receive({
      phyPayload: device.uplink({ payload: Uint8Array.of(1, 2, 3, 4, 5, 6, 7) }),
      rx: rxMeta(),
      receivedAtMs: Date.now(),
    });
  }
}

/**
 * Commits `first` held frames (`left` remain: the hold stays), then `next` more (the hold ends),
 * then the rest, and waits until everything is through.
 */
async function releaseInSteps(
  radio: HoldingRadio,
  commits: (() => void)[],
  steps: { first: number; left: number; next: number },
): Promise<void> {
  for (const commit of commits.splice(0, steps.first)) commit();
  await eventually(() => ns?.backlog().uplinks === steps.left);
  expect(radio.holds).toEqual([true]);
  for (const commit of commits.splice(0, steps.next)) commit();
  await eventually(() => radio.holds.length === 2);
  expect(radio.holds).toEqual([true, false]);
  for (const commit of commits.splice(0)) commit();
  await ns?.flush();
}

describe('back-pressure on the radios', () => {
  it('asks radios to hold uplinks back past half the budget and releases them below a quarter, dropping none', async () => {
    const radio = new HoldingRadio();
    const commits: (() => void)[] = [];
    const stored: number[] = [];
    const budgetFrames = 10;
    ns = new NetworkServer({
      repository: repo,
      radios: [radio],
      dedupWindowMs: 0,
      devStatusIntervalMs: 0,
      // Room for ten frames of this size (one receiver, 20-byte PHYPayload; backlog-budget.ts).
      maxBacklogBytes: budgetFrames * (4096 + 20 + 512),
      // A store that commits only when the test says so.
      beforePublish: (up) =>
        new Promise<void>((resolve) =>
          commits.push(() => {
            stored.push(up.fCnt);
            resolve();
          }),
        ),
    });
    await ns.start();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const receive = async (n: number) => {
      hear(radio, device, n);
      await eventually(() => commits.length + stored.length >= sent);
    };
    let sent = 5;
    await receive(5);
    expect(radio.holds).toEqual([]);
    sent = 6;
    await receive(1);
    // Six of ten frames wait for the store: over half the budget.
    expect(radio.holds).toEqual([true]);
    // Three of ten frames left: the hold stays; one of ten, below a quarter: it ends.
    await releaseInSteps(radio, commits, { first: 3, left: 3, next: 2 });
    expect(stored).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ns.counters().uplinks_dropped_backlog).toBeUndefined();
  });

  it('holds at holdBacklogBytes when that is below half the budget, and releases below half of it', async () => {
    const radio = new HoldingRadio();
    const commits: (() => void)[] = [];
    const frame = 4096 + 20 + 512;
    ns = new NetworkServer({
      repository: repo,
      radios: [radio],
      dedupWindowMs: 0,
      devStatusIntervalMs: 0,
      // A budget of a hundred frames (nothing is dropped here) and a hold mark of four.
      maxBacklogBytes: 100 * frame,
      holdBacklogBytes: 4 * frame,
      beforePublish: () => new Promise<void>((resolve) => commits.push(resolve)),
    });
    await ns.start();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const receive = async (n: number) => {
      const before = commits.length;
      hear(radio, device, n);
      await eventually(() => commits.length === before + n);
    };
    await receive(4);
    expect(radio.holds).toEqual([]);
    await receive(1);
    expect(radio.holds).toEqual([true]);
    await releaseInSteps(radio, commits, { first: 3, left: 2, next: 1 });
    expect(ns.counters().uplinks_accepted).toBe(5);
  });

  it('counts frames still in the de-duplication window at full weight toward the hold', async () => {
    const radio = new HoldingRadio();
    ns = new NetworkServer({
      repository: repo,
      radios: [radio],
      // A window that stays open for the whole test: nothing is admitted yet.
      dedupWindowMs: 600_000,
      devStatusIntervalMs: 0,
      maxBacklogBytes: 10 * (4096 + 20 + 512),
    });
    await ns.start();
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    const receive = (n: number) => {
      for (let i = 0; i < n; i++) {
        radio.receive({
          phyPayload: device.uplink({ payload: Uint8Array.of(1, 2, 3, 4, 5, 6, 7) }),
          rx: rxMeta(),
          receivedAtMs: Date.now(),
        });
      }
    };
    receive(5);
    expect(radio.holds).toEqual([]);
    // Six distinct frames waiting in the window: each will be admitted when it closes, so six of
    // ten frames' worth is over half the budget (at a quarter each they counted as one and a half).
    receive(1);
    expect(ns.backlog().uplinks).toBe(0);
    expect(radio.holds).toEqual([true]);
  });

  it('takes frames beyond the budget while every radio holds uplinks back, and drops them when one cannot', async () => {
    const device = TestDevice.abp(ABP.devEui, ABP.devAddr, ABP.nwkSKey, ABP.appSKey);
    for (const [radio, dropped] of [
      [new HoldingRadio(), undefined],
      [new FakeRadio(), 2],
    ] as const) {
      const commits: (() => void)[] = [];
      const server = new NetworkServer({
        repository: repo,
        radios: [radio],
        dedupWindowMs: 0,
        devStatusIntervalMs: 0,
        maxBacklogBytes: 4 * (4096 + 20 + 512),
        beforePublish: () => new Promise<void>((resolve) => commits.push(resolve)),
      });
      ns = server;
      await server.start();
      // Six frames at once, as a batch from a radio thread: the hold comes before the fourth.
      for (let i = 0; i < 6; i++) {
        radio.receive({
          phyPayload: device.uplink({ payload: Uint8Array.of(1, 2, 3, 4, 5, 6, 7) }),
          rx: rxMeta(),
          receivedAtMs: Date.now(),
        });
      }
      await eventually(() => commits.length + (server.counters().uplinks_dropped_backlog ?? 0) === 6);
      expect(server.counters().uplinks_dropped_backlog).toBe(dropped);
      for (const commit of commits.splice(0)) commit();
      await server.stop();
      ns = undefined;
    }
  });

  it('holds the radios while any part downstream asks, besides its own budget', async () => {
    const radio = new HoldingRadio();
    const server = new NetworkServer({ repository: repo, radios: [radio], dedupWindowMs: 0 });
    ns = server;
    await server.start();
    server.holdUplinks('events', true);
    server.holdUplinks('other', true);
    server.holdUplinks('events', false);
    expect(radio.holds).toEqual([true]);
    server.holdUplinks('other', false);
    expect(radio.holds).toEqual([true, false]);
    expect(server.counters().radio_holds).toBe(1);
  });
});
