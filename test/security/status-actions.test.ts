/**
 * Attack 6 of the hardening issue: the status server's actions (POST /seal,
 * /commit) need the data directory's token and refuse other origins, and the
 * CLI (`bundle seal`, `status`, `doctor`) refuses a gateway that is not this
 * data directory's — before, one data directory's command sealed another
 * gateway's bundle.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.js';
import { initSetup, loadConfig } from '../../gateway/config/index.js';
import { Metrics } from '../../gateway/metrics/metrics.js';
import { type MetricsServer, startMetricsServer } from '../../gateway/metrics/server.js';
import { readStatusToken, statusTokenPath } from '../../gateway/status/token.js';
import { silentLogger } from '../../proto/log.js';
import { runCli } from '../helpers/cli.js';
import { freeTcpPort, freeUdpPort, useFreePorts } from '../helpers/ports.js';

const root = mkdtempSync(join(tmpdir(), 'maverick-status-actions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('status server actions', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(): Promise<{ url: string; runs: () => number }> {
    let runs = 0;
    server = await startMetricsServer({
      metrics: new Metrics({ gatewayId: 'b827ebfffe000001' }),
      host: '127.0.0.1',
      port: 0,
      gatewayId: 'b827ebfffe000001',
      actionToken: 'the-token-0123456789',
      actions: {
        '/seal': async () => {
          runs++;
          return [];
        },
      },
    });
    return { url: server.url, runs: () => runs };
  }

  it('refuses an action without the token, with a wrong one, and from another origin', async () => {
    const { url, runs } = await serve();
    const post = (headers: Record<string, string>) => fetch(`${url}/seal`, { method: 'POST', headers });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer not-the-token' })).status).toBe(401);
    const good = { authorization: 'Bearer the-token-0123456789' };
    // What a web page in the farmer's browser sends: its own Origin / Sec-Fetch-Site.
    expect((await post({ ...good, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ ...good, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(runs()).toBe(0);
    const ok = await post(good);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-maverick-gateway-id')).toBe('b827ebfffe000001');
    expect(runs()).toBe(1);
  });
});

describe("the CLI talks only to its own data directory's gateway", () => {
  it('bundle seal, status and doctor refuse another gateway on the configured port', async () => {
    const ours = join(root, 'ours');
    const theirs = join(root, 'theirs');
    await initSetup({ dataDir: ours, gatewayId: 'b827ebfffe00000a', mqttPassword: 'pw-ours' });
    await initSetup({ dataDir: theirs, gatewayId: 'b827ebfffe00000b', mqttPassword: 'pw-theirs' });
    const metricsPort = await freeTcpPort();
    // Both data directories name the same status port; only "theirs" runs.
    useFreePorts(ours, { metricsPort, mqttPort: await freeTcpPort() });
    useFreePorts(theirs, { metricsPort, mqttPort: await freeTcpPort() });
    const config = loadConfig(theirs, { radio: { udp: { bind: `127.0.0.1:${await freeUdpPort()}` } } });
    const running = await startGateway(config, silentLogger);
    try {
      // The gateway made its token, 0600, in its own data directory.
      expect(readStatusToken(theirs)).toMatch(/^[\w-]{40,}$/);
      expect(statSync(statusTokenPath(theirs)).mode & 0o777).toBe(0o600);

      const seal = await runCli(['bundle', 'seal', '--data-dir', ours, '--json'], { timeoutMs: 60_000 });
      expect(seal.code).not.toBe(0);
      expect(seal.stderr).toContain(
        "is b827ebfffe00000b, not this data directory's gateway b827ebfffe00000a",
      );
      expect(await running.runtime.db.bundles.count().exec()).toBe(0);

      const status = await runCli(['status', '--data-dir', ours], { timeoutMs: 60_000 });
      expect(status.code).not.toBe(0);
      expect(status.stderr).toContain("not this data directory's gateway b827ebfffe00000a");

      const doctor = await runCli(['doctor', '--data-dir', ours, '--json'], { timeoutMs: 60_000 });
      const report = JSON.parse(doctor.stdout) as {
        checks: { id: string; status: string; finding: string }[];
      };
      expect(report.checks.find((c) => c.id === 'gateway')).toMatchObject({
        status: 'fail',
        finding: expect.stringContaining('is b827ebfffe00000b'),
      });
    } finally {
      await running.stop();
    }
  }, 240_000);
});
