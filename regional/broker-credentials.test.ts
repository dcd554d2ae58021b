/**
 * The issued files against a real mosquitto: each gateway publishes only under
 * its own topic and reads only its own acks; the regional user reads all.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackTopic, upTopic } from '../proto/link/topics.js';
import { type MosquittoBroker, mosquittoInstalled, startMosquitto } from '../test/fixtures/mosquitto.js';
import { type IssuedCredentials, issueBrokerCredentials } from './broker-credentials.js';

const installed = mosquittoInstalled();
let dir: string;
let broker: MosquittoBroker;
let regional: IssuedCredentials;
let gwA: IssuedCredentials;
let gwB: IssuedCredentials;

function connect(user: IssuedCredentials, password = user.password): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, {
    username: user.username,
    password,
    protocolVersion: 5,
    reconnectPeriod: 0,
    clientId: `${user.username}-${Math.random().toString(16).slice(2)}`,
  });
}

/** Messages `client` receives on `filter` after `publish` runs, then a round trip through the broker. */
async function received(
  client: MqttClient,
  filter: string,
  publish: () => Promise<unknown>,
): Promise<string[]> {
  const got: string[] = [];
  client.on('message', (topic) => got.push(topic));
  await client.subscribeAsync(filter, { qos: 1 });
  await publish();
  // A marker on a topic the receiver may read, published after the test message, bounds the wait.
  const marker = await connect(gwA);
  await marker.publishAsync(upTopic('gw-a', 'diagnostic'), 'marker', { qos: 1 });
  await marker.endAsync();
  for (let i = 0; i < 200 && !got.some((t) => t.endsWith('/diagnostic')); i++)
    await new Promise((r) => setTimeout(r, 10));
  return got.filter((t) => !t.endsWith('/diagnostic'));
}

describe.runIf(installed)('broker credentials issued by `regional gateway add` on mosquitto', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maverick-broker-creds-'));
    regional = await issueBrokerCredentials(dir, 'maverick-regional');
    gwA = await issueBrokerCredentials(dir, 'gw-a');
    gwB = await issueBrokerCredentials(dir, 'gw-b');
    broker = await startMosquitto({ passwordFile: join(dir, 'passwd'), aclFile: join(dir, 'acl') });
  }, 30_000);
  afterAll(() => {
    broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the password files mode 0600', () => {
    for (const f of ['passwd', 'acl', 'gw-a.password'])
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it('a gateway publishes under its own topic; publishing as another gateway is refused', async () => {
    const sub = await connect(regional);
    const a = await connect(gwA);
    try {
      const topics = await received(sub, 'maverick/v1/gw/+/up/+', async () => {
        await a.publishAsync(upTopic('gw-a', 'bundle'), 'mine', { qos: 1 });
        // MQTT 5: the broker answers the forged publish with "not authorized" (0x87).
        await expect(a.publishAsync(upTopic('gw-b', 'bundle'), 'forged', { qos: 1 })).rejects.toThrow(
          /Not authorized/,
        );
      });
      expect(topics).toEqual([upTopic('gw-a', 'bundle')]);
    } finally {
      await Promise.all([sub.endAsync(), a.endAsync()]);
    }
  });

  it('a gateway reads only its own acks', async () => {
    const a = await connect(gwA);
    const reg = await connect(regional);
    try {
      const got: string[] = [];
      a.on('message', (t) => got.push(t));
      // mosquitto grants the subscription but applies the read ACL to every message it would deliver.
      await a.subscribeAsync('maverick/v1/gw/+/ack', { qos: 1 });
      await reg.publishAsync(ackTopic('gw-b'), 'theirs', { qos: 1 });
      await reg.publishAsync(ackTopic('gw-a'), 'mine', { qos: 1 });
      for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual([ackTopic('gw-a')]);
    } finally {
      await Promise.all([a.endAsync(), reg.endAsync()]);
    }
  });

  it('a wrong password is refused at connect; reissuing replaces the old password', async () => {
    await expect(connect(gwB, 'guess')).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
    const again = await issueBrokerCredentials(dir, 'gw-b');
    expect(again.password).not.toBe(gwB.password);
  });
});
