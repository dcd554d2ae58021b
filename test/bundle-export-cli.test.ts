/**
 * Issue 5, acceptance 1, end to end: uplinks that really went through the
 * gateway (Semtech UDP → network server → store) are sealed by
 * `maverick bundle seal`, taken out with `maverick bundle export`, and the
 * exported bytes verify with the independent Python verifier (Debian's
 * python3-cbor2 + python3-cryptography), with the npm COSE library
 * @auth0/cose, and with `maverick bundle verify`.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sign1 } from '@auth0/cose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../gateway/config/index.js';
import { SemtechUdpBackend } from '../gateway/radio/semtech-udp.js';
import { startGatewayRuntime } from '../gateway/runtime.js';
import { countUplinks } from '../kernel/db/uplink-queries.js';
import { SimulatedDevice } from '../simulator/device.js';
import { PacketForwarderEmulator } from '../simulator/packet-forwarder.js';
import { encodeCayenneLpp } from '../simulator/payloads.js';
import { runCli } from './helpers/cli.js';

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const verifier = join(import.meta.dirname, 'fixtures', 'verify_bundle.py');

let root: string;
let dataDir: string;
const devEui = '70b3d57ed0001234';
const keys = {
  devAddr: '26011bda',
  nwkSKey: '000102030405060708090a0b0c0d0e0f',
  appSKey: '0f0e0d0c0b0a09080706050403020100',
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'maverick-export-'));
  dataDir = join(root, 'gw');
  expect((await runCli(['init', '--data-dir', dataDir, '--mqtt-password', 'secret-pass'])).code).toBe(0);
  const add = await runCli([
    'device',
    'add',
    '--data-dir',
    dataDir,
    '--dev-eui',
    devEui,
    '--dev-addr',
    keys.devAddr,
    '--nwk-s-key',
    keys.nwkSKey,
    '--app-s-key',
    keys.appSKey,
    '--codec',
    'cayenne-lpp',
    '--name',
    'soil-probe-1',
  ]);
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);

  // Five uplinks through the real gateway runtime.
  const config = loadConfig(dataDir);
  const radio = new SemtechUdpBackend({ host: '127.0.0.1', port: 0 });
  const runtime = await startGatewayRuntime({
    dataDir,
    gatewayId: config.gateway.id,
    regionId: 'EU868',
    radios: [radio],
    mqtt: { kind: 'embedded', host: '127.0.0.1', port: 0, username: 'maverick', password: 'secret-pass' },
    dedupWindowMs: 10,
  });
  const forwarder = new PacketForwarderEmulator({
    host: '127.0.0.1',
    port: radio.address().port,
    gatewayEui: config.gateway.id,
  });
  try {
    await forwarder.start();
    const device = new SimulatedDevice({
      identity: {
        activation: 'abp',
        devEui,
        devAddr: keys.devAddr,
        nwkSKey: Buffer.from(keys.nwkSKey, 'hex'),
        appSKey: Buffer.from(keys.appSKey, 'hex'),
      },
      region: 'EU868',
      seed: 7,
    });
    for (let i = 0; i < 5; i++) {
      const payload = encodeCayenneLpp([
        { channel: 1, kind: 'temperature', value: 20 + i / 10 },
        { channel: 2, kind: 'humidity', value: 40 + i },
      ]);
      const phy = device.uplink({ fPort: 2, payload, confirmed: false });
      await forwarder.sendUplink(phy, {
        frequencyHz: 868_100_000,
        dataRate: 'SF7BW125',
        rssi: -70,
        snr: 8,
        gpsTime: true,
      });
    }
    const deadline = Date.now() + 15_000;
    while ((await countUplinks(runtime.db)) < 5 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await countUplinks(runtime.db)).toBe(5);
  } finally {
    await forwarder.stop();
    await runtime.stop();
  }
}, 90_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('maverick bundle seal | export | verify', () => {
  it('seals the stored uplinks, exports the exact bytes, and independent verifiers accept them', async () => {
    const seal = await runCli(['bundle', 'seal', '--data-dir', dataDir, '--json']);
    expect(seal.code).toBe(0);
    const sealed = JSON.parse(seal.stdout) as { seq: number; uplinks: number }[];
    expect(sealed).toEqual([expect.objectContaining({ seq: 1, uplinks: 5 })]);
    // Nothing left: a second seal makes no bundle.
    expect(JSON.parse((await runCli(['bundle', 'seal', '--data-dir', dataDir, '--json'])).stdout)).toEqual(
      [],
    );

    const out = join(root, 'bundle-1.cbor');
    const exp = await runCli(['bundle', 'export', '--data-dir', dataDir, '--out', out, '--seq', '1']);
    expect(exp.code).toBe(0);
    const pem = join(root, 'gateway.pem');
    expect((await runCli(['keys', 'export-public', '--data-dir', dataDir, '--out', pem])).code).toBe(0);

    const py = spawnSync(python, [verifier, out, pem], { encoding: 'utf8', timeout: 30_000 });
    expect(py.stderr).toBe('');
    expect(py.status).toBe(0);
    expect(JSON.parse(py.stdout)).toMatchObject({ valid: true });

    // The npm COSE library, with nothing of ours but the PEM file.
    const message = Sign1.decode(await readFile(out));
    await expect(message.verify(createPublicKey(await readFile(pem, 'utf8')))).resolves.toBeUndefined();

    const verify = await runCli(['bundle', 'verify', out, '--pub', pem, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true });

    const missing = await runCli(['bundle', 'export', '--data-dir', dataDir, '--out', out, '--seq', '9']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no bundle with sequence number 9');
  }, 120_000);
});
