/**
 * Attack 7 of the hardening issue (secrets in logs): the regional broker
 * password used to be logged in clear (the regional URL, on the MQTT 5 → 3.1.1
 * fallback). This runs the real gateway end to end at log level trace — a
 * regional broker that needs a password and speaks only MQTT 3.1.1, an OTAA
 * join, ABP uplinks (one confirmed), failed and good local broker logins,
 * `bundle seal`, `status`, `device list` — and greps every line the processes
 * wrote for every configured secret: the local broker password, the regional
 * password, the AppKey, the NwkSKey and AppSKey, the status token and the
 * gateway's private key.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { initSetup } from '../../gateway/config/index.js';
import { readStatusToken } from '../../gateway/status/token.js';
import { withGatewayStore } from '../../gateway/store-access.js';
import { addDevice } from '../../kernel/ns/registry.js';
import { EmbeddedRegionalBroker } from '../../regional/transport/embedded-broker.js';
import { type ForwarderDownlink, PacketForwarderEmulator } from '../../simulator/packet-forwarder.js';
import { type CliProcess, runCli, spawnCli } from '../helpers/cli.js';
import { waitUntil } from '../helpers/e2e-field.js';
import { freeTcpPort, freeUdpPort, useFreePorts } from '../helpers/ports.js';
import { writeTestRegionalPublicKey } from '../helpers/regional-ack-key.js';
import { abpDevice, otaaDevice } from './devices.js';

const GATEWAY = 'b827ebfffe0000d1';
const MQTT_SECRET = 'local-broker-secret-4711';
const REGIONAL_SECRET = 'regional-broker-secret-0815';
const OTAA = {
  devEui: '0102030405060711',
  joinEui: '70b3d57ed0000000',
  appKey: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
};
const ABP = {
  devEui: '0102030405060712',
  devAddr: '01000012',
  nwkSKey: '11223344556677881122334455667788',
  appSKey: '99aabbccddeeff0099aabbccddeeff00',
};
const META = { frequencyHz: 868_100_000, dataRate: 'SF7BW125', rssi: -80, snr: 6 } as const;

const root = mkdtempSync(join(tmpdir(), 'maverick-logs-'));
let gateway: CliProcess | undefined;
afterAll(async () => {
  if (gateway && gateway.child.exitCode === null) {
    gateway.child.kill('SIGKILL');
    await gateway.done;
  }
  rmSync(root, { recursive: true, force: true });
});

describe('no secret in any log line', () => {
  it('the gateway and the CLI log none of the configured secrets, even at trace level', async () => {
    const dataDir = join(root, 'gw');
    await initSetup({
      dataDir,
      gatewayId: GATEWAY,
      mqttPassword: MQTT_SECRET,
      // The regional link trusts no ack without the regional node's public key.
      regionalNodeKey: writeTestRegionalPublicKey(root),
    });
    const mqttPort = await freeTcpPort();
    useFreePorts(dataDir, { metricsPort: await freeTcpPort(), mqttPort });
    await withGatewayStore(dataDir, async (_db, repository) => {
      const base = {
        applicationId: 'farm',
        regionId: 'EU868' as const,
        codec: { kind: 'cayenne-lpp' as const },
      };
      await addDevice(repository, {
        ...base,
        devEui: OTAA.devEui,
        name: 'otaa',
        activation: { mode: 'otaa', joinEui: OTAA.joinEui, appKey: OTAA.appKey },
      });
      await addDevice(repository, {
        ...base,
        devEui: ABP.devEui,
        name: 'abp',
        activation: { mode: 'abp', devAddr: ABP.devAddr, nwkSKey: ABP.nwkSKey, appSKey: ABP.appSKey },
      });
    });
    const regional = await EmbeddedRegionalBroker.start({
      port: 0,
      credentials: { username: 'gw', password: REGIONAL_SECRET },
    });
    const udpPort = await freeUdpPort();
    const env = { MAVERICK_LOG_LEVEL: 'trace' };
    const outputs: string[] = [];
    try {
      gateway = spawnCli(
        [
          'run',
          '--data-dir',
          dataDir,
          '--udp-bind',
          `127.0.0.1:${udpPort}`,
          '--regional-url',
          `mqtt://gw:${REGIONAL_SECRET}@127.0.0.1:${regional.port}`,
        ],
        { timeoutMs: 170_000, env },
      );
      await gateway.waitFor(/maverick running/, 60_000);
      // The path that used to leak: the regional link falls back from MQTT 5 and logs the URL.
      await gateway.waitFor(/using MQTT 3\.1\.1/, 30_000);

      const forwarder = new PacketForwarderEmulator({
        host: '127.0.0.1',
        port: udpPort,
        gatewayEui: GATEWAY,
      });
      const downlinks: ForwarderDownlink[] = [];
      forwarder.on('downlink', (d) => downlinks.push(d));
      await forwarder.start();
      try {
        const otaa = otaaDevice(OTAA);
        await forwarder.sendUplink(otaa.joinRequest(), META);
        await waitUntil(() => downlinks.length === 1, 20_000, 'the join accept');
        const abp = abpDevice(ABP);
        await forwarder.sendUplink(
          abp.uplink({ fPort: 2, payload: new Uint8Array([1, 103, 0, 215]), confirmed: true }),
          META,
        );
        await waitUntil(() => downlinks.length === 2, 20_000, 'the ACK');
      } finally {
        await forwarder.stop();
      }

      // A wrong password and the right one on the local broker.
      const wrong = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: 'maverick',
          password: 'not-the-password',
          reconnectPeriod: 0,
        })
        .then(
          (c) => c.endAsync(true).then(() => 'accepted'),
          () => 'refused',
        );
      expect(wrong).toBe('refused');
      const good = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
        username: 'maverick',
        password: MQTT_SECRET,
        reconnectPeriod: 0,
      });
      await good.endAsync(true);

      for (const args of [['bundle', 'seal'], ['status'], ['device', 'list', '--json'], ['doctor']]) {
        const r = await runCli([...args, '--data-dir', dataDir], { timeoutMs: 60_000, env });
        outputs.push(r.stdout, r.stderr);
      }
      gateway.child.kill('SIGTERM');
      const done = await gateway.done;
      outputs.push(done.stdout, done.stderr);
    } finally {
      await regional.close();
    }

    const all = outputs.join('\n');
    // Sanity: the logs are there, at trace level (and below, they name the regional URL, redacted).
    expect(all.split('\n').length).toBeGreaterThan(50);
    const privateKeyFile = readdirSync(join(dataDir, 'keys')).find((f) => f.endsWith('.key')) as string;
    const privateKey = readFileSync(join(dataDir, 'keys', privateKeyFile), 'utf8').split('\n')[1] as string;
    const secrets: Record<string, string> = {
      'local broker password': MQTT_SECRET,
      'regional broker password': REGIONAL_SECRET,
      AppKey: OTAA.appKey,
      NwkSKey: ABP.nwkSKey,
      AppSKey: ABP.appSKey,
      'status token': readStatusToken(dataDir) as string,
      'gateway private key': privateKey,
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, name).toBeGreaterThan(8);
      expect(all.toLowerCase().includes(secret.toLowerCase()), `${name} appears in the logs`).toBe(false);
      expect(
        all.includes(Buffer.from(secret, 'utf8').toString('base64')),
        `${name} (base64) appears in the logs`,
      ).toBe(false);
    }
  }, 180_000);
});
