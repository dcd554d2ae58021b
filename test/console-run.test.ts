/**
 * The console inside `maverick run` (a real process): [console] from the
 * config file, the password written by init, loopback by default, and the
 * console's failure to bind leaves the gateway running (it logs the fix).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initSetup } from '../gateway/config/index.js';
import { type CliProcess, spawnCli } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';

let root: string;
let dir: string;
let running: CliProcess | undefined;
const PASSWORD = 'run-console-pw-1';

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'maverick-console-run-'));
  dir = join(root, 'gw');
  await initSetup({
    dataDir: dir,
    gatewayId: 'b827ebfffe000015',
    mqttPassword: 'pw',
    consolePassword: PASSWORD,
  });
});

afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.done;
  }
  running = undefined;
  rmSync(root, { recursive: true, force: true });
});

async function configure(consolePort: number): Promise<void> {
  const file = join(dir, 'maverick.toml');
  const [metricsPort, mqttPort] = [await freePort('tcp'), await freePort('tcp')];
  const text = readFileSync(file, 'utf8')
    .replace('bind = "127.0.0.1:9100"', `bind = "127.0.0.1:${metricsPort}"`)
    .replace('port = 1883', `port = ${mqttPort}`)
    .replace('port = 8088', `port = ${consolePort}`);
  expect(text).toContain(`port = ${consolePort}`);
  writeFileSync(file, text);
}

describe('console in maverick run', () => {
  it('serves the console on loopback with the init password', async () => {
    const consolePort = await freePort('tcp');
    await configure(consolePort);
    running = spawnCli(['run', '--data-dir', dir, '--udp-bind', `127.0.0.1:${await freePort('udp')}`], {
      timeoutMs: 90_000,
    });
    const [, url] = (await running.waitFor(/console (http:\/\/[^\s/]+)\//, 45_000)) as RegExpMatchArray;
    expect(url).toBe(`http://127.0.0.1:${consolePort}`);
    expect((await fetch(`${url}/`)).status).toBe(200);
    const wrong = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'not-it' }),
    });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const overview = (await (await fetch(`${url}/api/overview`, { headers: { cookie } })).json()) as {
      gatewayId: string;
      region: string;
      devices: { registered: number };
    };
    expect(overview).toMatchObject({
      gatewayId: 'b827ebfffe000015',
      region: 'EU868',
      devices: { registered: 0 },
    });
    // The doctor, run from the page, reads this running gateway's status.
    const { csrf } = (await (await fetch(`${url}/api/session`, { headers: { cookie } })).json()) as {
      csrf: string;
    };
    const doctor = (await (
      await fetch(`${url}/api/doctor`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } })
    ).json()) as { checks: { id: string; status: string }[] };
    expect(doctor.checks.find((c) => c.id === 'config')?.status).toBe('ok');
    expect(doctor.checks.find((c) => c.id === 'gateway')?.status).toBe('ok');
    running.child.kill('SIGTERM');
    expect((await running.done).code).toBe(0);
  });

  it('keeps the gateway running when the console port is taken, and says what to change', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      await configure((blocker.address() as { port: number }).port);
      running = spawnCli(['run', '--data-dir', dir, '--udp-bind', `127.0.0.1:${await freePort('udp')}`], {
        timeoutMs: 90_000,
      });
      await running.waitFor(/maverick running: gateway b827ebfffe000015/, 45_000);
      expect(running.stdout() + running.stderr()).toContain('[console] port');
      expect(running.stdout()).not.toContain('console http');
      running.child.kill('SIGTERM');
      expect((await running.done).code).toBe(0);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
