/**
 * Issue 3, acceptance 1, for real: 25 simulated OTAA farm devices — 20 heard
 * by a Semtech UDP packet forwarder, 5 by a serial concentrator MCU on a socat
 * pty pair — join the gateway runtime, send 50 uplinks each (about one in five
 * confirmed), and a real MQTT client on the embedded broker sees every uplink
 * exactly once as a ChirpStack v4 `up` event; every confirmed uplink is ACKed
 * in RX1 or RX2 at exactly the uplink's tmst + 1 s / + 2 s (checked by the
 * simulated devices, which only hear a frame in their windows); the store
 * holds every uplink; every join produced a `join` event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { countUplinks } from '../kernel/db/uplink-queries.js';
import { SimClock } from '../simulator/clock.js';
import { FarmSimulation, generateFarmDevices, type SentUplink } from '../simulator/farm.js';
import type { LppValue } from '../simulator/payloads.js';
import {
  Cleanups,
  EventListener,
  openSerialLine,
  type ReceivedEvent,
  radioPaths,
  registerFarm,
  runFarm,
  SERIAL_GATEWAY,
  serialLineLabel,
  startForwarder,
  startGateway,
  startMcu,
  tempDataDir,
  UDP_GATEWAY,
  waitUntil,
} from './helpers/e2e-field.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

/** ChirpStack's Cayenne LPP object keys (chirpstack/src/codec/cayenne_lpp.rs naming). */
const LPP_KEYS: Record<string, string> = {
  temperature: 'temperatureSensor',
  humidity: 'humiditySensor',
  barometer: 'barometer',
  analogInput: 'analogInput',
};

function expectedObject(values: LppValue[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const v of values) {
    const key = LPP_KEYS[v.kind] ?? v.kind;
    out[key] = { ...(out[key] ?? {}), [String(v.channel)]: v.value as number };
  }
  return out;
}

function checkUpEvent(event: ReceivedEvent, sent: SentUplink): void {
  const j = event.json as {
    deviceInfo: { devEui: string; applicationName: string };
    fCnt: number;
    fPort: number;
    confirmed: boolean;
    data: string;
    object: unknown;
    rxInfo: { gatewayId: string; gwTime?: string; metadata: Record<string, string> }[];
    txInfo: { frequency: number };
    time: string;
  };
  expect(j.deviceInfo.devEui).toBe(sent.devEui);
  expect(j.deviceInfo.applicationName).toBe('farm');
  expect(j.fCnt).toBe(sent.fCnt);
  expect(j.fPort).toBe(sent.fPort);
  expect(j.confirmed).toBe(sent.confirmed);
  expect(j.data).toBe(Buffer.from(sent.payload).toString('base64'));
  expect(j.object).toEqual(expectedObject(sent.values));
  const gateway = sent.paths[0] === 'udp' ? UDP_GATEWAY : SERIAL_GATEWAY;
  expect(j.rxInfo[0]?.gatewayId).toBe(gateway);
  expect(j.txInfo.frequency).toBeGreaterThanOrEqual(867_100_000);
  expect(j.txInfo.frequency).toBeLessThanOrEqual(868_500_000);
  // GPS time from the simulated clock: the event's time is the simulated instant of reception.
  expect(j.rxInfo.every((rx) => rx.metadata.maverick_time_source === 'gps')).toBe(true);
  expect(Date.parse(j.time)).toBe(sent.atMs);
}

describe('network server end to end (issue 3 acceptance 1)', () => {
  it(`25 OTAA devices (20 over Semtech UDP, 5 over serial on ${serialLineLabel}) join and send 50 uplinks each`, async () => {
    const realStart = Date.now();
    const dataDir = tempDataDir(cleanups);
    const line = await openSerialLine(cleanups, 'acc1');
    const mcu = startMcu(cleanups, line);
    const gw = await startGateway(dataDir, line);
    cleanups.add(() => gw.runtime.stop());
    const listener = await EventListener.connect(gw.runtime, cleanups);
    // The forwarder refuses every fourth RX1 slot (TOO_LATE), as a busy concentrator would: the
    // network server must fall back to RX2, and the devices must hear it at tmst + 2 s / + 6 s.
    let rx1Offers = 0;
    let rx1Refused = 0;
    const forwarder = await startForwarder(cleanups, gw.udpPort, (txpk) => {
      if (txpk.frequencyHz === 869_525_000 || ++rx1Offers % 4 !== 0) return 'NONE';
      rx1Refused++;
      return 'TOO_LATE';
    });
    const emulators = { mcu, forwarder };

    const clock = new SimClock({ startMs: Date.UTC(2026, 5, 1, 5, 0, 0) });
    const paths = radioPaths(emulators, clock);
    const specs = generateFarmDevices({
      seed: 2026,
      count: 25,
      otaaRatio: 1,
      pathsFor: (i) => (i < 20 ? ['udp'] : ['serial']),
    });
    await registerFarm(gw.runtime, specs);
    const farm = new FarmSimulation({
      clock,
      paths,
      devices: specs,
      seed: 2026,
      intervalMs: 60_000,
      uplinks: 50,
      confirmedRatio: 0.2,
      startSpreadMs: 20_000,
      answerGraceMs: 3_000,
    });
    cleanups.add(() => farm.stop());
    farm.start();

    const run = await runFarm(
      { clock, gateway: () => gw.runtime, until: () => farm.finished, progress: () => farm.snapshot() },
      { stepMs: 2_000, maxSimMs: 3 * 3_600_000, maxRealMs: 45_000 },
    );
    const stats = farm.snapshot();
    await waitUntil(() => listener.of('up').length >= stats.uplinksSent, 10_000, 'every up event');
    // Nothing further may trickle in: give stragglers a moment, then count.
    await new Promise((r) => setTimeout(r, 200));

    expect(stats.joinedDevices).toBe(25);
    expect(stats.uplinksSent).toBe(25 * 50);
    expect(stats.pathUplinks.udp).toBeGreaterThanOrEqual(20 * 51);
    expect(stats.pathUplinks.serial).toBeGreaterThanOrEqual(5 * 51);
    expect(stats.confirmedSent).toBeGreaterThan(100);
    // Every confirmed uplink ACKed in RX1/RX2 at exactly the right tmst, and no downlink ever off-window.
    expect(stats.acksReceived).toBe(stats.confirmedSent);
    expect(stats.confirmedUnacked).toBe(0);
    expect(rx1Refused).toBeGreaterThan(10);
    expect(stats.downlinksRx2).toBe(rx1Refused);
    expect(farm.sentUplinks.filter((u) => u.ackedIn === 'rx2').length).toBeGreaterThan(0);
    expect(stats.wrongTiming).toBe(0);
    expect(stats.wrongChannel).toBe(0);
    expect(stats.undecodableDownlinks).toBe(0);
    expect(farm.sentUplinks.filter((u) => u.confirmed && !u.ackedIn)).toEqual([]);

    // Every uplink exactly once on the broker, ChirpStack-shaped.
    const ups = listener.of('up');
    const byKey = new Map<string, ReceivedEvent[]>();
    for (const e of ups) {
      const key = `${e.devEui}/${(e.json as { fCnt: number }).fCnt}`;
      byKey.set(key, [...(byKey.get(key) ?? []), e]);
    }
    expect(ups).toHaveLength(farm.sentUplinks.length);
    for (const sent of farm.sentUplinks) {
      const events = byKey.get(`${sent.devEui}/${sent.fCnt}`) ?? [];
      expect(events, `${sent.devEui} fCnt ${sent.fCnt}`).toHaveLength(1);
      checkUpEvent(events[0] as ReceivedEvent, sent);
    }
    // A join event per device, and the store holds every uplink.
    const joins = listener.of('join');
    expect(new Set(joins.map((e) => e.devEui))).toEqual(new Set(specs.map((s) => s.devEui)));
    for (const j of joins) {
      const json = j.json as { time: string; devAddr: string };
      expect(json.devAddr).toBe(farm.device(j.devEui)?.sim.devAddr);
      // The join happened in simulated time, before that device's first uplink.
      const first = farm.sentUplinks.find((u) => u.devEui === j.devEui);
      expect(Date.parse(json.time)).toBeGreaterThanOrEqual(clock.startMs);
      expect(Date.parse(json.time)).toBeLessThan(first?.atMs ?? 0);
    }
    expect(await countUplinks(gw.runtime.db)).toBe(25 * 50);
    const counters = gw.runtime.counters();
    expect(counters.uplinks_accepted).toBe(25 * 50);
    expect(counters.internal_errors ?? 0).toBe(0);
    expect(Object.keys(counters).filter((k) => k.startsWith('rejected_'))).toEqual([]);

    console.info(
      `[e2e acceptance 1] serial=${line.kind} real=${Date.now() - realStart} ms (farm loop ${run.realMs} ms, ${run.steps} steps), ` +
        `simulated=${Math.round(clock.elapsedMs() / 1000)} s, uplinks=${stats.uplinksSent}, confirmed=${stats.confirmedSent}, ` +
        `downlinks rx1/rx2=${stats.downlinksRx1}/${stats.downlinksRx2} , joins=${stats.joinAccepts}, ` +
        `join retries=${stats.joinRetries}, late=${stats.lateDownlinks}, retransmissions=${stats.retransmissions}, RX1 refused by the forwarder=${rx1Refused}`,
    );
    // Every event this suite saw parses as ChirpStack 4.19 under strict proto3 JSON.
    expect(listener.schemaViolations).toEqual([]);
  });

  it('free-running clock (the demo mode): a farm day of OTAA and ABP devices on both paths in seconds', async () => {
    const realStart = Date.now();
    const dataDir = tempDataDir(cleanups);
    const line = await openSerialLine(cleanups, 'day');
    const mcu = startMcu(cleanups, line);
    const gw = await startGateway(dataDir, line);
    cleanups.add(() => gw.runtime.stop());
    const listener = await EventListener.connect(gw.runtime, cleanups);
    const forwarder = await startForwarder(cleanups, gw.udpPort);

    const dayStart = Date.UTC(2026, 4, 10);
    // 24 simulated hours in about 12 real seconds.
    const clock = new SimClock({ startMs: dayStart, speed: 7_200 });
    const specs = generateFarmDevices({
      seed: 11,
      count: 6,
      otaaRatio: 4 / 6,
      pathsFor: (i) => [['udp', 'serial'], ['udp'], ['serial']][i % 3] as string[],
    });
    await registerFarm(gw.runtime, specs);
    const farm = new FarmSimulation({
      clock,
      paths: radioPaths({ forwarder, mcu }, clock),
      devices: specs,
      seed: 11,
      intervalMs: 15 * 60_000,
      uplinks: 96,
      confirmedRatio: 0.1,
      answerGraceMs: 5_000,
    });
    cleanups.add(() => farm.stop());
    farm.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      farm.whenFinished(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`farm day not done: ${JSON.stringify(farm.snapshot())}`)),
          45_000,
        );
      }),
    ]);
    clearTimeout(timer);
    farm.stop();
    const stats = farm.snapshot();
    await waitUntil(() => listener.of('up').length >= stats.uplinksSent, 10_000, 'every up event');
    await new Promise((r) => setTimeout(r, 200));

    expect(stats.uplinksSent).toBe(6 * 96);
    expect(stats.joinedDevices).toBe(4);
    expect(stats.acksReceived).toBe(stats.confirmedSent);
    expect(stats.wrongTiming).toBe(0);
    expect(stats.wrongChannel).toBe(0);
    const ups = listener.of('up');
    expect(ups.map((e) => `${e.devEui}/${(e.json as { fCnt: number }).fCnt}`).sort()).toEqual(
      farm.sentUplinks.map((u) => `${u.devEui}/${u.fCnt}`).sort(),
    );
    // A day of data carries a day of GPS timestamps from the simulated clock.
    const times = ups.map((e) => Date.parse((e.json as { time: string }).time));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(dayStart);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(23 * 3_600_000);
    expect(
      ups.every(
        (e) =>
          (e.json as { rxInfo: { metadata: Record<string, string> }[] }).rxInfo[0]?.metadata
            .maverick_time_source === 'gps',
      ),
    ).toBe(true);
    expect(await countUplinks(gw.runtime.db)).toBe(6 * 96);
    console.info(
      `[e2e farm day] serial=${line.kind} real=${Date.now() - realStart} ms for 24 simulated hours, uplinks=${stats.uplinksSent}, ` +
        `confirmed=${stats.confirmedSent}, downlinks rx1/rx2=${stats.downlinksRx1}/${stats.downlinksRx2}, late=${stats.lateDownlinks}, ` +
        `retransmissions=${stats.retransmissions}, join retries=${stats.joinRetries}`,
    );
    // Every event this suite saw parses as ChirpStack 4.19 under strict proto3 JSON.
    expect(listener.schemaViolations).toEqual([]);
  });
});
