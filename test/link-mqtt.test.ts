/**
 * Acceptance 4: the IP link works on the embedded aedes broker (MQTT 3.1.1,
 * persistent session) and on a real mosquitto (MQTT 5, session expiry,
 * password file), spawned on a random loopback port; skipped only when the
 * mosquitto binary is absent (CI installs it). Per broker: bundles synced and
 * acked; an ack published while the gateway is away reaches it when it
 * returns (persistent session); wrong credentials fail with a typed error.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttLink } from '../gateway/link/mqtt-link.js';
import { Outbox } from '../kernel/outbox/outbox.js';
import { RxdbOutboxStore } from '../kernel/outbox/rxdb-outbox-store.js';
import { SyncEngine } from '../kernel/outbox/sync-engine.js';
import type { LinkAck } from '../kernel/outbox/types.js';
import { isMaverickError } from '../proto/errors.js';
import { upTopic } from '../proto/link/topics.js';
import { startRegionalTransport } from '../regional/transport/mqtt-intake.js';
import { testAckSigner, testRegionalPublicKey } from './helpers/regional-ack-key.js';
import { waitForPort } from './helpers/wait.js';
import {
  chainReport,
  eventually,
  makeChain,
  openMemoryFarm,
  openRegional,
  testGateway,
} from './link-harness.js';

function hasBinary(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mosquittoAvailable = hasBinary('mosquitto') && hasBinary('mosquitto_passwd');
const USER = 'maverick-regional';
const PASSWORD = 'link-s3cret';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let mosquitto: ChildProcess | undefined;
let mosquittoUrl = '';
let confDir = '';

beforeAll(async () => {
  if (!mosquittoAvailable) return;
  confDir = mkdtempSync(join(tmpdir(), 'maverick-link-mosquitto-'));
  const port = await freePort();
  const passwd = join(confDir, 'passwd');
  execFileSync('mosquitto_passwd', ['-b', '-c', passwd, USER, PASSWORD]);
  const conf = join(confDir, 'mosquitto.conf');
  // Started as root, mosquitto drops to user "mosquitto", who cannot read our 0700 temp dir: stay as ourselves.
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      'persistence false',
      `user ${userInfo().username}`,
      '',
    ].join('\n'),
  );
  mosquitto = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port, 5000);
  mosquittoUrl = `mqtt://127.0.0.1:${port}`;
});

afterAll(() => {
  mosquitto?.kill('SIGTERM');
  if (confDir) rmSync(confDir, { recursive: true, force: true });
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type BrokerKind = 'embedded aedes' | 'mosquitto';

async function setUp(kind: BrokerKind, gatewayId: string) {
  const gw = testGateway(gatewayId);
  const regional = await openRegional([gw]);
  cleanups.push(() => regional.close());
  const credentials = { username: USER, password: PASSWORD };
  const transport = await startRegionalTransport(
    kind === 'mosquitto'
      ? {
          node: regional.node,
          acks: testAckSigner,
          brokerUrl: mosquittoUrl,
          credentials,
          clientId: `regional-${gatewayId}`,
        }
      : { node: regional.node, acks: testAckSigner, embedded: { port: 0 }, credentials },
  );
  cleanups.push(() => transport.close());
  return { gw, regional, transport, credentials };
}

describe.each<BrokerKind>(['embedded aedes', 'mosquitto'])('MQTT link on %s', (kind) => {
  const skip = kind === 'mosquitto' && !mosquittoAvailable;

  it.skipIf(skip)('syncs bundles with QoS 1 and retires each on its ack', async () => {
    const { gw, regional, transport, credentials } = await setUp(
      kind,
      `gw-sync-${kind === 'mosquitto' ? 'm' : 'a'}`,
    );
    const db = await openMemoryFarm();
    cleanups.push(() => db.close());
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    const link = new MqttLink({
      url: transport.brokerUrl,
      gatewayId: gw.id,
      regionalPublicKey: testRegionalPublicKey,
      credentials,
      reconnectPeriodMs: 100,
    }).start();
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 2000 });
    cleanups.push(async () => {
      await engine.stop();
      await link.close();
    });
    const chain = makeChain(gw, 20);
    for (const [i, b] of chain.entries()) await outbox.enqueue(Outbox.item('bundle', i + 1, b.cose));
    engine.start();
    await eventually(() => outbox.size === 0, 20_000, 'all acked');
    expect(link.protocol).toBe(kind === 'mosquitto' ? 5 : 4);
    const report = await chainReport(regional.store, gw.id);
    expect(report.seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(report.continuous).toBe(true);
    expect((await db.bundles.find({ selector: { syncState: 'acked' } }).exec()).length).toBe(20);
  });

  it.skipIf(skip)(
    'keeps the session: an ack sent while the gateway is away arrives when it returns',
    async () => {
      const { gw, transport, credentials } = await setUp(
        kind,
        `gw-session-${kind === 'mosquitto' ? 'm' : 'a'}`,
      );
      const options = {
        url: transport.brokerUrl,
        gatewayId: gw.id,
        regionalPublicKey: testRegionalPublicKey,
        credentials,
        reconnectPeriodMs: 100,
      };
      const first = new MqttLink(options).start();
      await eventually(() => first.isUp(), 5000, 'first connection');
      // Let the SUBSCRIBE of the ack topic land before leaving.
      await new Promise((r) => setTimeout(r, 200));
      await first.close();

      const [bundle] = makeChain(gw, 1);
      const item = Outbox.item('bundle', 1, bundle!.cose);
      const other = await mqtt.connectAsync(transport.brokerUrl, {
        ...credentials,
        clientId: `stand-in-${gw.id}`,
        reconnectPeriod: 0,
      });
      await other.publishAsync(upTopic(gw.id, 'bundle'), Buffer.from(bundle!.cose), { qos: 1 });
      await other.endAsync();
      await new Promise((r) => setTimeout(r, 300));

      const acks: LinkAck[] = [];
      const second = new MqttLink(options);
      second.onAck((a) => acks.push(a));
      second.start();
      cleanups.push(() => second.close());
      await eventually(() => acks.length > 0, 5000, 'queued ack delivered');
      expect(acks[0]).toMatchObject({ digest: item.digest, status: 'accepted' });
    },
  );

  it.skipIf(skip)('refuses wrong credentials with a typed error on the regional side', async () => {
    const { transport } = await setUp(kind, `gw-creds-${kind === 'mosquitto' ? 'm' : 'a'}`);
    const regional = await openRegional([]);
    cleanups.push(() => regional.close());
    const err = await startRegionalTransport({
      node: regional.node,
      acks: testAckSigner,
      brokerUrl: transport.brokerUrl,
      credentials: { username: USER, password: 'wrong' },
      protocolVersion: 4,
    }).catch((e: unknown) => e);
    expect(isMaverickError(err)).toBe(true);
  });
});
