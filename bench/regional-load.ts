/**
 * Regional load: G simulated gateways (real Ed25519 keys, real signed bundles
 * of a farm day: 10-50 devices reporting every 15 min, one bundle per hour,
 * 24 per gateway) pushed through mosquitto to W `maverick regional serve`
 * worker processes sharing the intake ($share) on one PostgreSQL. Each
 * gateway sends its bundles in order, the next after the previous one's ack
 * (as the outbox does); at most `window` items are in flight over all
 * gateways (a region catching up after an outage). Measured: bundles/s,
 * bundles per CPU-second per worker (from /proc), publish→ack p50/p99,
 * PostgreSQL bytes per bundle; checked: every bundle stored exactly once,
 * every chain continuous, no open alert.
 *
 *   node --import tsx bench/regional-load.ts --gateways 5000 --workers 2 [--window 400] [--fault]
 *
 * --fault kills one worker with SIGKILL a third of the way in (restarting
 * it) and restarts PostgreSQL (immediate stop) at two thirds.
 * Needs dist/ (npm run build), mosquitto and PostgreSQL (Debian packages).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { bundleDigest, signBundle } from '../proto/bundle/bundle.js';
import { keyIdOf, publicKeyOf, randomSecretKey, toHex } from '../proto/bundle/ed25519.js';
import { encodeBundlePayload } from '../proto/bundle/payload.js';
import { GENESIS_PREV_HASH, type UplinkRecord } from '../proto/bundle/types.js';
import { verifyAck } from '../proto/link/signed-ack.js';
import { parseAckTopic, upTopic } from '../proto/link/topics.js';
import { PgRegionalStore } from '../regional/pg-store.js';
import { GatewayRegistry } from '../regional/registry.js';
import { loadRegionalKey } from '../regional/serve.js';
import { DAY_START_MS, plotReferences, simulatedDay } from '../test/fixtures/bundle-simulated-day.js';
import { startMosquitto } from '../test/fixtures/mosquitto.js';
import { startPostgresCluster } from '../test/fixtures/postgres-cluster.js';
import type { BenchFigure } from './figure.js';

export interface RegionalLoadOptions {
  gateways: number;
  workers: number;
  window?: number;
  connectionsPerWorker?: number;
  fault?: boolean;
  log?: (line: string) => void;
}

interface Gateway {
  id: string;
  publicKey: Uint8Array;
  bundles: { cose: Uint8Array; digest: string }[];
}

const HOUR = 3_600_000;

/** A day of hourly bundles per gateway; uplink sets are shared per device count (only the signer differs). */
function makeGateways(count: number): Gateway[] {
  const days = new Map<number, UplinkRecord[]>();
  const out: Gateway[] = [];
  for (let g = 0; g < count; g++) {
    const devices = 10 + (g % 41);
    let day = days.get(devices);
    if (!day) {
      day = simulatedDay({ devices });
      days.set(devices, day);
    }
    const secretKey = randomSecretKey();
    const publicKey = publicKeyOf(secretKey);
    const key = { kid: keyIdOf(publicKey), secretKey };
    const id = `gw-${String(g).padStart(5, '0')}`;
    let prev: Uint8Array = GENESIS_PREV_HASH;
    const bundles: Gateway['bundles'] = [];
    for (let seq = 1; seq <= 24; seq++) {
      const start = DAY_START_MS + (seq - 1) * HOUR;
      const uplinks = day.filter((u) => u.receivedAt >= start && u.receivedAt < start + HOUR);
      const payload = encodeBundlePayload({
        seq,
        prevHash: prev,
        timeRange: { start, end: start + HOUR - 1 },
        plots: plotReferences(seq === 1).filter((p) => uplinks.some((u) => u.plotId === p.plotId)),
        uplinks,
        compress: true,
      });
      const cose = signBundle(payload, key, {
        iss: id,
        sub: `farm:${id}`,
        iat: Math.floor(start / 1000) + 3600,
      });
      const digest = bundleDigest(cose);
      bundles.push({ cose, digest: toHex(digest) });
      prev = digest;
    }
    out.push({ id, publicKey, bundles });
  }
  return out;
}

function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name; clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function runRegionalLoad(options: RegionalLoadOptions): Promise<BenchFigure[]> {
  const log = options.log ?? (() => {});
  const window = options.window ?? 400;
  const label = `${options.gateways} gw × 1 day, ${options.workers} worker${options.workers > 1 ? 's' : ''}${options.fault ? ', kill -9 + PG restart' : ''}`;
  const genStart = performance.now();
  const gateways = makeGateways(options.gateways);
  const total = gateways.length * 24;
  log(`generated ${total} signed bundles in ${((performance.now() - genStart) / 1000).toFixed(1)} s`);
  const [cluster, broker] = await Promise.all([startPostgresCluster(), startMosquitto()]);
  const workers: ChildProcess[] = [];
  const cpuOfExited: number[] = [];
  try {
    const setup = await PgRegionalStore.open({ url: cluster.url });
    const registry = await GatewayRegistry.open(setup);
    for (const gw of gateways) await registry.add(gw.id, gw.publicKey);
    const bytesBefore = await setup.databaseBytes();
    await setup.close();
    const config = join(broker.dir, 'regional.toml');
    // The workers share the config's folder as their data directory: create the ack key once,
    // before they start, so they all sign with it.
    const regionalKey = await loadRegionalKey(broker.dir);
    writeFileSync(
      config,
      [
        '[store]',
        'engine = "postgres"',
        `url = "${cluster.url}"`,
        'pool_size = 32',
        '[broker]',
        `url = "${broker.url}"`,
        '[intake]',
        'shared_group = "regional"',
        `connections = ${options.connectionsPerWorker ?? 32}`,
        '',
      ].join('\n'),
    );
    const bin = new URL('../bin/maverick.js', import.meta.url).pathname;
    const startWorker = (i: number): ChildProcess => {
      const profile = process.env.MAVERICK_BENCH_CPU_PROF;
      const child = spawn(
        process.execPath,
        [
          ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []),
          bin,
          'regional',
          'serve',
          '--config',
          config,
          '--worker-id',
          `w${i}`,
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, MAVERICK_LOG_LEVEL: 'error' },
        },
      );
      workers[i] = child;
      return child;
    };
    await Promise.all(
      Array.from(
        { length: options.workers },
        (_, i) =>
          new Promise<void>((resolve, reject) => {
            const child = startWorker(i);
            child.stdout?.once('data', () => resolve());
            child.once('exit', (code) =>
              reject(new Error(`worker ${i} exited with ${code} before listening`)),
            );
          }),
      ),
    );

    const acker = await mqtt.connectAsync(broker.url, { clientId: 'bench-acks', clean: true });
    const publishers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        mqtt.connectAsync(broker.url, { clientId: `bench-gw-${i}`, clean: true }),
      ),
    );
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const next = new Map<string, number>(gateways.map((g) => [g.id, 0]));
    const byDigest = new Map<string, Gateway>();
    for (const g of gateways) for (const b of g.bundles) byDigest.set(b.digest, g);
    let acked = 0;
    let inFlight = 0;
    let cursor = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const send = (gw: Gateway) => {
      const index = next.get(gw.id) as number;
      const b = gw.bundles[index];
      if (!b) return;
      inFlight++;
      sentAt.set(b.digest, performance.now());
      const publisher = publishers[cursor++ % publishers.length] as mqtt.MqttClient;
      publisher.publish(upTopic(gw.id, 'bundle'), Buffer.from(b.cose), { qos: 1 });
    };
    const waiting: Gateway[] = [...gateways];
    const fill = () => {
      while (inFlight < window && waiting.length > 0) send(waiting.shift() as Gateway);
    };
    acker.on('message', (topic, payload) => {
      const ack = verifyAck(new Uint8Array(payload), regionalKey.publicKey, parseAckTopic(topic) ?? '');
      const t0 = sentAt.get(ack.digest);
      if (t0 === undefined) return; // a repeated ack (redelivery after a fault)
      sentAt.delete(ack.digest);
      latencies.push(performance.now() - t0);
      acked++;
      inFlight--;
      const gw = byDigest.get(ack.digest) as Gateway;
      next.set(gw.id, (next.get(gw.id) as number) + 1);
      if ((next.get(gw.id) as number) < 24) waiting.push(gw);
      if (acked === total) resolveDone();
      else fill();
    });
    await acker.subscribeAsync('maverick/v1/gw/+/ack', { qos: 1 });
    // A gateway resends what is not acked: here every 20 s, as the outbox's retry would.
    const resend = setInterval(() => {
      const now = performance.now();
      for (const [digest, t0] of sentAt) {
        if (now - t0 < 20_000) continue;
        const gw = byDigest.get(digest) as Gateway;
        const b = gw.bundles.find((x) => x.digest === digest);
        if (b)
          (publishers[0] as mqtt.MqttClient).publish(upTopic(gw.id, 'bundle'), Buffer.from(b.cose), {
            qos: 1,
          });
      }
    }, 5000);
    const cpuBefore = workers.map((w) => cpuSeconds(w.pid as number));
    const start = performance.now();
    const faults: Promise<void>[] = [];
    if (options.fault) {
      faults.push(
        (async () => {
          while (acked < total / 3) await new Promise((r) => setTimeout(r, 50));
          const victim = workers[0] as ChildProcess;
          cpuOfExited.push(cpuSeconds(victim.pid as number) - (cpuBefore[0] ?? 0));
          victim.kill('SIGKILL');
          log(`killed worker 0 (SIGKILL) at ${acked} acked`);
          await new Promise((r) => victim.once('exit', r));
          cpuBefore[0] = 0;
          startWorker(0);
          while (acked < (2 * total) / 3) await new Promise((r) => setTimeout(r, 50));
          log(`restarting PostgreSQL (immediate) at ${acked} acked`);
          cluster.restart('immediate');
        })(),
      );
    }
    fill();
    await done;
    const seconds = (performance.now() - start) / 1000;
    clearInterval(resend);
    await Promise.all(faults);
    const cpu = workers.map(
      (w, i) => cpuSeconds(w.pid as number) - (cpuBefore[i] ?? 0) + (i === 0 ? (cpuOfExited[0] ?? 0) : 0),
    );
    await Promise.all([acker.endAsync(), ...publishers.map((p) => p.endAsync())]);

    // Checks: exactly once, continuous chains, nothing disputed or open.
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    const { rows } = await client.query<{ n: string; d: string; g: string; bad: string; alerts: string }>(`
      SELECT (SELECT count(*) FROM bundles) AS n, (SELECT count(DISTINCT digest) FROM bundles) AS d,
             (SELECT count(DISTINCT gateway_id) FROM bundles) AS g,
             (SELECT count(*) FROM (SELECT gateway_id FROM bundles GROUP BY gateway_id
                HAVING count(*) <> 24 OR min(seq) <> 1 OR max(seq) <> 24 OR bool_or(disputed)) x) AS bad,
             (SELECT count(*) FROM alerts WHERE closed_at IS NULL) AS alerts`);
    const bytesAfter = Number(
      (await client.query('SELECT pg_database_size(current_database()) AS b')).rows[0].b,
    );
    await client.end();
    const check = rows[0] as { n: string; d: string; g: string; bad: string; alerts: string };
    const ok =
      Number(check.n) === total &&
      Number(check.d) === total &&
      Number(check.g) === gateways.length &&
      Number(check.bad) === 0 &&
      Number(check.alerts) === 0;
    if (!ok) throw new Error(`regional load check failed: ${JSON.stringify(check)} for ${total} bundles`);
    latencies.sort((a, b) => a - b);
    const rate = total / seconds;
    const cpuTotal = cpu.reduce((a, b) => a + b, 0);
    return [
      {
        name: `regional ${label}: bundles acked`,
        value: rate,
        unit: 'bundles/s',
        note: `${total} bundles in ${seconds.toFixed(1)} s; stored once, chains continuous; window ${window}`,
      },
      {
        name: `regional ${label}: per worker CPU`,
        value: total / cpuTotal,
        unit: 'bundles/CPU-s',
        note: `workers' CPU ${cpu.map((c) => c.toFixed(1)).join(' + ')} s (PostgreSQL and mosquitto not counted)`,
      },
      { name: `regional ${label}: publish→ack p50`, value: quantile(latencies, 0.5), unit: 'ms' },
      { name: `regional ${label}: publish→ack p99`, value: quantile(latencies, 0.99), unit: 'ms' },
      {
        name: `regional ${label}: PostgreSQL bytes`,
        value: (bytesAfter - bytesBefore) / total,
        unit: 'bytes/bundle',
        note: 'pg_database_size growth (tables, indexes, TOAST) / bundles',
      },
    ];
  } finally {
    for (const w of workers) w?.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => (w && w.exitCode === null ? new Promise((r) => w.once('exit', r)) : undefined)),
    );
    broker.stop();
    cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const figures = await runRegionalLoad({
    gateways: arg('gateways', 400),
    workers: arg('workers', 1),
    window: arg('window', 400),
    fault: process.argv.includes('--fault'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  for (const f of figures) process.stdout.write(`${JSON.stringify(f)}\n`);
}
