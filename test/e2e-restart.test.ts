/**
 * Restart: devices join and talk, the gateway runtime is stopped and started
 * again on the same data directory, and the devices carry on without
 * rejoining — sessions, DevNonces and frame counters come back from the
 * store. After the restart an old frame replayed on the air is rejected as a
 * replay, and an old Join Request as a reused DevNonce.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { countUplinks } from '../kernel/db/uplink-queries.js';
import { SimClock } from '../simulator/clock.js';
import { FarmSimulation, generateFarmDevices } from '../simulator/farm.js';
import {
  Cleanups,
  EventListener,
  type GatewayUnderTest,
  openSerialLine,
  radioPaths,
  registerFarm,
  runFarm,
  serialLineLabel,
  startForwarder,
  startGateway,
  startMcu,
  tempDataDir,
  waitUntil,
} from './helpers/e2e-field.js';
import { eventually } from './helpers/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('gateway restart on the same data directory', () => {
  it(`devices keep talking without rejoining; old frames are rejected after the restart (${serialLineLabel})`, async () => {
    const dataDir = tempDataDir(cleanups);
    const line = await openSerialLine(cleanups, 'restart');
    const mcu = startMcu(cleanups, line);
    let gw: GatewayUnderTest = await startGateway(dataDir, line);
    let stopped = false;
    cleanups.add(() => (stopped ? undefined : gw.runtime.stop()));
    const forwarder = await startForwarder(cleanups, gw.udpPort);

    const clock = new SimClock({ startMs: Date.UTC(2026, 6, 1, 12) });
    const paths = radioPaths({ forwarder, mcu }, clock);
    // Two OTAA and one ABP device on each path, and two OTAA devices heard by both gateways.
    const specs = generateFarmDevices({
      seed: 99,
      count: 8,
      otaaRatio: 0.75,
      pathsFor: (i) => (i < 2 ? ['udp', 'serial'] : i % 2 === 0 ? ['udp'] : ['serial']),
    });
    await registerFarm(gw.runtime, specs);
    const farm = new FarmSimulation({
      clock,
      paths,
      devices: specs,
      seed: 99,
      intervalMs: 120_000,
      uplinks: 16,
      confirmedRatio: 0.25,
      startSpreadMs: 30_000,
    });
    cleanups.add(() => farm.stop());
    farm.start();
    const runUntil = (until: () => boolean) =>
      runFarm(
        {
          clock,
          gateway: () => gw.runtime,
          until,
          transmissions: () => farm.snapshot().transmissions,
          progress: () => farm.snapshot(),
        },
        { stepMs: 5_000, maxSimMs: 4 * 3_600_000, maxRealMs: 40_000, settleMs: 25 },
      );

    // Half the uplinks before the restart.
    await runUntil(() => farm.sentUplinks.length >= 8 * 8);
    const before = farm.snapshot();
    expect(before.joinedDevices).toBe(6);
    const otaa = farm.devices.find(
      (d) => d.spec.activation === 'otaa' && d.paths.length === 1 && d.paths[0]?.name === 'udp',
    );
    if (!otaa) throw new Error('no single-path OTAA device');
    const oldJoinRequest = otaa.recentFrames[0] as Uint8Array;
    const oldUplink = otaa.recentFrames[1] as Uint8Array;
    // The last step's frames may still be in the ingest batch: wait (bounded) for every one to be stored.
    const sentBefore = farm.sentUplinks.length;
    await eventually(async () => (await countUplinks(gw.runtime.db)) >= sentBefore, 20_000, 'uplinks stored');
    const storedBefore = await countUplinks(gw.runtime.db);
    expect(storedBefore).toBe(farm.sentUplinks.length);

    // Restart: the same data directory, the same UDP port, the same serial line.
    const udpPort = gw.udpPort;
    stopped = true;
    await gw.runtime.stop();
    gw = await startGateway(dataDir, line, { udpPort });
    stopped = false;
    const listener = await EventListener.connect(gw.runtime, cleanups);
    // The new UDP backend learns the forwarder's address from its next PULL_DATA.
    expect(await forwarder.pullData()).toBe(true);

    const sentBeforeRestart = farm.sentUplinks.length;
    await runUntil(() => farm.finished);
    const after = farm.snapshot();

    // No device rejoined: the sessions came back from the store.
    expect(after.joinRequests).toBe(before.joinRequests);
    expect(gw.runtime.counters().joins ?? 0).toBe(0);
    expect(after.uplinksSent).toBe(8 * 16);
    expect(after.acksReceived).toBe(after.confirmedSent);
    expect(after.wrongTiming).toBe(0);
    expect(after.wrongChannel).toBe(0);
    await waitUntil(
      () => listener.of('up').length >= after.uplinksSent - sentBeforeRestart,
      10_000,
      'up events',
    );
    const upKeys = listener.of('up').map((e) => `${e.devEui}/${(e.json as { fCnt: number }).fCnt}`);
    expect(upKeys.sort()).toEqual(
      farm.sentUplinks
        .slice(sentBeforeRestart)
        .map((u) => `${u.devEui}/${u.fCnt}`)
        .sort(),
    );
    // Devices heard by both gateways: one event, with both receivers when the copies met in the window.
    const dual = new Set(specs.filter((s) => s.paths.length === 2).map((s) => s.devEui));
    const dualUps = listener.of('up').filter((e) => dual.has(e.devEui));
    expect(dualUps.length).toBeGreaterThan(0);
    const withBoth = dualUps.filter((e) => (e.json as { rxInfo: unknown[] }).rxInfo.length === 2).length;
    expect(withBoth).toBeGreaterThan(dualUps.length / 2);
    expect(await countUplinks(gw.runtime.db)).toBe(8 * 16);

    // An old data frame and an old Join Request, replayed on the air after the restart.
    const upsBefore = listener.of('up').length;
    await farm.inject('udp', oldUplink);
    await farm.inject('udp', oldJoinRequest);
    await gw.runtime.ns.settle();
    const counters = gw.runtime.counters();
    expect(counters.rejected_replay).toBe(1);
    expect(counters.rejected_devnonce_reused).toBe(1);
    expect(counters.joins ?? 0).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(listener.of('up').length).toBe(upsBefore);
    expect(listener.of('join')).toHaveLength(0);
    expect(await countUplinks(gw.runtime.db)).toBe(8 * 16);
    console.info(
      `[e2e restart] uplinks ${sentBeforeRestart} before + ${after.uplinksSent - sentBeforeRestart} after restart, ` +
        `dual-path events with both receivers ${withBoth}/${dualUps.length}, retransmissions ${after.retransmissions}, late ${after.lateDownlinks}`,
    );
    // Every event this suite saw parses as ChirpStack 4.19 under strict proto3 JSON.
    expect(listener.schemaViolations).toEqual([]);
  });
});
