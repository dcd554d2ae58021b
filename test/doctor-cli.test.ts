/**
 * Acceptance 2 of issue 7: `maverick init` then `maverick doctor` on a machine
 * with no concentrator names the missing pieces with fixes and exits non-zero;
 * a bad config value is reported by field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'maverick-doctor-cli-'));
  dir = join(root, 'gw');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Ports nothing listens on (bound then released), so the suite never meets another test's broker. */
async function closedPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    ports.push((server.address() as { port: number }).port);
    await new Promise<void>((r) => server.close(() => r()));
  }
  return ports;
}

describe('maverick init, then maverick doctor', () => {
  it('names the missing pieces with fixes and exits non-zero', async () => {
    expect((await runCli(['init', '--data-dir', dir, '--mqtt-password', 'pw'])).code).toBe(0);
    const [udp, mqtt, metrics] = await closedPorts(3);
    const file = join(dir, 'maverick.toml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('bind = "127.0.0.1:1700"', `bind = "127.0.0.1:${udp}"`)
        .replace('port = 1883', `port = ${mqtt}`)
        .replace('bind = "127.0.0.1:8868"', `bind = "127.0.0.1:${metrics}"`),
    );
    const r = await runCli(['doctor', '--data-dir', dir, '--listen-seconds', '0.5'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    // The report wraps long lines; compare with whitespace collapsed.
    const flat = r.stdout.replace(/\s+/g, ' ');
    expect(r.stdout).toMatch(/ok\s+config/);
    expect(flat).toMatch(
      /FAIL concentrator:semtech-udp no datagram from a packet forwarder reached 127\.0\.0\.1:\d+/,
    );
    expect(r.stdout).toMatch(/FAIL\s+broker/);
    expect(r.stdout).toMatch(/ok\s+keys/);
    expect(r.stdout).toMatch(/(ok|warn)\s+clock/);
    const fixes = r.stdout.split('\n').filter((l) => l.trim().startsWith('fix: '));
    const problems = r.stdout.split('\n').filter((l) => /^\s+(FAIL|warn)\s/.test(l));
    expect(fixes.length).toBe(problems.length);
    expect(r.stdout).toMatch(/\d+ failing/);

    const json = await runCli(['doctor', '--data-dir', dir, '--listen-seconds', '0.2', '--json'], {
      timeoutMs: 60_000,
    });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      checks: { id: string; status: string; fix?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'broker')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('systemctl start maverick'),
    });
  });

  it('reports a bad config value by field', async () => {
    expect((await runCli(['init', '--data-dir', dir, '--mqtt-password', 'pw'])).code).toBe(0);
    const file = join(dir, 'maverick.toml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('level = "info"', 'level = "loud"'));
    const r = await runCli(['doctor', '--data-dir', dir, '--listen-seconds', '0.2'], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      'log.level: "loud" is not allowed: one of "trace", "debug", "info", "warn", "error", "fatal"',
    );
  });

  it('on an empty directory says to run init', async () => {
    const r = await runCli(['doctor', '--data-dir', dir, '--listen-seconds', '0.2'], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(`fix: run maverick init --data-dir ${dir}`);
  });
});
