/**
 * The embedded broker over real loopback sockets with a real mqtt.js client:
 * authentication, the ACL, ChirpStack `up` events, downlink commands,
 * retained gateway state, and TLS with a freshly made self-signed certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttBroker } from '../gateway/mqtt/broker.js';
import { EmbeddedPublisher } from '../gateway/mqtt/embedded-publisher.js';
import { ErrorCode, isMaverickError, type MaverickError } from '../proto/errors.js';
import type { DownlinkCommand } from '../proto/mqtt/command.js';
import { uplinkEventJson } from '../proto/mqtt/events.js';
import { eventTopic } from '../proto/mqtt/topics.js';
import { selfSignedCertificate } from './helpers/self-signed.js';

const USER = 'farm-app';
const PASSWORD = 'correct horse battery staple';
const GATEWAY = 'aa555a0000000001';
const DEV_EUI = '0102030405060708';

const brokers: MqttBroker[] = [];
const clients: MqttClient[] = [];
const publishers: EmbeddedPublisher[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.all(publishers.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startBroker(extra: Parameters<typeof MqttBroker.start>[0] = {}): Promise<MqttBroker> {
  const broker = await MqttBroker.start({ port: 0, username: USER, password: PASSWORD, ...extra });
  brokers.push(broker);
  return broker;
}

async function connect(
  broker: MqttBroker,
  options: IClientOptions = {},
  scheme = 'mqtt',
): Promise<MqttClient> {
  const client = await mqtt.connectAsync(
    `${scheme}://127.0.0.1:${broker.address().port}`,
    { username: USER, password: PASSWORD, reconnectPeriod: 0, connectTimeout: 5000, ...options },
    false,
  );
  clients.push(client);
  return client;
}

async function refusal(broker: MqttBroker, options: IClientOptions): Promise<unknown> {
  try {
    const client = await connect(broker, options);
    return `connected: ${client.connected}`;
  } catch (err) {
    return err;
  }
}

/** The next message on `client` matching `topic`, or a rejection after `ms`. */
function nextMessage(
  client: MqttClient,
  topic: string,
  ms = 5000,
): Promise<{ payload: Buffer; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${ms} ms`));
    }, ms);
    const onMessage = (t: string, payload: Buffer, packet: { retain: boolean }) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ payload, retain: packet.retain });
    };
    client.on('message', onMessage);
  });
}

const device = {
  tenantId: 't',
  tenantName: 'Farm',
  applicationId: 'soil',
  applicationName: 'Soil',
  deviceProfileId: 'p',
  deviceProfileName: 'LPP',
  deviceName: 'probe',
  devEui: DEV_EUI,
};

describe('embedded MQTT broker', () => {
  it('refuses anonymous clients and wrong passwords with CONNACK "not authorized"', async () => {
    const broker = await startBroker();
    const anonymous = await refusal(broker, { username: undefined, password: undefined });
    expect((anonymous as { code?: number }).code).toBe(5);
    const wrong = await refusal(broker, { password: 'wrong' });
    expect((wrong as { code?: number }).code).toBe(5);
    const wrongUser = await refusal(broker, { username: 'someone' });
    expect((wrongUser as { code?: number }).code).toBe(5);
  });

  it('requires credentials to be configured unless explicitly turned off', async () => {
    await expect(MqttBroker.start({ port: 0 })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
  });

  it('reports a busy port as MqttBind', async () => {
    const first = await startBroker();
    const err = await MqttBroker.start({
      port: first.address().port,
      username: USER,
      password: PASSWORD,
    }).catch((e) => e);
    expect(isMaverickError(err, ErrorCode.MqttBind)).toBe(true);
  });

  it("never fills mqtt-packet's 65,536-Buffer number table (8 MB of a 64 MB gateway heap)", async () => {
    // mqtt-packet's own table (untyped CommonJS), the one aedes writes through.
    const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as {
      cache: Record<number, Buffer>;
    };
    const before = Object.keys(numbers.cache).length;
    // As at a fresh gateway start: the table is on until someone turns it off (mqtt.js turns it
    // off when it builds a client, unless `writeCache`: kept on here so only the broker decides).
    mqttPacket.writeToStream.cacheNumbers = true;
    const broker = await startBroker();
    const app = await connect(broker, { writeCache: true });
    await app.subscribeAsync('application/+/device/+/event/up', { qos: 1 });
    const topic = eventTopic('soil', DEV_EUI, 'up');
    const arrival = nextMessage(app, topic);
    const publisher = await EmbeddedPublisher.create(broker, { gatewayEui: GATEWAY });
    publishers.push(publisher);
    await publisher.publishEvent(topic, { fCnt: 1 });
    // aedes wrote CONNACK, SUBACK and a QoS 1 PUBLISH (a packet id): all without the table.
    expect((await arrival).payload.length).toBeGreaterThan(0);
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
    expect(before).toBe(0);
    expect(Object.keys(numbers.cache)).toHaveLength(0);
  });

  it('delivers a ChirpStack up event to a subscribed client', async () => {
    const broker = await startBroker();
    const publisher = await EmbeddedPublisher.create(broker, { gatewayEui: GATEWAY });
    publishers.push(publisher);
    const app = await connect(broker);
    await app.subscribeAsync('application/+/device/+/event/up', { qos: 1 });
    const topic = eventTopic('soil', DEV_EUI, 'up');
    const arrival = nextMessage(app, topic);
    await publisher.publishEvent(
      topic,
      uplinkEventJson({
        deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
        time: new Date('2026-05-01T10:00:00Z'),
        timeSource: 'gps',
        device,
        devAddr: '00189440',
        adr: true,
        dr: 5,
        fCnt: 42,
        fPort: 1,
        confirmed: false,
        data: new Uint8Array([1, 0x67, 0, 0xff]),
        object: { temperatureSensor: { '1': 25.5 } },
        rx: [
          {
            gatewayEui: GATEWAY,
            tmst: 1000,
            frequencyHz: 868100000,
            channel: 0,
            rfChain: 0,
            dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
            codingRate: '4/5',
            rssi: -80,
            snr: 7.5,
            backend: 'semtech-udp',
          },
        ],
        regionConfigId: 'eu868',
        regionCommonName: 'EU868',
      }),
    );
    const event = JSON.parse((await arrival).payload.toString('utf8'));
    expect(event).toMatchObject({
      deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
      deviceInfo: { devEui: DEV_EUI, applicationId: 'soil' },
      fCnt: 42,
      data: 'AWcA/w==',
      object: { temperatureSensor: { '1': 25.5 } },
      rxInfo: [{ gatewayId: GATEWAY, rssi: -80, snr: 7.5, crcStatus: 'CRC_OK' }],
      txInfo: {
        frequency: 868100000,
        modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } },
      },
      regionConfigId: 'eu868',
    });
    expect(event.rxInfo[0].metadata.maverick_time_source).toBe('gps');
    expect(publisher.counters.published).toBe(1);
  });

  it('publishes text as its exact UTF-8 bytes, to socket subscribers at QoS 0 and 1 and to the broker itself', async () => {
    const broker = await startBroker();
    const topic = eventTopic('café', DEV_EUI, 'up');
    const text = JSON.stringify({ name: 'Fazenda São João ☕ 🌱', note: 'ñ\u0000"\\' });
    const atMostOnce = await connect(broker);
    await atMostOnce.subscribeAsync('application/+/device/+/event/up', { qos: 0 });
    const atLeastOnce = await connect(broker);
    await atLeastOnce.subscribeAsync('application/+/device/+/event/up', { qos: 1 });
    const inside: Buffer[] = [];
    const unsubscribe = await broker.subscribe('application/+/device/+/event/up', (_topic, payload) => {
      inside.push(payload);
    });
    const arrivals = [nextMessage(atMostOnce, topic), nextMessage(atLeastOnce, topic)];
    await broker.publish(topic, text);
    const expected = Buffer.from(text, 'utf8');
    for (const arrival of arrivals) expect((await arrival).payload.equals(expected)).toBe(true);
    expect(inside).toHaveLength(1);
    expect(Buffer.isBuffer(inside[0]) && inside[0].equals(expected)).toBe(true);
    await unsubscribe();
  });

  it('refuses subscriptions outside events and gateway state (SUBACK 0x80)', async () => {
    const broker = await startBroker();
    const app = await connect(broker);
    // mqtt.js rejects when any filter is refused; the SUBACK it carries lists the grant per filter, in order.
    const refused = await app
      .subscribeAsync(['#', 'application/#', '$SYS/#', 'gateway/+/state/conn'], { qos: 1 })
      .catch((err: { packet?: { granted?: number[] } }) => err);
    expect((refused as { packet?: { granted?: number[] } }).packet?.granted).toEqual([128, 1, 128, 1]);
  });

  it('a client cannot publish an event, but its downlink command reaches onCommand parsed', async () => {
    const broker = await startBroker();
    const publisher = await EmbeddedPublisher.create(broker, { gatewayEui: GATEWAY });
    publishers.push(publisher);
    const commands: DownlinkCommand[] = [];
    const invalid: MaverickError[] = [];
    publisher.onCommand(
      (cmd) => {
        commands.push(cmd);
      },
      (err) => invalid.push(err),
    );

    const listener = await connect(broker, { clientId: 'listener' });
    await listener.subscribeAsync('application/#', { qos: 1 });
    const seen: string[] = [];
    listener.on('message', (topic) => seen.push(topic));

    // The forger publishes to an event topic: the broker drops it and closes the connection (MQTT-3.3.5-2).
    const forger = await connect(broker, { clientId: 'forger' });
    const closed = new Promise<void>((resolve) => forger.once('close', () => resolve()));
    forger.publish(eventTopic('soil', DEV_EUI, 'up'), '{"forged":true}', { qos: 1 });
    await closed;
    // A sentinel from the gateway itself: once it arrives, anything the forger sent would have too.
    const sentinelTopic = eventTopic('soil', DEV_EUI, 'status');
    const sentinel = nextMessage(listener, sentinelTopic);
    await publisher.publishEvent(sentinelTopic, { sentinel: true });
    await sentinel;
    expect(seen).toEqual([sentinelTopic]);

    const app = await connect(broker, { clientId: 'app' });
    await app.publishAsync(
      `application/soil/device/${DEV_EUI}/command/down`,
      JSON.stringify({ devEui: DEV_EUI, confirmed: true, fPort: 10, data: 'AQID' }),
      { qos: 1 },
    );
    await app.publishAsync(`application/soil/device/${DEV_EUI}/command/down`, '{"fPort": 0}', { qos: 1 });
    await expect.poll(() => commands.length + invalid.length, { timeout: 5000 }).toBe(2);
    expect(commands[0]).toEqual({
      applicationId: 'soil',
      devEui: DEV_EUI,
      confirmed: true,
      fPort: 10,
      data: new Uint8Array([1, 2, 3]),
    });
    expect(invalid[0]?.code).toBe(ErrorCode.MqttBadCommand);
    expect(invalid[0]?.message).toMatch(/fPort/);
    expect(publisher.counters).toMatchObject({ commands: 1, invalidCommands: 1 });
  });

  it('keeps the gateway state retained: ONLINE while open, OFFLINE after close', async () => {
    const broker = await startBroker();
    const publisher = await EmbeddedPublisher.create(broker, { gatewayEui: GATEWAY });
    const stateTopic = `gateway/${GATEWAY}/state/conn`;

    const late = await connect(broker);
    const online = nextMessage(late, stateTopic);
    await late.subscribeAsync('gateway/+/state/conn', { qos: 1 });
    const first = await online;
    expect(first.retain).toBe(true);
    expect(JSON.parse(first.payload.toString())).toEqual({ gatewayId: GATEWAY, state: 'ONLINE' });

    await publisher.close();
    const later = await connect(broker);
    const offline = nextMessage(later, stateTopic);
    await later.subscribeAsync('gateway/+/state/#', { qos: 1 });
    expect(JSON.parse((await offline).payload.toString())).toEqual({ gatewayId: GATEWAY, state: 'OFFLINE' });
  });

  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  const tlsTitle = 'serves TLS with a self-signed certificate';
  it.skipIf(!openssl)(openssl ? tlsTitle : `${tlsTitle} (skipped: no openssl CLI on PATH)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maverick-mqtt-tls-'));
    dirs.push(dir);
    const { keyPath, certPath } = selfSignedCertificate(dir);
    const broker = await startBroker({ tls: { keyPath, certPath } });
    expect(broker.tls).toBe(true);
    // The client verifies the server against the generated certificate (no rejectUnauthorized: false).
    const app = await connect(broker, { ca: readFileSync(certPath) }, 'mqtts');
    expect(app.connected).toBe(true);
    const wrong = await mqtt
      .connectAsync(
        `mqtts://127.0.0.1:${broker.address().port}`,
        { username: USER, password: 'nope', ca: readFileSync(certPath), reconnectPeriod: 0 },
        false,
      )
      .catch((err: { code?: number }) => err);
    expect((wrong as { code?: number }).code).toBe(5);
  });

  it('takes a burst of events while a subscriber reads slowly, without overflowing the stack', async () => {
    // aedes routes publishes through mqemitter, which queues them past its concurrency (100 in
    // flight by default) and, when one delivery completes, starts the next queued one from inside
    // that completion: a queue of events nobody subscribes to drains as one recursion per event.
    // A farm app that stops reading made the gateway's 101st event wait, and a burst queued behind
    // it ended in "Maximum call stack size exceeded" (the gateway died under a 5,000/s burst).
    const broker = await startBroker();
    const slow = await connect(broker);
    await slow.subscribeAsync(eventTopic(GATEWAY, DEV_EUI, 'up'), { qos: 0 });
    slow.stream.pause(); // stops reading: its deliveries wait for the socket to drain
    const big = Buffer.alloc(256 * 1024, 0x61);
    const pending: Promise<void>[] = [];
    // Enough to fill the socket buffers both ways and keep more than 100 deliveries waiting.
    for (let i = 0; i < 400; i++) pending.push(broker.publish(eventTopic(GATEWAY, DEV_EUI, 'up'), big));
    // A burst of events no one subscribes to, queued behind them.
    for (let i = 0; i < 30_000; i++)
      pending.push(broker.publish(eventTopic(GATEWAY, DEV_EUI, 'status'), 'x'));
    const errors: unknown[] = [];
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => {
      crashed = resolve;
    });
    const onError = (err: unknown) => {
      errors.push(err);
      crashed();
    };
    process.on('uncaughtException', onError);
    try {
      slow.stream.resume();
      // Every publish completes, or the broker died: whichever comes first.
      await Promise.race([Promise.all(pending), crash]);
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors.map(String)).toEqual([]);
  }, 120_000);

  it('close() ends every connected client and frees the port', async () => {
    const broker = await startBroker();
    const { port } = broker.address();
    const a = await connect(broker, { clientId: 'a' });
    const b = await connect(broker, { clientId: 'b' });
    const closed = Promise.all(
      [a, b].map((c) => new Promise<void>((resolve) => c.once('close', () => resolve()))),
    );
    await broker.close();
    await closed;
    expect(a.connected || b.connected).toBe(false);
    const again = await MqttBroker.start({ port, username: USER, password: PASSWORD });
    brokers.push(again);
    expect(again.address().port).toBe(port);
    await expect(
      broker.publish('application/x/device/0102030405060708/event/up', '{}'),
    ).rejects.toMatchObject({
      code: ErrorCode.MqttClosed,
    });
  });

  it('reports unreadable TLS files as MqttTls', async () => {
    const err = await MqttBroker.start({
      port: 0,
      username: USER,
      password: PASSWORD,
      tls: { keyPath: '/nonexistent/key.pem', certPath: '/nonexistent/cert.pem' },
    }).catch((e) => e);
    expect(isMaverickError(err, ErrorCode.MqttTls)).toBe(true);
  });
});
