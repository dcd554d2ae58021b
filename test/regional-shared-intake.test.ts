/**
 * Horizontal intake on a real mosquitto and PostgreSQL: two regional workers
 * share the up topics through an MQTT shared subscription and one database.
 * Every item is stored once and acked; both workers take a share; and an ack
 * never leaves for an item whose transaction did not commit (a store that
 * fails its first attempts makes the item wait, unacked, until it commits).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../proto/bundle/ed25519.js';
import { type VerifiedAck, verifyAck } from '../proto/link/signed-ack.js';
import { parseAckTopic, upTopic } from '../proto/link/topics.js';
import { silentLogger } from '../proto/log.js';
import { PgRegionalStore } from '../regional/pg-store.js';
import { GatewayRegistry } from '../regional/registry.js';
import { loadRegionalKey, type RegionalService, startRegionalService } from '../regional/serve.js';
import type { RegionalStore } from '../regional/store.js';
import { makeChain, testGateway } from './fixtures/bundle-chain.js';
import { type MosquittoBroker, mosquittoInstalled, startMosquitto } from './fixtures/mosquitto.js';
import { type PostgresCluster, postgresBinDir, startPostgresCluster } from './fixtures/postgres-cluster.js';

const ready = mosquittoInstalled() && postgresBinDir() !== undefined;
let cluster: PostgresCluster;
let broker: MosquittoBroker;
let dbs = 0;
/** One regional data directory (so one ack key) shared by the workers, as in a deployment. */
let regionalDir: string;
let regionalPublicKey: Uint8Array;

async function registerGateways(url: string, gateways: ReturnType<typeof testGateway>[]): Promise<void> {
  const store = await PgRegionalStore.open({ url });
  try {
    const registry = await GatewayRegistry.open(store);
    for (const gw of gateways) await registry.add(gw.id, gw.publicKey);
  } finally {
    await store.close();
  }
}

/** Publishes every item as its gateway and resolves with the acks, once every item has one. */
async function publishAndCollectAcks(
  items: { gatewayId: string; cose: Uint8Array; digest: string }[],
  onAck: (ack: VerifiedAck) => Promise<void> | void = () => {},
): Promise<Map<string, VerifiedAck[]>> {
  const client = await mqtt.connectAsync(broker.url, { clientId: `gw-sim-${dbs}`, clean: true });
  const acks = new Map<string, VerifiedAck[]>();
  const want = new Set(items.map((i) => i.digest));
  try {
    const done = new Promise<void>((resolve, reject) => {
      client.on('message', (topic, payload) => {
        const ack = verifyAck(new Uint8Array(payload), regionalPublicKey, parseAckTopic(topic) ?? '');
        Promise.resolve(onAck(ack)).then(() => {
          acks.set(ack.digest, [...(acks.get(ack.digest) ?? []), ack]);
          want.delete(ack.digest);
          if (want.size === 0) resolve();
        }, reject);
      });
    });
    await client.subscribeAsync('maverick/v1/gw/+/ack', { qos: 1 });
    for (const item of items)
      await client.publishAsync(upTopic(item.gatewayId, 'bundle'), Buffer.from(item.cose), { qos: 1 });
    await done;
  } finally {
    await client.endAsync();
  }
  return acks;
}

async function startWorker(
  url: string,
  name: string,
  wrap?: (s: RegionalStore) => void,
): Promise<RegionalService> {
  const service = await startRegionalService({
    dataDir: regionalDir,
    postgres: { url, poolSize: 4 },
    brokerUrl: broker.url,
    sharedGroup: 'regional',
    clientId: `test-${name}-${dbs}`,
    connections: 2,
    logger: silentLogger,
  });
  wrap?.(service.regional.store);
  return service;
}

describe.runIf(ready)('regional workers sharing the intake (mosquitto, PostgreSQL)', () => {
  beforeAll(async () => {
    [cluster, broker] = await Promise.all([startPostgresCluster(), startMosquitto()]);
    regionalDir = mkdtempSync(join(tmpdir(), 'maverick-regional-shared-'));
    regionalPublicKey = (await loadRegionalKey(regionalDir)).publicKey;
  }, 120_000);
  afterAll(() => {
    if (regionalDir) rmSync(regionalDir, { recursive: true, force: true });
    broker?.stop();
    cluster?.stop();
  });

  it('two workers split the items of four gateways; each stored once, each acked', async () => {
    const url = cluster.createDatabase(`shared_${dbs++}`);
    const gateways = ['gw-s1', 'gw-s2', 'gw-s3', 'gw-s4'].map(testGateway);
    await registerGateways(url, gateways);
    const workers = [await startWorker(url, 'a'), await startWorker(url, 'b')];
    const taken = [0, 0];
    for (const [i, w] of workers.entries()) {
      w.regional.node.on('accepted', () => {
        taken[i]!++;
      });
    }
    try {
      const items = gateways.flatMap((gw) =>
        makeChain(gw, 10).map((b) => ({ gatewayId: gw.id, cose: b.cose, digest: toHex(b.digest) })),
      );
      const acks = await publishAndCollectAcks(items);
      expect([...acks.values()].every((list) => list.every((a) => a.status === 'accepted'))).toBe(true);
      const held = await workers[0]!.regional.store.listBundles();
      expect(held.map((b) => b.digest).sort()).toEqual(items.map((i) => i.digest).sort());
      expect(held.every((b) => !b.disputed)).toBe(true);
      expect(taken[0]! + taken[1]!).toBe(40);
      expect(taken[0]).toBeGreaterThan(0);
      expect(taken[1]).toBeGreaterThan(0);
      expect(await workers[0]!.regional.store.listAlerts()).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 120_000);

  it('no ack leaves before the item committed: a failing store holds the item back, unacked, and it commits later', async () => {
    const url = cluster.createDatabase(`shared_${dbs++}`);
    const gw = testGateway('gw-slow');
    await registerGateways(url, [gw]);
    let failures = 3;
    // Both ways an item reaches the database fail alike: the full one and the one-statement append.
    const fail = () => {
      if (failures === 0) return undefined;
      failures--;
      return Promise.reject(new Error('connection terminated (simulated PostgreSQL restart)'));
    };
    const worker = await startWorker(url, 'c', (store) => {
      const real = store.withGateway.bind(store);
      store.withGateway = (gatewayId, fn) => fail() ?? real(gatewayId, fn);
      const append = store.appendHead?.bind(store);
      if (append) store.appendHead = (...args) => fail() ?? append(...args);
    });
    try {
      const items = makeChain(gw, 3).map((b) => ({
        gatewayId: gw.id,
        cose: b.cose,
        digest: toHex(b.digest),
      }));
      const committedAtAck: boolean[] = [];
      const acks = await publishAndCollectAcks(items, async (ack) => {
        committedAtAck.push((await worker.regional.store.getBundleByDigest(ack.digest)) !== undefined);
      });
      expect(failures).toBe(0);
      expect(committedAtAck).toEqual([true, true, true]);
      expect([...acks.values()].map((list) => list.length)).toEqual([1, 1, 1]);
      expect((await worker.regional.store.listBundles(gw.id)).map((b) => b.seq)).toEqual([1, 2, 3]);
    } finally {
      await worker.close();
    }
  }, 120_000);
});
