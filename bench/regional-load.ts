/**
 * Regional load: G simulated gateways (real Ed25519 keys, real signed bundles
 * of a farm day: 10-50 devices reporting every 15 min, one bundle per hour,
 * 24 per gateway, sealed in format 3 as gateways seal them: signed statement,
 * deflated telemetry beside it, which the node inflates and checks against the
 * statement's digest and Merkle root) pushed through mosquitto to W `maverick regional serve`
 * worker processes sharing the intake ($share) on one PostgreSQL. Each
 * gateway sends its bundles in order, the next after the previous one's ack
 * (as the outbox does); at most `window` items are in flight over all
 * gateways (a region catching up after an outage). Measured: bundles/s,
 * bundles per CPU-second per worker (from /proc), publish→ack p50/p99,
 * PostgreSQL bytes per bundle; checked: every bundle stored exactly once,
 * every chain continuous, no open alert.
 *
 *   node --import tsx bench/regional-load.ts --gateways 400            (1 then 2 workers)
 *   node --import tsx bench/regional-load.ts --gateways 5000 --workers 2 [--window 400] [--fault]
 *     [--connections 4] [--in-flight 32]     (MQTT sessions and items in flight per worker)
 *     [--format 2]                            (the earlier bundle format, to compare what 3 costs)
 *
 * Each run prints its exactly-once and chain-continuity check (read straight
 * from PostgreSQL) on stderr and fails when it does not hold; figures go to
 * stdout as JSON, one per line. MAVERICK_BENCH_CPU_PROF=<dir> writes each
 * worker's CPU profile there (node --cpu-prof) on a clean stop.
 *
 * --fault kills one worker with SIGKILL a third of the way in (restarting
 * it) and restarts PostgreSQL (immediate stop) at two thirds.
 * Needs dist/ (npm run build), mosquitto and PostgreSQL (Debian packages).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PgRegionalStore } from '../regional/pg-store.js';
import { GatewayRegistry } from '../regional/registry.js';
import { loadRegionalKey } from '../regional/serve.js';
import { startMosquitto } from '../test/fixtures/mosquitto.js';
import { startPostgresCluster } from '../test/fixtures/postgres-cluster.js';
import {
  checkStoredOnce,
  type FleetFormat,
  makeFleet,
  runFleet,
  spawnWorker,
  writeWorkerConfig,
} from '../test/fixtures/regional-fleet.js';
import { deployedEnvironment, deployedEnvironmentNote } from './deployed-environment.js';
import type { BenchFigure } from './figure.js';

export interface RegionalLoadOptions {
  gateways: number;
  workers: number;
  window?: number;
  connectionsPerWorker?: number;
  /** Items each worker settles at once (its PostgreSQL pool has as many connections). */
  inFlightPerWorker?: number;
  fault?: boolean;
  /** Bundle format the gateways send (default 3, what they seal). */
  format?: FleetFormat;
  log?: (line: string) => void;
}

const HOURS = 24;

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
  const format = options.format ?? 3;
  const label = `${options.gateways} gw × 1 day, ${options.workers} worker${options.workers > 1 ? 's' : ''}${format === 3 ? '' : `, format ${format}`}${options.fault ? ', kill -9 + PG restart' : ''}`;
  const genStart = performance.now();
  const gateways = makeFleet(options.gateways, HOURS, format);
  const total = gateways.length * HOURS;
  const coseBytes = gateways.reduce((n, g) => n + g.bundles.reduce((m, b) => m + b.cose.length, 0), 0);
  log(
    `generated ${total} signed format ${format} bundles (${Math.round(coseBytes / total)} bytes each on average) ` +
      `in ${((performance.now() - genStart) / 1000).toFixed(1)} s`,
  );
  const [cluster, broker] = await Promise.all([startPostgresCluster(), startMosquitto()]);
  const workers: ChildProcess[] = [];
  try {
    const setup = await PgRegionalStore.open({ url: cluster.url });
    const registry = await GatewayRegistry.open(setup);
    for (const gw of gateways) await registry.add(gw.id, gw.publicKey);
    const bytesBefore = await setup.databaseBytes();
    // The workers share the config's folder as their data directory: create the ack key once,
    // before they start, so they all sign with it.
    const regionalKey = await loadRegionalKey(broker.dir);
    const config = writeWorkerConfig(broker.dir, {
      pgUrl: cluster.url,
      brokerUrl: broker.url,
      connections: options.connectionsPerWorker ?? 4,
      inFlight: options.inFlightPerWorker ?? 32,
    });
    const profile = process.env.MAVERICK_BENCH_CPU_PROF;
    const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
    // As the systemd unit runs a worker (its NODE_OPTIONS: the young generation's size).
    const env = deployedEnvironment('maverick-regional@.service');
    delete env.NODE_ENV;
    const startWorker = async (i: number) => {
      workers[i] = await spawnWorker(config, `w${i}`, { nodeArgs, env });
    };
    await Promise.all(Array.from({ length: options.workers }, (_, i) => startWorker(i)));

    const cpuBefore = workers.map((w) => cpuSeconds(w.pid as number));
    const cpuOfKilled: number[] = [];
    const start = performance.now();
    const fleet = await runFleet(gateways, {
      brokerUrl: broker.url,
      regionalPublicKey: regionalKey.publicKey,
      window,
    });
    const faults: Promise<void>[] = [];
    if (options.fault) {
      const until = async (n: number) => {
        while (fleet.acked() < n) await new Promise((r) => setTimeout(r, 50));
      };
      faults.push(
        (async () => {
          await until(total / 3);
          const victim = workers[0] as ChildProcess;
          cpuOfKilled.push(cpuSeconds(victim.pid as number) - (cpuBefore[0] ?? 0));
          victim.kill('SIGKILL');
          log(`killed worker 0 (SIGKILL) at ${fleet.acked()} acked`);
          await new Promise((r) => victim.once('exit', r));
          cpuBefore[0] = 0;
          await startWorker(0);
          await until((2 * total) / 3);
          log(`restarting PostgreSQL (immediate) at ${fleet.acked()} acked`);
          cluster.restart('immediate');
        })(),
      );
    }
    await fleet.done;
    const seconds = (performance.now() - start) / 1000;
    await Promise.all(faults);
    const cpu = workers.map(
      (w, i) => cpuSeconds(w.pid as number) - (cpuBefore[i] ?? 0) + (i === 0 ? (cpuOfKilled[0] ?? 0) : 0),
    );
    await fleet.stop();

    const check = await checkStoredOnce(cluster.url, HOURS);
    const bytesAfter = await setup.databaseBytes();
    await setup.close();
    const ok =
      check.bundles === total &&
      check.distinctDigests === total &&
      check.gateways === gateways.length &&
      check.brokenChains === 0 &&
      check.unlinked === 0 &&
      check.openAlerts === 0;
    log(
      `check ${label}: ${check.bundles} stored / ${total} sent, ${check.distinctDigests} distinct digests, ` +
        `${check.gateways} gateways, ${check.brokenChains} broken chains, ${check.unlinked} unlinked bundles, ` +
        `${check.openAlerts} open alerts, ${fleet.resent()} resends → ${ok ? 'exactly once, chains continuous' : 'FAILED'}`,
    );
    if (!ok) throw new Error(`regional load check failed: ${JSON.stringify(check)} for ${total} bundles`);
    const latencies = [...fleet.latencies].sort((a, b) => a - b);
    const rate = total / seconds;
    const cpuTotal = cpu.reduce((a, b) => a + b, 0);
    return [
      {
        name: `regional ${label}: bundles acked`,
        value: rate,
        unit: 'bundles/s',
        note: `${total} bundles in ${seconds.toFixed(1)} s; stored exactly once, chains continuous; window ${window}`,
      },
      {
        name: `regional ${label}: per worker CPU`,
        value: total / cpuTotal,
        unit: 'bundles/CPU-s',
        note: `workers' CPU ${cpu.map((c) => c.toFixed(1)).join(' + ')} s (PostgreSQL and mosquitto not counted); worker environment of the systemd unit: ${deployedEnvironmentNote('maverick-regional@.service')}`,
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
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? String(process.argv[i + 1]) : fallback;
  };
  for (const workers of arg('workers', '1,2').split(',').map(Number)) {
    const figures = await runRegionalLoad({
      gateways: Number(arg('gateways', '400')),
      workers,
      window: Number(arg('window', '400')),
      connectionsPerWorker: Number(arg('connections', '4')),
      inFlightPerWorker: Number(arg('in-flight', '32')),
      fault: process.argv.includes('--fault'),
      format: arg('format', '3') === '2' ? 2 : 3,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    for (const f of figures) process.stdout.write(`${JSON.stringify(f)}\n`);
  }
}
