/**
 * Issue 3, acceptance 3 and 4, end to end: a replayed frame, a reused
 * DevNonce, a wrong MIC and a truncated frame each produce one logged,
 * counted rejection, a ChirpStack `log` event to the device's application
 * when the frame names a known device, and nothing else (nothing stored); a device
 * whose JavaScript codec loops forever still gets its uplinks through, as `up`
 * events without `object` plus an UPLINK_CODEC `log` event; the other devices
 * keep working throughout. Anonymous MQTT clients are refused, and a client
 * cannot publish to event topics. And an ACK lost in both receive windows
 * makes the device retransmit once, which is ACKed without a second event.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { countUplinks } from '../kernel/db/uplink-queries.js';
import { encodeDataFrame } from '../proto/lorawan/index.js';
import { SimClock } from '../simulator/clock.js';
import { FarmSimulation, generateFarmDevices } from '../simulator/farm.js';
import {
  Cleanups,
  captureLogger,
  EventListener,
  type LogLine,
  MQTT_PASSWORD,
  MQTT_USER,
  openSerialLine,
  radioPaths,
  registerFarm,
  runFarm,
  serialLineLabel,
  sleep,
  startForwarder,
  startGateway,
  startMcu,
  tempDataDir,
  waitUntil,
} from './helpers/e2e-field.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

async function mqttRefusal(port: number, options: { username?: string; password?: string }): Promise<string> {
  try {
    const client = await mqtt.connectAsync(
      `mqtt://127.0.0.1:${port}`,
      { ...options, reconnectPeriod: 0, connectTimeout: 3_000 },
      false,
    );
    await client.endAsync(true);
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('rejections end to end (issue 3 acceptance 3 and 4)', () => {
  it(`bad frames are counted and logged, a looping codec is contained, others keep working (${serialLineLabel})`, async () => {
    const dataDir = tempDataDir(cleanups);
    const loopCodec = join(dataDir, 'loops-forever.js');
    writeFileSync(loopCodec, 'function decodeUplink(input) { for (;;) {} }\n');
    const line = await openSerialLine(cleanups, 'reject');
    const mcu = startMcu(cleanups, line);
    const logs: LogLine[] = [];
    const gw = await startGateway(dataDir, line, { logger: captureLogger(logs) });
    cleanups.add(() => gw.runtime.stop());
    const listener = await EventListener.connect(gw.runtime, cleanups);
    // The first ACK the network sends is lost in both windows (the forwarder refuses RX1 and RX2):
    // the device must retransmit, and the network must recognise the retransmission and ACK again.
    let lostAckAddr: string | undefined;
    let refused = 0;
    const forwarder = await startForwarder(cleanups, gw.udpPort, (txpk) => {
      const phy = txpk.phyPayload;
      const ackBit = phy.length >= 8 && phy[0] === 0x60 && ((phy[5] as number) & 0x20) !== 0;
      if (!ackBit || refused >= 2) return 'NONE';
      const devAddr = Buffer.from(phy.subarray(1, 5)).reverse().toString('hex');
      lostAckAddr ??= devAddr;
      if (devAddr !== lostAckAddr) return 'NONE';
      refused++;
      return 'TOO_LATE';
    });

    const clock = new SimClock({ startMs: Date.UTC(2026, 8, 15, 8) });
    const specs = generateFarmDevices({
      seed: 5,
      count: 5,
      otaaRatio: 1,
      pathsFor: (i) => (i === 4 ? ['serial'] : ['udp']),
    });
    const looping = specs[3]?.devEui as string;
    await registerFarm(gw.runtime, specs, (s) =>
      s.devEui === looping ? { kind: 'js', path: loopCodec } : { kind: 'cayenne-lpp' },
    );
    const farm = new FarmSimulation({
      clock,
      paths: radioPaths({ forwarder, mcu }, clock),
      devices: specs,
      seed: 5,
      intervalMs: 60_000,
      uplinks: 12,
      confirmedRatio: 0.3,
      startSpreadMs: 10_000,
    });
    cleanups.add(() => farm.stop());
    farm.start();
    const run = (until: () => boolean) =>
      runFarm(
        { clock, gateway: () => gw.runtime, until, progress: () => farm.snapshot() },
        { stepMs: 2_000, maxSimMs: 3_600_000, maxRealMs: 40_000 },
      );
    await run(() => farm.sentUplinks.length >= 5 * 4);

    // The bad frames, from a device that is joined and talking.
    const victim = farm.devices[0];
    const keys = victim?.sim.sessionKeys;
    if (!victim || !keys) throw new Error('device 0 did not join');
    const oldJoinRequest = victim.recentFrames[0] as Uint8Array;
    const oldUplink = victim.recentFrames[1] as Uint8Array;
    const fresh = encodeDataFrame(
      {
        mType: 'UnconfirmedDataUp',
        devAddr: keys.devAddr,
        fCnt32: victim.sim.fCntUp + 1000,
        fPort: 2,
        payload: Uint8Array.of(1, 0x68, 50),
      },
      keys,
    );
    const wrongMic = Uint8Array.from(fresh);
    wrongMic[wrongMic.length - 1] = (wrongMic[wrongMic.length - 1] as number) ^ 0xff;
    const truncated = fresh.slice(0, 7);
    // The farm is paused (the clock stands still): let the events of what it sent so far arrive first.
    await waitUntil(() => listener.of('up').length === farm.sentUplinks.length, 15_000, 'up events so far');
    await sleep(200);
    const eventsBefore = listener.events.length;
    const storedBefore = await countUplinks(gw.runtime.db);
    const logsBefore = logs.length;
    for (const frame of [oldUplink, oldJoinRequest, wrongMic, truncated]) await farm.inject('udp', frame);
    await gw.runtime.ns.settle();

    const counters = gw.runtime.counters();
    expect(counters.rejected_replay).toBe(1);
    expect(counters.rejected_devnonce_reused).toBe(1);
    expect(counters.rejected_bad_mic).toBe(1);
    expect(counters.rejected_malformed).toBe(1);
    expect(counters.internal_errors ?? 0).toBe(0);
    const rejectionLogs = logs.slice(logsBefore).filter((l) => typeof l.fields.reason === 'string');
    expect(rejectionLogs.map((l) => l.fields.reason).sort()).toEqual([
      'bad_mic',
      'devnonce_reused',
      'malformed',
      'replay',
    ]);
    // Each rejection of a known device's frame reaches its application as a ChirpStack `log`
    // event (the malformed frame names no device: journal only); nothing else, nothing stored.
    await waitUntil(() => listener.events.length >= eventsBefore + 3, 5_000, 'rejection log events');
    await sleep(100);
    const rejectionEvents = listener.events.slice(eventsBefore);
    expect(rejectionEvents.map((e) => `${e.type} ${e.devEui} ${e.json.level} ${e.json.code}`).sort()).toEqual(
      [
        `log ${victim.spec.devEui} ERROR UPLINK_MIC`,
        `log ${victim.spec.devEui} WARNING OTAA`,
        `log ${victim.spec.devEui} WARNING UPLINK_F_CNT_RESET`,
      ].sort(),
    );
    const replayLog = rejectionEvents.find((e) => e.json.code === 'UPLINK_F_CNT_RESET');
    expect((replayLog?.json.context ?? {}) as Record<string, string>).toHaveProperty('lastFCnt');
    expect(((replayLog?.json.context ?? {}) as Record<string, string>).lastFCnt).toMatch(/^\d+$/);
    expect(await countUplinks(gw.runtime.db)).toBe(storedBefore);

    // Everyone keeps working, the looping codec's device included.
    await run(() => farm.finished);
    const stats = farm.snapshot();
    expect(stats.uplinksSent).toBe(5 * 12);
    expect(stats.acksReceived).toBe(stats.confirmedSent);
    expect(stats.wrongTiming).toBe(0);
    expect(refused).toBe(2);
    expect(stats.retransmissions).toBe(1);
    expect(gw.runtime.counters().retransmissions).toBe(1);
    expect(gw.runtime.counters().downlinks_failed).toBe(1);
    await waitUntil(() => listener.of('up').length >= 5 * 12, 15_000, 'every up event');
    expect(await countUplinks(gw.runtime.db)).toBe(5 * 12);
    const loopingUps = listener.of('up').filter((e) => e.devEui === looping);
    expect(loopingUps).toHaveLength(12);
    for (const e of loopingUps) expect(e.json.object).toBeUndefined();
    const codecLogs = listener
      .of('log')
      .filter((e) => e.devEui === looping && e.json.code === 'UPLINK_CODEC');
    expect(codecLogs).toHaveLength(12);
    expect(String(codecLogs[0]?.json.description)).toMatch(/time|limit|interrupt/i);
    const others = listener.of('up').filter((e) => e.devEui !== looping);
    expect(others).toHaveLength(4 * 12);
    for (const e of others) expect(e.json.object).toBeTypeOf('object');
    expect(gw.runtime.counters().internal_errors ?? 0).toBe(0);

    // MQTT: no credentials, or wrong ones, are refused (CONNACK 5, MQTT 3.1.1 §3.2.2.3).
    const port = gw.runtime.broker?.port as number;
    expect(await mqttRefusal(port, {})).toMatch(/not authori[sz]ed|refused/i);
    expect(await mqttRefusal(port, { username: MQTT_USER, password: 'wrong' })).toMatch(
      /not authori[sz]ed|refused/i,
    );
    // An authenticated client cannot inject events: its publish never reaches subscribers.
    const forger = await mqtt.connectAsync(
      `mqtt://127.0.0.1:${port}`,
      { username: MQTT_USER, password: MQTT_PASSWORD, reconnectPeriod: 0 },
      false,
    );
    cleanups.add(() => forger.endAsync(true));
    const forgedTopic = `application/farm/device/${looping}/event/up`;
    const countBefore = listener.events.length;
    await forger
      .publishAsync(forgedTopic, JSON.stringify({ forged: true }), { qos: 0 })
      .catch(() => undefined);
    await sleep(200);
    expect(listener.events.slice(countBefore).filter((e) => e.json.forged)).toEqual([]);
    // Every event this suite saw parses as ChirpStack 4.19 under strict proto3 JSON.
    expect(listener.schemaViolations).toEqual([]);
  });
});
