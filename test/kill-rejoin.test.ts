/**
 * kill -9 during a rejoin: a real `maverick run` process takes an OTAA device's uplinks over
 * loopback UDP (the packet-forwarder emulator) and publishes them on its embedded broker; the
 * device rejoins, and the gateway is SIGKILLed in the middle of it (once right after the join
 * accept went out, once right after the new session's first uplink was published). After
 * each restart every uplink a real MQTT client saw published before the kill is in the store,
 * and the device carries on in its new session without joining again.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initSetup } from '../gateway/config/index.js';
import { openGatewayDatabase } from '../gateway/store-access.js';
import { RxdbNetworkRepository } from '../kernel/db/network-repository.js';
import { addDevice } from '../kernel/ns/registry.js';
import { TestDevice } from '../kernel/ns/test-device.test-helpers.js';
import { EVENT_FILTER } from '../proto/mqtt/topics.js';
import { type ForwarderDownlink, PacketForwarderEmulator } from '../simulator/packet-forwarder.js';
import { type CliProcess, spawnCli } from './helpers/cli.js';
import { waitUntil } from './helpers/e2e-field.js';

const GATEWAY = 'b827ebfffe000002';
const DEVICE = {
  devEui: '70b3d57ed0000301',
  joinEui: '70b3d57ed0000000',
  appKey: '3c4fcf098815f7aba6d2ae2816157e2b',
};
const meta = { frequencyHz: 868_100_000, dataRate: 'SF7BW125', rssi: -60, snr: 9 };

let root: string;
let dir: string;
let running: CliProcess | undefined;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'maverick-kill-rejoin-'));
  dir = join(root, 'gw');
  await initSetup({ dataDir: dir, gatewayId: GATEWAY, mqttPassword: 'kill-rejoin-secret' });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.done;
  }
  running = undefined;
  rmSync(root, { recursive: true, force: true });
});

async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const { port } = s.address();
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface Published {
  devAddr: string;
  fCnt: number;
}

describe('kill -9 during a rejoin', () => {
  it('keeps every uplink published before each kill, and the new session after the restart', async () => {
    const [udpPort, metricsPort, mqttPort] = [
      await freePort('udp'),
      await freePort('tcp'),
      await freePort('tcp'),
    ];
    const file = join(dir, 'maverick.toml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('bind = "127.0.0.1:8868"', `bind = "127.0.0.1:${metricsPort}"`)
        .replace('port = 1883', `port = ${mqttPort}`),
    );
    const setupDb = await openGatewayDatabase(dir);
    const setupRepo = await RxdbNetworkRepository.open(setupDb);
    await addDevice(setupRepo, {
      devEui: DEVICE.devEui,
      name: 'rejoiner',
      applicationId: 'farm',
      activation: { mode: 'otaa', joinEui: DEVICE.joinEui, appKey: DEVICE.appKey },
    });
    await setupRepo.close();
    await setupDb.close();

    const published: Published[] = [];
    let forwarder: PacketForwarderEmulator | undefined;
    let client: MqttClient | undefined;
    const downlinks: ForwarderDownlink[] = [];
    const start = async () => {
      running = spawnCli(['run', '--data-dir', dir, '--udp-bind', `127.0.0.1:${udpPort}`], {
        timeoutMs: 120_000,
      });
      await running.waitFor(/maverick running: gateway b827ebfffe000002/, 45_000);
      client = await mqtt.connectAsync(
        `mqtt://127.0.0.1:${mqttPort}`,
        { username: 'maverick', password: 'kill-rejoin-secret', reconnectPeriod: 0, connectTimeout: 5_000 },
        false,
      );
      const own = client;
      closers.push(() => own.endAsync(true));
      await client.subscribeAsync(EVENT_FILTER, { qos: 0 });
      client.on('message', (topic, payload) => {
        if (!topic.endsWith('/event/up')) return;
        const json = JSON.parse(payload.toString()) as Published;
        published.push({ devAddr: json.devAddr, fCnt: json.fCnt });
      });
      forwarder = new PacketForwarderEmulator({ port: udpPort, gatewayEui: GATEWAY, ackTimeoutMs: 2_000 });
      await forwarder.start();
      const own2 = forwarder;
      closers.push(() => own2.stop());
      forwarder.on('downlink', (d) => downlinks.push(d));
      expect(await forwarder.pullData()).toBe(true);
    };
    const kill = async () => {
      running?.child.kill('SIGKILL');
      await running?.done;
      await client?.endAsync(true);
      await forwarder?.stop();
    };
    const device = new TestDevice(DEVICE.devEui, DEVICE.joinEui, DEVICE.appKey);
    const uplink = async () => {
      const before = published.length;
      await forwarder?.sendUplinks([
        { phyPayload: device.uplink({ payload: Uint8Array.of(device.fCntUp) }), meta },
      ]);
      await waitUntil(() => published.length > before, 15_000, 'the up event');
    };
    const rejoin = async () => {
      const before = downlinks.length;
      await forwarder?.sendUplinks([{ phyPayload: device.joinRequest(), meta }]);
      await waitUntil(() => downlinks.length > before, 15_000, 'the join accept');
      device.acceptJoin((downlinks[downlinks.length - 1] as ForwarderDownlink).txpk.phyPayload);
    };
    const storedAfterRestart = async (): Promise<Set<string>> => {
      const db = await openGatewayDatabase(dir);
      try {
        return new Set((await db.uplinks.find().exec()).map((u) => `${u.devAddr}/${u.fCnt}`));
      } finally {
        await db.close();
      }
    };

    await start();
    await rejoin();
    for (let i = 0; i < 3; i++) await uplink();

    // Round 1: the device rejoins; the gateway dies right after its join accept went out.
    await rejoin();
    await kill();
    let stored = await storedAfterRestart();
    for (const p of published) expect(stored.has(`${p.devAddr}/${p.fCnt}`)).toBe(true);
    await start();
    // The new session came back from the store: FCnt 0 of it is a new uplink, no rejoin needed.
    for (let i = 0; i < 2; i++) await uplink();

    // Round 2: another rejoin; the gateway dies right after the new session's first uplink was published.
    await rejoin();
    await uplink();
    await kill();
    stored = await storedAfterRestart();
    for (const p of published) expect(stored.has(`${p.devAddr}/${p.fCnt}`)).toBe(true);
    await start();
    await uplink();
    await kill();

    // Three sessions, FCnt 0.. each, every one stored once: 3 + 2 + 2 uplinks.
    stored = await storedAfterRestart();
    expect(published).toHaveLength(7);
    expect(stored.size).toBe(7);
    expect(published.map((p) => p.fCnt)).toEqual([0, 1, 2, 0, 1, 0, 1]);
  });
});
