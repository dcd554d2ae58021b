/**
 * Gateways confined on the regional node's embedded broker, with real MQTT
 * clients on loopback: the password file is the one `regional gateway add
 * --broker-dir` writes for mosquitto; each gateway publishes only under its
 * own topic and reads only its own acks; a gateway publishing as another is
 * cut off and nothing reaches the regional node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ackTopic, UP_FILTER, upTopic } from '../proto/link/topics.js';
import { issueBrokerCredentials } from '../regional/broker-credentials.js';
import { EmbeddedRegionalBroker } from '../regional/transport/embedded-broker.js';
import { waitFor } from './helpers/wait.js';

const REGIONAL = { username: 'maverick-regional', password: 'regional-s3cret' };
let dir: string;
let broker: EmbeddedRegionalBroker;
const clients: MqttClient[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maverick-confine-'));
  await issueBrokerCredentials(dir, 'gw-a', { password: 'a-s3cret' });
  await issueBrokerCredentials(dir, 'gw-b', { password: 'b-s3cret' });
  broker = await EmbeddedRegionalBroker.start({
    port: 0,
    credentials: REGIONAL,
    gatewayPasswordFile: join(dir, 'passwd'),
    limits: { backoff: { freeFailures: 100 } },
  });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(username: string | undefined, password: string | undefined): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  clients.push(client);
  return client;
}

/** Messages a client receives, by topic. */
function inbox(client: MqttClient): { topic: string; payload: string }[] {
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

describe('embedded regional broker: gateways confined', () => {
  it('logs in only known users with their own password', async () => {
    await expect(connect('gw-a', 'b-s3cret')).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(connect(undefined, undefined)).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(connect('gw-c', 'a-s3cret')).rejects.toThrow(/Not authorized|Bad username/i);
    const a = await connect('gw-a', 'a-s3cret');
    expect(a.connected).toBe(true);
  });

  it('a gateway publishes under its own topic and reads its own acks; as another it is refused', async () => {
    const regional = await connect(REGIONAL.username, REGIONAL.password);
    const items = inbox(regional);
    await regional.subscribeAsync(UP_FILTER, { qos: 1 });
    const a = await connect('gw-a', 'a-s3cret');
    const acksOfA = inbox(a);

    // Its own acks: granted. Another gateway's, or all of them: refused (SUBACK 0x80).
    const own = await a.subscribeAsync(ackTopic('gw-a'), { qos: 1 });
    expect(own.map((g) => g.qos)).toEqual([1]);
    for (const filter of [ackTopic('gw-b'), 'maverick/v1/gw/+/ack', UP_FILTER, '#'])
      await expect(a.subscribeAsync(filter, { qos: 1 }), filter).rejects.toThrow(/Subscribe error/);

    await a.publishAsync(upTopic('gw-a', 'bundle'), 'item of a', { qos: 1 });
    await waitFor<void>(
      (done) => (items.length > 0 ? done() : regional.once('message', () => done())),
      'item',
    );
    expect(items).toEqual([{ topic: upTopic('gw-a', 'bundle'), payload: 'item of a' }]);

    await regional.publishAsync(ackTopic('gw-b'), 'ack for b', { qos: 1 });
    await regional.publishAsync(ackTopic('gw-a'), 'ack for a', { qos: 1 });
    await waitFor<void>((done) => (acksOfA.length > 0 ? done() : a.once('message', () => done())), 'ack');
    expect(acksOfA).toEqual([{ topic: ackTopic('gw-a'), payload: 'ack for a' }]);

    // Publishing as gw-b: the broker closes gw-a's connection and nothing reaches the regional node.
    const closed = waitFor<void>((done) => a.once('close', () => done()), 'gw-a cut off');
    a.publish(upTopic('gw-b', 'bundle'), 'forged as b', { qos: 1 });
    await closed;
    const b = await connect('gw-b', 'b-s3cret');
    await b.publishAsync(upTopic('gw-b', 'bundle'), 'item of b', { qos: 1 });
    await waitFor<void>(
      (done) => (items.length > 1 ? done() : regional.once('message', () => done())),
      'item b',
    );
    expect(items.map((i) => i.payload)).toEqual(['item of a', 'item of b']);
  });

  it('a gateway added while the broker runs can log in; the regional user may not publish as a gateway', async () => {
    await expect(connect('gw-new', 'n-s3cret')).rejects.toThrow(/Not authorized|Bad username/i);
    await issueBrokerCredentials(dir, 'gw-new', { password: 'n-s3cret' });
    const n = await connect('gw-new', 'n-s3cret');
    expect(n.connected).toBe(true);
    const regional = await connect(REGIONAL.username, REGIONAL.password);
    const closed = waitFor<void>((done) => regional.once('close', () => done()), 'regional cut off');
    regional.publish(upTopic('gw-new', 'bundle'), 'forged by the node user', { qos: 1 });
    await closed;
  });
});
