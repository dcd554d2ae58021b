/**
 * ExternalPublisher against a real mosquitto (when the binary is installed;
 * CI installs it): password-protected broker on a random loopback port,
 * QoS 1 events, downlink commands, retained ONLINE/OFFLINE and the last will.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExternalPublisher } from '../gateway/mqtt/external-publisher.js';
import { ErrorCode, isMaverickError } from '../proto/errors.js';
import type { DownlinkCommand } from '../proto/mqtt/command.js';
import { eventTopic } from '../proto/mqtt/topics.js';
import { waitForPort } from './helpers/wait.js';

function hasBinary(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasBinary('mosquitto') && hasBinary('mosquitto_passwd');
const USER = 'maverick';
const PASSWORD = 's3cret-pass';
const GATEWAY = 'aa555a0000000002';
const DEV_EUI = '0102030405060708';

let dir: string;
let mosquitto: ChildProcess | undefined;
let port = 0;
const clients: MqttClient[] = [];
const publishers: ExternalPublisher[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
}

async function watcher(): Promise<MqttClient> {
  const client = await mqtt.connectAsync(
    `mqtt://127.0.0.1:${port}`,
    { username: USER, password: PASSWORD, reconnectPeriod: 0, clientId: `watcher-${clients.length}` },
    false,
  );
  clients.push(client);
  return client;
}

function nextMessage(client: MqttClient, topic: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${ms} ms`)), ms);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(payload.toString('utf8'));
    };
    client.on('message', onMessage);
  });
}

describe.skipIf(!available)(
  available
    ? 'external publisher against mosquitto'
    : 'external publisher (skipped: mosquitto not installed)',
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'maverick-mosquitto-'));
      const passwd = join(dir, 'passwd');
      writeFileSync(passwd, '');
      execFileSync('mosquitto_passwd', ['-b', passwd, USER, PASSWORD], { stdio: 'ignore' });
      port = await freePort();
      const conf = join(dir, 'mosquitto.conf');
      writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous false',
          `password_file ${passwd}`,
          'persistence false',
          // Started as root, mosquitto drops to user "mosquitto", who cannot read our 0700 temp dir; as
          // anyone else this line is ignored.
          `user ${userInfo().username}`,
          '',
        ].join('\n'),
      );
      mosquitto = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
      await waitForPort(port, 10_000);
    });

    afterEach(async () => {
      await Promise.all(publishers.splice(0).map((p) => p.close().catch(() => undefined)));
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    });

    afterAll(async () => {
      if (mosquitto && mosquitto.exitCode === null) {
        const exited = new Promise((resolve) => mosquitto?.once('exit', resolve));
        mosquitto.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    const connectPublisher = async (password = PASSWORD) => {
      const publisher = await ExternalPublisher.connect({
        url: `mqtt://127.0.0.1:${port}`,
        username: USER,
        password,
        gatewayEui: GATEWAY,
        connectTimeoutMs: 5000,
      });
      publishers.push(publisher);
      return publisher;
    };

    it('refuses a wrong password with MqttConnect', async () => {
      const err = await connectPublisher('wrong').catch((e) => e);
      expect(isMaverickError(err, ErrorCode.MqttConnect)).toBe(true);
    });

    it('publishes events QoS 1 and receives downlink commands', async () => {
      const publisher = await connectPublisher();
      const commands: DownlinkCommand[] = [];
      publisher.onCommand((cmd) => {
        commands.push(cmd);
      });
      const app = await watcher();
      await app.subscribeAsync('application/+/device/+/event/+', { qos: 1 });
      const topic = eventTopic('soil', DEV_EUI, 'join');
      const arrival = nextMessage(app, topic);
      await publisher.publishEvent(topic, { devAddr: '01020304' });
      expect(JSON.parse(await arrival)).toEqual({ devAddr: '01020304' });

      await app.publishAsync(
        `application/soil/device/${DEV_EUI}/command/down`,
        JSON.stringify({ fPort: 3, data: 'qg==' }),
        { qos: 1 },
      );
      await expect.poll(() => commands.length, { timeout: 5000 }).toBe(1);
      expect(commands[0]).toMatchObject({
        devEui: DEV_EUI,
        fPort: 3,
        confirmed: false,
        data: new Uint8Array([0xaa]),
      });
    });

    it('keeps ONLINE retained, and the last will turns it OFFLINE when the link drops', async () => {
      const publisher = await connectPublisher();
      const stateTopic = `gateway/${GATEWAY}/state/conn`;
      const app = await watcher();
      const online = nextMessage(app, stateTopic);
      await app.subscribeAsync(stateTopic, { qos: 1 });
      expect(JSON.parse(await online)).toEqual({ gatewayId: GATEWAY, state: 'ONLINE' });

      // Cut the TCP connection under the client (no DISCONNECT): mosquitto must publish the will.
      const offline = nextMessage(app, stateTopic);
      const internals = publisher as unknown as { client: MqttClient };
      internals.client.options.reconnectPeriod = 0;
      internals.client.stream.destroy();
      expect(JSON.parse(await offline)).toEqual({ gatewayId: GATEWAY, state: 'OFFLINE' });
    });

    it('says OFFLINE explicitly on a clean close', async () => {
      const publisher = await connectPublisher();
      await publisher.close();
      const app = await watcher();
      const state = nextMessage(app, `gateway/${GATEWAY}/state/conn`);
      await app.subscribeAsync('gateway/+/state/conn', { qos: 1 });
      expect(JSON.parse(await state)).toEqual({ gatewayId: GATEWAY, state: 'OFFLINE' });
    });
  },
);
