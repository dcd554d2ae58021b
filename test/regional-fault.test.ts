/**
 * The fault test of the regional node at scale, end to end: simulated
 * gateways (real keys, real signed bundles of a farm day) publish through a
 * real mosquitto to two `maverick regional serve` worker processes on a real
 * PostgreSQL. A third of the way in one worker is killed with SIGKILL (and
 * started again under its worker id, as systemd would); two thirds in,
 * PostgreSQL is stopped in immediate mode (a crash) and started again.
 *
 * At the end every bundle is stored exactly once with every chain continuous,
 * and no ack was ever sent for an item that was not committed: each ack, as
 * it arrives, is checked against the database on a connection of its own (an
 * ack for an item lost in the crash would find nothing there). The faults are
 * triggered from the acks themselves, and every wait is bounded.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifiedAck } from '../proto/link/signed-ack.js';
import { PgRegionalStore } from '../regional/pg-store.js';
import { GatewayRegistry } from '../regional/registry.js';
import { loadRegionalKey } from '../regional/serve.js';
import { type MosquittoBroker, mosquittoInstalled, startMosquitto } from './fixtures/mosquitto.js';
import { type PostgresCluster, postgresBinDir, startPostgresCluster } from './fixtures/postgres-cluster.js';
import {
  checkStoredOnce,
  makeFleet,
  runFleet,
  spawnWorker,
  writeWorkerConfig,
} from './fixtures/regional-fleet.js';
import { eventually, eventuallyValue, waitFor } from './helpers/wait.js';

const ready = mosquittoInstalled() && postgresBinDir() !== undefined;
const GATEWAYS = 24;
const HOURS = 8;
const TOTAL = GATEWAYS * HOURS;

/**
 * Whether the item an ack names is committed, asked through a small pool of its own (not the
 * workers'), retried while PostgreSQL restarts. A few connections, not one per ack: hundreds of
 * acks each opening a connection at once ran into max_connections under load and never got an answer.
 */
async function committed(checker: pg.Pool, digest: string): Promise<boolean> {
  return eventuallyValue(
    async () => {
      try {
        const { rowCount } = await checker.query('SELECT 1 FROM bundles WHERE digest = $1', [
          Buffer.from(digest, 'hex'),
        ]);
        return (rowCount ?? 0) === 1;
      } catch {
        return undefined; // the server is restarting: ask again
      }
    },
    60_000,
    `PostgreSQL to answer whether ${digest.slice(0, 16)} is committed`,
  );
}

describe.runIf(ready)(
  'regional node under faults: kill -9 a worker, crash PostgreSQL (mosquitto, 2 workers)',
  () => {
    let cluster: PostgresCluster;
    let broker: MosquittoBroker;
    let dataDir: string;
    const workers: ChildProcess[] = [];

    beforeAll(async () => {
      [cluster, broker] = await Promise.all([startPostgresCluster(), startMosquitto()]);
      dataDir = mkdtempSync(join(tmpdir(), 'maverick-regional-fault-'));
    }, 120_000);
    afterAll(async () => {
      for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
      await Promise.all(
        workers.map((w) =>
          w.exitCode === null && w.signalCode === null
            ? waitFor<void>((done) => w.once('exit', () => done()), 'a worker to stop', 30_000).catch(() =>
                w.kill('SIGKILL'),
              )
            : undefined,
        ),
      );
      broker?.stop();
      cluster?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('every bundle stored exactly once, chains continuous, and every ack names a committed item', async () => {
      const gateways = makeFleet(GATEWAYS, HOURS);
      const setup = await PgRegionalStore.open({ url: cluster.url });
      try {
        const registry = await GatewayRegistry.open(setup);
        for (const gw of gateways) await registry.add(gw.id, gw.publicKey);
      } finally {
        await setup.close();
      }
      const regionalKey = await loadRegionalKey(dataDir);
      const config = writeWorkerConfig(dataDir, {
        pgUrl: cluster.url,
        brokerUrl: broker.url,
        connections: 2,
        inFlight: 8,
      });
      const start = async (i: number) => {
        workers[i] = await spawnWorker(config, `fault-w${i}`);
      };
      await Promise.all([start(0), start(1)]);

      const checker = new pg.Pool({ connectionString: cluster.url, max: 4, connectionTimeoutMillis: 5000 });
      // A server crash is an 'error' on idle clients as well as failed queries; the queries' failures are enough.
      checker.on('error', () => {});
      const ackChecks: Promise<{ digest: string; committed: boolean }>[] = [];
      const faults: string[] = [];
      let faultRun: Promise<void> = Promise.resolve();
      let firstAcks = 0;
      const onAck = (ack: VerifiedAck) => {
        expect(ack.status === 'accepted' || ack.status === 'duplicate').toBe(true);
        ackChecks.push(committed(checker, ack.digest).then((ok) => ({ digest: ack.digest, committed: ok })));
        if (ack.status !== 'accepted') return;
        firstAcks++;
        if (firstAcks === Math.floor(TOTAL / 3)) {
          faultRun = faultRun.then(async () => {
            const victim = workers[0] as ChildProcess;
            const exited = waitFor<void>(
              (done) => victim.once('exit', () => done()),
              'the killed worker to exit',
            );
            victim.kill('SIGKILL');
            await exited;
            faults.push(`kill -9 worker 0 at ${firstAcks} acked`);
            await start(0);
          });
        }
        if (firstAcks === Math.floor((2 * TOTAL) / 3)) {
          faultRun = faultRun.then(() => {
            cluster.restart('immediate');
            faults.push(`PostgreSQL crash + restart at ${firstAcks} acked`);
          });
        }
      };
      const fleet = await runFleet(gateways, {
        brokerUrl: broker.url,
        regionalPublicKey: regionalKey.publicKey,
        window: 48,
        publishers: 4,
        resendAfterMs: 15_000,
        onAck,
      });
      try {
        let failure: unknown;
        await waitFor<void>(
          (done) =>
            fleet.done.then(done, (err) => {
              failure = err;
              done();
            }),
          `every bundle acked (${TOTAL})`,
          150_000,
        );
        if (failure) throw failure;
        await faultRun;
        expect(faults).toHaveLength(2);
      } finally {
        await fleet.stop();
      }

      // No ack for an uncommitted item: every ack received named a bundle the database holds.
      const checked = await Promise.all(ackChecks).finally(() => checker.end());
      expect(checked.length).toBeGreaterThanOrEqual(TOTAL);
      expect(checked.filter((c) => !c.committed)).toEqual([]);
      expect(new Set(checked.map((c) => c.digest)).size).toBe(TOTAL);

      // Exactly once, every chain 1..n linked by previous hash, nothing disputed, no alert open.
      await eventually(
        async () => (await checkStoredOnce(cluster.url, HOURS).catch(() => undefined)) !== undefined,
        60_000,
        'PostgreSQL to answer after its restart',
      );
      expect(await checkStoredOnce(cluster.url, HOURS)).toEqual({
        bundles: TOTAL,
        distinctDigests: TOTAL,
        gateways: GATEWAYS,
        brokenChains: 0,
        unlinked: 0,
        openAlerts: 0,
      });
    }, 240_000);
  },
);
