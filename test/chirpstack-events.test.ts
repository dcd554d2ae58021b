/**
 * Issue 11: Maverick's events are ChirpStack's, exactly. Every kind (up,
 * join, ack, txack, status, log) that a real gateway runtime publishes parses
 * as its integration.proto message from ChirpStack v4's published schema
 * (@chirpstack/chirpstack-api, release named below) under strict proto3 JSON
 * rules, as ChirpStack's Python and Go clients parse them; an extra top-level
 * field fails the same check. And `command/down` is ChirpStack's: the topic's
 * application must be the device's, `id` is the queue item id reported back
 * in `txack`/`ack`, `expiresAt` is honoured, and every refusal is a `log`.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { applicationUuid } from '../proto/mqtt/name-uuid.js';
import { SimClock } from '../simulator/clock.js';
import { FarmSimulation, generateFarmDevices } from '../simulator/farm.js';
import { CHIRPSTACK_API_VERSION, EVENT_MESSAGES, parseStrict } from './helpers/chirpstack-schema.js';
import {
  Cleanups,
  chirpStackViolation,
  EventListener,
  MQTT_PASSWORD,
  MQTT_USER,
  openSerialLine,
  radioPaths,
  registerFarm,
  runFarm,
  startForwarder,
  startGateway,
  startMcu,
  tempDataDir,
  UDP_GATEWAY,
  waitUntil,
} from './helpers/e2e-field.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe(`ChirpStack ${CHIRPSTACK_API_VERSION} schema, strict proto3 JSON`, () => {
  it('is the release the tests name', () => {
    expect(CHIRPSTACK_API_VERSION).toBe('4.19.0');
  });

  it('refuses an event with an extra top-level field, and a wrong type or enum inside one', () => {
    const join = {
      deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
      time: '2026-05-01T10:00:00Z',
      deviceInfo: { devEui: '0101010101010101', deviceClassEnabled: 'CLASS_A' },
      devAddr: '01020304',
      regionConfigId: 'eu868',
    };
    expect(() => parseStrict(EVENT_MESSAGES.join, join)).not.toThrow();
    expect(() => parseStrict(EVENT_MESSAGES.join, { ...join, maverick: { timeSource: 'gps' } })).toThrow(
      /maverick/,
    );
    expect(chirpStackViolation('join', { ...join, maverick: {} })).toMatch(/key "maverick" is unknown/);
    expect(() =>
      parseStrict(EVENT_MESSAGES.join, { ...join, deviceInfo: { deviceClassEnabled: 'A' } }),
    ).toThrow();
    expect(() => parseStrict(EVENT_MESSAGES.up, { fCnt: 'ten' })).toThrow(/f_cnt.*uint32/);
    expect(() => parseStrict(EVENT_MESSAGES.log, { level: 'LOUD' })).toThrow(/LogLevel/);
  });
});

describe('events and downlink commands of a running gateway', () => {
  it('publishes every event kind in ChirpStack form and handles command/down as ChirpStack does', async () => {
    const dataDir = tempDataDir(cleanups);
    const line = await openSerialLine(cleanups, 'chirpstack');
    const mcu = startMcu(cleanups, line);
    const gw = await startGateway(dataDir, line);
    cleanups.add(() => gw.runtime.stop());
    const listener = await EventListener.connect(gw.runtime, cleanups);
    const forwarder = await startForwarder(cleanups, gw.udpPort);
    const port = gw.runtime.broker?.port as number;
    const app = await mqtt.connectAsync(
      `mqtt://127.0.0.1:${port}`,
      { username: MQTT_USER, password: MQTT_PASSWORD, reconnectPeriod: 0 },
      false,
    );
    cleanups.add(() => app.endAsync(true));
    const gatewayLogs: Record<string, unknown>[] = [];
    app.on('message', (topic, payload) => {
      if (topic === `gateway/${UDP_GATEWAY}/event/log`) gatewayLogs.push(JSON.parse(payload.toString()));
    });
    await app.subscribeAsync('gateway/+/event/log', { qos: 1 });

    const clock = new SimClock({ startMs: Date.UTC(2026, 4, 1, 6) });
    const specs = generateFarmDevices({ seed: 11, count: 3, otaaRatio: 1, pathsFor: () => ['udp'] });
    // The third device is never registered: its joins are refused and reported on the gateway topic.
    await registerFarm(gw.runtime, specs.slice(0, 2));
    const [a, b, stranger] = specs.map((s) => s.devEui) as [string, string, string];
    const farm = new FarmSimulation({
      clock,
      paths: radioPaths({ forwarder, mcu }, clock),
      devices: specs,
      seed: 11,
      intervalMs: 60_000,
      uplinks: 8,
      confirmedRatio: 0,
      startSpreadMs: 5_000,
      maxJoinAttempts: 2,
    });
    cleanups.add(() => farm.stop());
    farm.start();
    const run = (until: () => boolean) =>
      runFarm(
        { clock, gateway: () => gw.runtime, until, progress: () => farm.snapshot() },
        { stepMs: 2_000, maxSimMs: 3_600_000, maxRealMs: 40_000 },
      );
    await run(() => listener.of('join').length >= 2 && listener.of('up').length >= 2);

    // Another application's topic for device A: refused, and A's application hears why.
    await app.publishAsync(
      `application/someone-else/device/${a}/command/down`,
      JSON.stringify({ fPort: 5, data: 'AQ==' }),
      { qos: 1 },
    );
    // Already expired: refused with EXPIRED (addressed by the application's ChirpStack UUID).
    await app.publishAsync(
      `application/${applicationUuid('farm')}/device/${b}/command/down`,
      JSON.stringify({ fPort: 9, data: 'AQ==', expiresAt: '2020-01-01T00:00:00Z' }),
      { qos: 1 },
    );
    // A valid confirmed downlink with the application's own id and fPort as a string.
    await app.publishAsync(
      `application/farm/device/${a}/command/down`,
      JSON.stringify({ id: 'q-1', confirmed: true, fPort: '8', data: 'AQI=' }),
      { qos: 1 },
    );
    await waitUntil(
      () =>
        listener.of('log').filter((e) => e.json.code === 'UNKNOWN' || e.json.code === 'EXPIRED').length >= 2,
      5_000,
      'the refusals as log events',
    );
    const refusals = listener.of('log').filter((e) => e.json.code === 'UNKNOWN' || e.json.code === 'EXPIRED');
    expect(refusals.map((e) => `${e.devEui} ${e.json.level} ${e.json.code}`).sort()).toEqual(
      [`${a} ERROR UNKNOWN`, `${b} ERROR EXPIRED`].sort(),
    );
    expect(String(refusals.find((e) => e.devEui === a)?.json.description)).toMatch(/someone-else/);
    // Only the authorised downlink is queued.
    expect(gw.runtime.ns.queue.list(a).map((q) => q.id)).toEqual(['q-1']);
    expect(gw.runtime.ns.queue.list(b)).toEqual([]);

    await run(() => farm.finished);
    await waitUntil(() => listener.of('ack').length >= 1, 10_000, 'the ack event');
    await waitUntil(() => gatewayLogs.length >= 1, 5_000, 'the unknown-device join log');

    const txacks = listener.of('txack');
    expect(txacks.map((e) => e.json.queueItemId)).toEqual(['q-1']);
    const txInfo = txacks[0]?.json.txInfo as { timing: { delay: { delay: string } } };
    expect(['1s', '2s']).toContain(txInfo.timing.delay.delay);
    expect(listener.of('ack')[0]?.json).toMatchObject({ queueItemId: 'q-1', acknowledged: true });
    expect(gatewayLogs[0]).toMatchObject({
      level: 'WARNING',
      code: 'OTAA',
      deviceInfo: { devEui: stranger },
    });
    for (const log of gatewayLogs) expect(chirpStackViolation('log', log)).toBeUndefined();

    // Every kind was produced, and every event parses as ChirpStack's message.
    const kinds = new Set(listener.events.map((e) => e.type));
    for (const kind of ['up', 'join', 'ack', 'txack', 'status', 'log']) expect(kinds, kind).toContain(kind);
    expect(listener.schemaViolations).toEqual([]);
    const up = listener.of('up')[0]?.json as Record<string, unknown>;
    expect(up.deviceInfo).toMatchObject({
      applicationId: applicationUuid('farm'),
      applicationName: 'farm',
      deviceClassEnabled: 'CLASS_A',
      deviceProfileName: 'EU868 Class A, Cayenne LPP',
    });
    expect(up.regionConfigId).toBe('eu868');
    const rx = (up.rxInfo as Record<string, unknown>[])[0] as {
      nsTime: string;
      metadata: Record<string, string>;
    };
    expect(Number.isFinite(Date.parse(rx.nsTime))).toBe(true);
    expect(rx.metadata).toMatchObject({ region_config_id: 'eu868', region_common_name: 'EU868' });
  });
});
