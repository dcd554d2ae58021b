import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { publicKeyToPem } from '../../proto/bundle/pem.js';
import { initSetup } from '../config/setup.js';
import type { StatusSnapshot } from '../metrics/metrics.js';
import { Metrics } from '../metrics/metrics.js';
import { formatReport, runDoctor, sniffSemtechUpstream } from './index.js';
import { listenForForwarder } from './radio-probes.js';
import type { CommandRunner, DoctorOptions } from './types.js';

const profile = resolve(
  import.meta.dirname,
  '..',
  '..',
  'hardware',
  'packet-forwarder',
  'rak2287-eu868.json',
);

/** A free port on loopback: bind 0, read it, release it. */
async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function pushData(eui: string): Buffer {
  return Buffer.concat([
    Buffer.from([2, 0x12, 0x34, 0x00]),
    Buffer.from(eui, 'hex'),
    Buffer.from('{"rxpk":[]}'),
  ]);
}

/** A host where nothing runs: pgrep finds nothing, the unit is inactive, NTP unsynchronised. */
const idleHost: CommandRunner = async (command) => {
  if (command === 'pgrep') return { kind: 'exited', code: 1, stdout: '', stderr: '' };
  if (command === 'systemctl') return { kind: 'exited', code: 3, stdout: 'inactive\n', stderr: '' };
  if (command === 'timedatectl') return { kind: 'exited', code: 0, stdout: 'no\n', stderr: '' };
  return { kind: 'missing' };
};

let dataDir: string;
let closers: (() => Promise<void> | void)[] = [];
let udpPort: number;
let mqttPort: number;
let metricsPort: number;

function editConfig(change: (text: string) => string): void {
  const file = join(dataDir, 'maverick.toml');
  writeFileSync(file, change(readFileSync(file, 'utf8')));
}

beforeEach(async () => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'maverick-doctor-')), 'gw');
  await initSetup({ dataDir, gatewayId: 'b827ebfffe000001', mqttPassword: 'pw' });
  [udpPort, mqttPort, metricsPort] = [await freePort('udp'), await freePort('tcp'), await freePort('tcp')];
  editConfig((t) =>
    t
      .replace('bind = "127.0.0.1:1700"', `bind = "127.0.0.1:${udpPort}"`)
      .replace('port = 1883', `port = ${mqttPort}`)
      .replace('bind = "127.0.0.1:8868"', `bind = "127.0.0.1:${metricsPort}"`),
  );
});

afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
  rmSync(resolve(dataDir, '..'), { recursive: true, force: true });
});

const base = (extra: Partial<DoctorOptions> = {}): DoctorOptions => ({
  dataDir,
  listenMs: 300,
  probeTimeoutMs: 500,
  runCommand: idleHost,
  forwarderConfPath: join(dataDir, 'no-such-global_conf.json'),
  // A host whose rmem_max allows the default 8 MiB UDP buffer, unless a test says otherwise.
  readProcFile: (path) => (path === '/proc/sys/net/core/rmem_max' ? '16777216\n' : undefined),
  ...extra,
});

const byId = (report: Awaited<ReturnType<typeof runDoctor>>, id: string) =>
  report.checks.find((c) => c.id === id);

describe('doctor on a fresh setup with nothing running', () => {
  it('names each missing piece with a fix and fails', async () => {
    const report = await runDoctor(base());
    expect(report.ok).toBe(false);
    expect(byId(report, 'config')?.status).toBe('ok');
    expect(byId(report, 'concentrator:semtech-udp')).toMatchObject({ status: 'fail' });
    expect(byId(report, 'concentrator:semtech-udp')?.fix).toContain('lora-pkt-fwd');
    expect(byId(report, 'forwarder')).toMatchObject({
      status: 'fail',
      finding: expect.stringContaining('inactive'),
    });
    expect(byId(report, 'forwarder-config')).toMatchObject({ status: 'warn' });
    expect(byId(report, 'clock')).toMatchObject({
      status: 'warn',
      finding: expect.stringContaining('unsynchronised host clock'),
    });
    expect(byId(report, 'broker')).toMatchObject({
      status: 'fail',
      finding: expect.stringContaining(`${mqttPort}`),
    });
    expect(byId(report, 'keys')?.status).toBe('ok');
    expect(byId(report, 'disk')?.status).toBe('ok');
    expect(byId(report, 'regional')?.status).toBe('warn');
    for (const check of report.checks.filter((c) => c.status !== 'ok'))
      expect(check.fix, check.id).toBeTruthy();
    const text = formatReport(report);
    expect(text).toMatch(/FAIL\s+broker/);
    expect(text).toContain('fix: ');
    expect(text).toMatch(/\d+ failing, \d+ warnings/);
  });

  it('reports a bad config value by field and does not pretend to check the rest', async () => {
    editConfig((t) => t.replace(`port = ${mqttPort}`, 'port = 70000'));
    const report = await runDoctor(base());
    expect(byId(report, 'config')).toMatchObject({
      status: 'fail',
      finding: expect.stringContaining('mqtt.port: 70000 is not allowed: an integer 1..65535'),
    });
    expect(byId(report, 'broker')?.finding).toMatch(/not checked/);
    expect(report.ok).toBe(false);
  });

  it('fails a regional url without the regional node key, which the gateway needs to trust any ack', async () => {
    editConfig((t) =>
      t.replace('# url = "mqtts://regional.example.org:8883"', 'url = "mqtts://regional.example.org:8883"'),
    );
    const report = await runDoctor(base());
    expect(byId(report, 'regional')).toMatchObject({
      status: 'fail',
      finding: expect.stringContaining('without regional.node_key'),
      fix: expect.stringContaining('node_key = "regional-node.pub"'),
    });
  });

  it('flags a secret file that others can read, with the chmod to fix it', async () => {
    const keyFile = readdirSync(join(dataDir, 'keys')).find((f) => f.endsWith('.key')) as string;
    chmodSync(join(dataDir, 'keys', keyFile), 0o644);
    const report = await runDoctor(base());
    expect(byId(report, 'keys')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`chmod 600 ${join(dataDir, 'keys', keyFile)}`),
    });
  });

  it('flags a console password hash that others can read', async () => {
    chmodSync(join(dataDir, 'console-password'), 0o644);
    const report = await runDoctor(base());
    expect(byId(report, 'keys')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`chmod 600 ${join(dataDir, 'console-password')}`),
    });
  });
});

describe('doctor when things work', () => {
  it('passes with a forwarder sending, a broker listening, NTP and a regional url', async () => {
    const broker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => broker.listen(mqttPort, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => broker.close(() => r())));
    editConfig((t) =>
      t
        .replace('# url = "mqtts://regional.example.org:8883"', 'url = "mqtts://regional.example.org:8883"')
        .replace('# node_key = "regional-node.pub"', 'node_key = "regional-node.pub"'),
    );
    writeFileSync(join(dataDir, 'regional-node.pub'), publicKeyToPem(publicKeyOf(randomSecretKey())));
    const conf = JSON.parse(readFileSync(profile, 'utf8'));
    conf.gateway_conf.gateway_ID = 'B827EBFFFE000001';
    conf.gateway_conf.serv_port_up = udpPort;
    conf.gateway_conf.serv_port_down = udpPort;
    const confPath = join(dataDir, 'global_conf.json');
    writeFileSync(confPath, `/* installed */\n${JSON.stringify(conf)}`);
    const forwarder = createSocket('udp4');
    closers.push(() => {
      forwarder.close();
    });
    const timer = setInterval(() => forwarder.send(pushData('b827ebfffe000001'), udpPort, '127.0.0.1'), 50);
    closers.push(() => clearInterval(timer));
    const host: CommandRunner = async (command) =>
      command === 'pgrep'
        ? { kind: 'exited', code: 0, stdout: '4242\n', stderr: '' }
        : command === 'timedatectl'
          ? { kind: 'exited', code: 0, stdout: 'yes\n', stderr: '' }
          : { kind: 'missing' };
    const report = await runDoctor(base({ runCommand: host, forwarderConfPath: confPath }));
    expect(byId(report, 'concentrator:semtech-udp')).toMatchObject({
      status: 'ok',
      finding: expect.stringContaining('b827ebfffe000001'),
    });
    expect(byId(report, 'forwarder')).toMatchObject({
      status: 'ok',
      finding: expect.stringContaining('4242'),
    });
    expect(byId(report, 'forwarder-config')?.status).toBe('ok');
    expect(byId(report, 'clock')).toMatchObject({ status: 'ok', finding: 'host clock synchronised by NTP' });
    expect(byId(report, 'broker')?.status).toBe('ok');
    expect(byId(report, 'regional')?.status).toBe('ok');
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('asks a running gateway instead of probing the radio, and takes GPS time from it', async () => {
    const metrics = new Metrics({ gatewayId: 'b827ebfffe000001' });
    metrics.setRadioBackendState('semtech-udp', 'up');
    metrics.uplinkReceived({ backend: 'semtech-udp' });
    metrics.setClockSource('gps', '2026-11-21T10:00:00Z');
    const status: StatusSnapshot = metrics.snapshot();
    let asked = '';
    const report = await runDoctor(
      base({
        fetchStatus: async (url) => {
          asked = url;
          return status;
        },
      }),
    );
    expect(asked).toBe(`http://127.0.0.1:${metricsPort}/status`);
    expect(byId(report, 'gateway')?.status).toBe('ok');
    expect(byId(report, 'concentrator:semtech-udp')).toMatchObject({
      status: 'ok',
      finding: expect.stringContaining('1 uplinks'),
    });
    expect(byId(report, 'clock')).toMatchObject({ status: 'ok', finding: expect.stringContaining('GPS') });
  });

  it('fails a forwarder config that sends elsewhere', async () => {
    const conf = JSON.parse(readFileSync(profile, 'utf8'));
    conf.gateway_conf.server_address = 'eu1.cloud.thethings.network';
    const confPath = join(dataDir, 'global_conf.json');
    writeFileSync(confPath, JSON.stringify(conf));
    const report = await runDoctor(base({ forwarderConfPath: confPath }));
    expect(byId(report, 'forwarder-config')).toMatchObject({
      status: 'fail',
      finding: expect.stringContaining('server_address'),
    });
  });
});

describe('UDP receive buffer check', () => {
  it('warns when net.core.rmem_max caps the Semtech socket below what it asks, with the sysctl line', async () => {
    const report = await runDoctor(base({ readProcFile: () => '212992\n' }));
    expect(byId(report, 'udp-buffer')).toMatchObject({
      status: 'warn',
      finding: expect.stringContaining('212992 bytes, below the 8388608 bytes'),
      fix: expect.stringContaining("net.core.rmem_max = 8388608' | sudo tee /etc/sysctl.d/60-maverick.conf"),
    });
  });

  it('follows receive_buffer_kb from the config, and says so when rmem_max cannot be read', async () => {
    editConfig((t) => t.replace('receive_buffer_kb = 8192', 'receive_buffer_kb = 128'));
    const allowed = await runDoctor(base({ readProcFile: () => '212992\n' }));
    expect(byId(allowed, 'udp-buffer')).toMatchObject({ status: 'ok' });
    const unknown = await runDoctor(base({ readProcFile: () => undefined }));
    expect(byId(unknown, 'udp-buffer')).toMatchObject({
      status: 'warn',
      finding: expect.stringContaining('cannot read /proc/sys/net/core/rmem_max'),
    });
  });

  it('is not run when the Semtech UDP backend is not configured', async () => {
    editConfig((t) =>
      t.replace(/backend = .*/, 'backend = "serial"').replace(/# path = .*/, 'path = "/dev/null-serial"'),
    );
    const report = await runDoctor(base({ serialProbe: async () => ({ kind: 'silent' }) }));
    expect(byId(report, 'config')?.status).toBe('ok');
    expect(byId(report, 'udp-buffer')).toBeUndefined();
  });
});

describe('serial concentrator checks', () => {
  beforeEach(() => {
    editConfig((t) => t.replace('backend = "semtech-udp"', 'backend = "serial"'));
  });

  it('a missing device is named with the udev fix', async () => {
    editConfig((t) =>
      t.replace('# path = "/dev/maverick-concentrator"', 'path = "/dev/maverick-test-absent"'),
    );
    const report = await runDoctor(base());
    expect(byId(report, 'concentrator:serial')).toMatchObject({
      status: 'fail',
      finding: 'no serial concentrator at /dev/maverick-test-absent',
    });
    expect(byId(report, 'concentrator:serial')?.fix).toContain('99-maverick.rules');
    expect(byId(report, 'forwarder')).toBeUndefined();
  });

  it('a present device is asked for HELLO', async () => {
    editConfig((t) => t.replace('# path = "/dev/maverick-concentrator"', 'path = "/dev/null"'));
    const hello = await runDoctor(
      base({ serialProbe: async () => ({ kind: 'hello', firmware: '1.2.3', protocolVersion: 1 }) }),
    );
    expect(byId(hello, 'concentrator:serial')).toMatchObject({
      status: 'ok',
      finding: expect.stringContaining('firmware 1.2.3'),
    });
    const silent = await runDoctor(base({ serialProbe: async () => ({ kind: 'silent' }) }));
    expect(byId(silent, 'concentrator:serial')).toMatchObject({
      status: 'fail',
      finding: expect.stringContaining('did not answer HELLO'),
    });
  });
});

describe('Semtech upstream sniffing', () => {
  it('recognises PUSH_DATA and PULL_DATA and reads the gateway EUI', () => {
    expect(sniffSemtechUpstream(pushData('0102030405060708'))).toEqual({
      identifier: 'PUSH_DATA',
      gatewayEui: '0102030405060708',
    });
    const pull = Buffer.from([1, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sniffSemtechUpstream(pull)?.identifier).toBe('PULL_DATA');
    expect(sniffSemtechUpstream(Buffer.from([2, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]))).toBeUndefined();
    expect(sniffSemtechUpstream(Buffer.from([2, 0, 0, 0]))).toBeUndefined();
  });

  it('never throws on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = sniffSemtechUpstream(bytes);
        if (result) expect(result.gatewayEui).toMatch(/^[0-9a-f]{16}$/);
      }),
      { numRuns: 20000 },
    );
  });

  it('counts non-Semtech datagrams apart while listening', async () => {
    const port = await freePort('udp');
    const client = createSocket('udp4');
    closers.push(() => {
      client.close();
    });
    const listening = listenForForwarder('127.0.0.1', port, 300);
    setTimeout(() => client.send(Buffer.from('hello'), port, '127.0.0.1'), 50);
    expect(await listening).toEqual({ kind: 'silent', otherDatagrams: 1 });
  });
});
