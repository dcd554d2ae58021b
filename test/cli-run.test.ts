/**
 * `maverick run`: flags over the file (in-process), then the real process on
 * loopback: a forwarder's PUSH_DATA is acknowledged and counted, `doctor`
 * reads the running gateway's status, and SIGTERM stops it cleanly.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../cli/commands/run.js';
import { initSetup } from '../gateway/config/index.js';
import { ErrorCode, isMaverickError, type MaverickError } from '../proto/errors.js';
import { type CliProcess, runCli, spawnCli } from './helpers/cli.js';
import { freePort, useFreePorts } from './helpers/ports.js';

let root: string;
let dir: string;
let running: CliProcess | undefined;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'maverick-cli-run-'));
  dir = join(root, 'gw');
  await initSetup({ dataDir: dir, gatewayId: 'b827ebfffe000002', mqttPassword: 'pw' });
});

afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.done;
  }
  running = undefined;
  rmSync(root, { recursive: true, force: true });
});

describe('resolveRunConfig', () => {
  it('lets flags override the file', async () => {
    const config = await resolveRunConfig({
      dataDir: dir,
      udpBind: '0.0.0.0:1701',
      mqttPort: '2883',
      regionalUrl: 'mqtts://regional.example:8883',
    });
    expect(config.radio.udp.bind).toEqual({ host: '0.0.0.0', port: 1701 });
    expect(config.mqtt.port).toBe(2883);
    expect(config.regional.url).toBe('mqtts://regional.example:8883');
    expect(config.radio.backend).toEqual(['semtech-udp']);
    expect((await resolveRunConfig({ dataDir: dir, metricsBind: '127.0.0.1:9200' })).metrics.bind).toEqual({
      host: '127.0.0.1',
      port: 9200,
    });
  });

  it("defaults metrics to 127.0.0.1:8868, not node_exporter's 9100", async () => {
    expect((await resolveRunConfig({ dataDir: dir })).metrics.bind).toEqual({
      host: '127.0.0.1',
      port: 8868,
    });
  });

  it('--serial switches to the serial backend, with --udp-bind both run', async () => {
    expect(
      (await resolveRunConfig({ dataDir: dir, serial: '/dev/ttyACM0', baud: '57600' })).radio,
    ).toMatchObject({
      backend: ['serial'],
      serial: { path: '/dev/ttyACM0', baud: 57600 },
    });
    expect(
      (await resolveRunConfig({ dataDir: dir, serial: '/dev/ttyACM0', udpBind: '127.0.0.1:1700' })).radio
        .backend,
    ).toEqual(['semtech-udp', 'serial']);
  });

  it('names the field and says a flag set it (the error crosses back from the loading thread whole)', async () => {
    for (const [flags, text] of [
      [
        { mqttPort: '99999' },
        'mqtt.port: 99999 is not allowed (set by a command-line flag): an integer 1..65535',
      ],
      [
        { serial: '/dev/x', baud: 'fast' },
        'radio.serial.baud: "fast" is not allowed (set by a command-line flag)',
      ],
      [
        { udpBind: 'localhost' },
        'radio.udp.bind: "localhost" is not allowed (set by a command-line flag): HOST:PORT',
      ],
      [
        { regionalUrl: 'http://x' },
        'regional.url: "http://x" is not allowed (set by a command-line flag): a URL starting with mqtt://',
      ],
    ] as const) {
      const err = await resolveRunConfig({ dataDir: dir, ...flags }).catch((e: unknown) => e);
      expect(isMaverickError(err, ErrorCode.ConfigInvalid)).toBe(true);
      expect((err as Error).message).toContain(text);
      // The hint and the problems' paths survive the thread boundary too.
      expect((err as MaverickError).hint).toMatch(/^edit /);
      expect(JSON.stringify((err as MaverickError).context)).toContain('"path"');
    }
  });
});

describe('maverick run (real process)', () => {
  it('serves forwarders, shows in doctor, and stops on SIGTERM', async () => {
    const [udpPort, metricsPort, mqttPort] = [
      await freePort('udp'),
      await freePort('tcp'),
      await freePort('tcp'),
    ];
    useFreePorts(dir, { metricsPort, mqttPort });
    running = spawnCli(['run', '--data-dir', dir, '--udp-bind', `127.0.0.1:${udpPort}`], {
      timeoutMs: 90_000,
    });
    await running.waitFor(/maverick running: gateway b827ebfffe000002, radio semtech-udp/, 45_000);

    const forwarder = createSocket('udp4');
    try {
      const rxpk = {
        rxpk: [
          {
            tmst: 1000,
            freq: 868.1,
            chan: 0,
            rfch: 0,
            stat: 1,
            modu: 'LORA',
            datr: 'SF7BW125',
            codr: '4/5',
            rssi: -57,
            lsnr: 9.5,
            size: 4,
            data: Buffer.from([0x40, 1, 2, 3]).toString('base64'),
          },
        ],
      };
      const datagram = Buffer.concat([
        Buffer.from([2, 0xab, 0xcd, 0x00]),
        Buffer.from('b827ebfffe000002', 'hex'),
        Buffer.from(JSON.stringify(rxpk)),
      ]);
      const ack = new Promise<Buffer>((resolveAck) => forwarder.once('message', (msg) => resolveAck(msg)));
      forwarder.send(datagram, udpPort, '127.0.0.1');
      expect([...(await ack)]).toEqual([2, 0xab, 0xcd, 0x01]);
    } finally {
      forwarder.close();
    }

    // The uplink is counted right after the ACK (ACK before processing): poll briefly, bounded.
    const counted = 'maverick_uplinks_received_total{backend="semtech-udp"} 1';
    let metricsText = '';
    for (let i = 0; i < 50; i++) {
      metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      if (metricsText.includes(counted)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(metricsText).toContain(counted);

    const doctor = await runCli(['doctor', '--data-dir', dir, '--json'], { timeoutMs: 60_000 });
    const report = JSON.parse(doctor.stdout) as { checks: { id: string; status: string; finding: string }[] };
    const check = (id: string) => report.checks.find((c) => c.id === id);
    expect(check('gateway')?.status).toBe('ok');
    expect(check('concentrator:semtech-udp')).toMatchObject({
      status: 'ok',
      finding: expect.stringContaining('1 uplinks'),
    });
    // The embedded broker of the running gateway listens on the configured port.
    expect(check('broker')?.status).toBe('ok');

    // `maverick status` reads the same running process.
    const status = await runCli(['status', '--data-dir', dir, '--json'], { timeoutMs: 60_000 });
    expect(status.code).toBe(0);
    const snapshot = JSON.parse(status.stdout) as {
      gatewayId: string;
      uplinks: { received: number };
      devices: number;
    };
    expect(snapshot).toMatchObject({ gatewayId: 'b827ebfffe000002', uplinks: { received: 1 }, devices: 0 });
    const text = await runCli(['status', '--data-dir', dir], { timeoutMs: 60_000 });
    expect(text.stdout).toContain('gateway b827ebfffe000002 up');

    running.child.kill('SIGTERM');
    const result = await running.done;
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
  });

  it('starts with the default config while another process holds port 9100 (node_exporter)', async () => {
    // Hold 9100 as node_exporter would; if something on this machine already holds it, so much the better.
    const holder = createServer();
    await new Promise<void>((resolveListen) => {
      holder.once('error', () => resolveListen());
      holder.listen(9100, '127.0.0.1', () => resolveListen());
    });
    try {
      const [udpPort, mqttPort] = [await freePort('udp'), await freePort('tcp')];
      running = spawnCli(
        ['run', '--data-dir', dir, '--udp-bind', `127.0.0.1:${udpPort}`, '--mqtt-port', String(mqttPort)],
        { timeoutMs: 90_000 },
      );
      await running.waitFor(/maverick running: .*metrics http:\/\/127\.0\.0\.1:8868\/metrics/, 45_000);
      const metrics = await (await fetch('http://127.0.0.1:8868/metrics')).text();
      expect(metrics).toContain('maverick_');
      running.child.kill('SIGTERM');
      expect((await running.done).code).toBe(0);
    } finally {
      await new Promise<void>((r) => (holder.listening ? holder.close(() => r()) : r()));
    }
  });

  it('status says how to start a gateway when none runs', async () => {
    const status = await runCli(['status', '--data-dir', dir], { timeoutMs: 60_000 });
    expect(status.code).not.toBe(0);
    expect(status.stderr).toContain('no running gateway answers');
    expect(status.stderr).toContain('maverick run --data-dir');
  });

  it('explains a missing setup', async () => {
    const r = await runCli(['run', '--data-dir', join(root, 'nowhere')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run maverick init --data-dir ${join(root, 'nowhere')}`);
  });
});
