/**
 * Acceptance 1, the link-flap test: 200 real signed bundles are synced over
 * MQTT through a proxy that cuts and restores the connection at random (≥ 50
 * times) while the gateway (outbox + link on the durable SQLite store) is
 * restarted (≥ 5 times). At the end the regional node holds every bundle
 * exactly once, the chain is continuous, and nothing is left unacked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttLink } from '../gateway/link/mqtt-link.js';
import { type FarmDatabase, openFarmDatabase } from '../kernel/db/farm-db.js';
import { Outbox } from '../kernel/outbox/outbox.js';
import { RxdbOutboxStore } from '../kernel/outbox/rxdb-outbox-store.js';
import { SyncEngine } from '../kernel/outbox/sync-engine.js';
import { getRxStorageSqlite } from '../kernel/store/rx-storage-sqlite.js';
import { startRegionalTransport } from '../regional/transport/mqtt-intake.js';
import { TcpLinkProxy } from '../simulator/link-emulator.js';
import { prng } from './fixtures/bundle-simulated-day.js';
import { testAckSigner, testRegionalPublicKey } from './helpers/regional-ack-key.js';
import { chainReport, eventually, makeChain, openRegional, testGateway } from './link-harness.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface GatewayProcess {
  db: FarmDatabase;
  outbox: Outbox;
  link: MqttLink;
  engine: SyncEngine;
}

describe('link flap: 200 bundles, ≥ 50 cuts, ≥ 5 restarts', () => {
  it('ends with every bundle held exactly once, a continuous chain and nothing unacked', async () => {
    const gw = testGateway('gw-flap');
    const chain = makeChain(gw, 200);
    const regional = await openRegional([gw]);
    cleanups.push(() => regional.close());
    let accepted = 0;
    regional.node.on('accepted', () => accepted++);
    const transport = await startRegionalTransport({
      node: regional.node,
      acks: testAckSigner,
      embedded: { port: 0 },
    });
    cleanups.push(() => transport.close());
    const proxy = await TcpLinkProxy.start({
      target: { host: '127.0.0.1', port: Number(new URL(transport.brokerUrl).port) },
    });
    cleanups.push(() => proxy.close());
    const dir = await mkdtemp(join(tmpdir(), 'maverick-flap-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const storage = getRxStorageSqlite({ directory: dir });

    let current: GatewayProcess | undefined;
    const startGateway = async (): Promise<GatewayProcess> => {
      const db = await openFarmDatabase({ storage, name: 'flapfarm' });
      const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
      const link = new MqttLink({
        url: proxy.url,
        gatewayId: gw.id,
        regionalPublicKey: testRegionalPublicKey,
        reconnectPeriodMs: 30,
        connectTimeoutMs: 1000,
        publishTimeoutMs: 1000,
      }).start();
      const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 1500 });
      engine.start();
      return { db, outbox, link, engine };
    };
    const stopGateway = async (p: GatewayProcess): Promise<void> => {
      await p.engine.stop();
      await p.link.close();
      await p.db.close();
    };
    cleanups.push(async () => {
      if (current) await stopGateway(current);
    });

    const random = prng(2026);
    current = await startGateway();
    let restarts = 0;
    let next = 0;
    let flapping = true;
    const flapper = (async () => {
      while (flapping) {
        await sleep(40 + random() * 160);
        proxy.cut();
        await sleep(5 + random() * 60);
        proxy.restore();
      }
    })();
    for (let step = 0; next < chain.length || proxy.cuts < 50 || restarts < 5; step++) {
      if (step > 5000) throw new Error('flap loop did not finish');
      const batch = chain.slice(next, next + 1 + Math.floor(random() * 8));
      for (const b of batch) {
        next++;
        await current.outbox.enqueue(Outbox.item('bundle', next, b.cose));
      }
      await sleep(20 + random() * 60);
      if (step % 6 === 5 && (restarts < 5 || random() < 0.3)) {
        await stopGateway(current);
        current = undefined;
        await sleep(random() * 20);
        current = await startGateway();
        restarts++;
      }
    }
    flapping = false;
    const acceptedWhileFlapping = accepted;
    await flapper;
    proxy.restore();
    const running = current;
    await eventually(() => running.outbox.size === 0, 40_000, 'every bundle acked');

    expect(proxy.cuts).toBeGreaterThanOrEqual(50);
    // The sync really happened under the flapping, not only after it stopped.
    expect(acceptedWhileFlapping).toBeGreaterThanOrEqual(20);
    expect(restarts).toBeGreaterThanOrEqual(5);
    const report = await chainReport(regional.store, gw.id);
    expect(report.seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(report.continuous).toBe(true);
    expect(accepted).toBe(200);
    expect(await regional.store.listAlerts(gw.id)).toEqual([]);
    const docs = await running.db.bundles.find().exec();
    expect(docs).toHaveLength(200);
    expect(docs.filter((d) => d.syncState !== 'acked')).toEqual([]);
  });
});
