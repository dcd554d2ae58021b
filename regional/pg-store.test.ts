/**
 * The RegionalStore contract on PostgreSQL, each test on a fresh database of
 * one throwaway cluster; then what only PostgreSQL promises: versioned
 * migrations, and per-gateway serialisation across independent connections
 * (several workers accepting bundles of one gateway at once).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyBundle } from '../proto/bundle/bundle.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { makeBundle, makeChain, testGateway } from '../test/fixtures/bundle-chain.js';
import {
  type PostgresCluster,
  postgresBinDir,
  startPostgresCluster,
} from '../test/fixtures/postgres-cluster.js';
import { regionalStoreContract } from '../test/fixtures/regional-store-contract.js';
import { RegionalNode } from './intake.js';
import { MIGRATIONS, migrate } from './pg-migrations.js';
import { PgRegionalStore } from './pg-store.js';
import { GatewayRegistry } from './registry.js';

const installed = postgresBinDir() !== undefined;
if (!installed)
  console.warn('PostgreSQL is not installed: the PostgreSQL store suite is skipped (.ci/run installs it)');

let cluster: PostgresCluster;
let n = 0;
const freshDatabase = () => cluster.createDatabase(`contract_${n++}`);
/** Each contract store's database, so a second worker can open it. */
const urls = new WeakMap<object, string>();

/** A fresh database with `count` bundles of one gateway ingested by the regional node, and a raw client on it. */
async function withIngestedChain(
  gatewayId: string,
  count: number,
  fn: (held: {
    store: PgRegionalStore;
    client: pg.Client;
    gw: ReturnType<typeof testGateway>;
    chain: ReturnType<typeof makeChain>;
  }) => Promise<void>,
): Promise<void> {
  const url = freshDatabase();
  const store = await PgRegionalStore.open({ url });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const gw = testGateway(gatewayId);
    const registry = await GatewayRegistry.open(store);
    await registry.add(gw.id, gw.publicKey);
    const chain = makeChain(gw, count);
    const node = new RegionalNode({ registry, store });
    for (const b of chain) expect((await node.ingest(b.cose, { source: 't' })).status).toBe('accepted');
    await fn({ store, client, gw, chain });
  } finally {
    await client.end();
    await store.close();
  }
}

describe.runIf(installed)('PgRegionalStore', () => {
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, 120_000);
  afterAll(() => cluster?.stop());

  regionalStoreContract({
    name: 'PostgreSQL',
    transactional: true,
    open: async () => {
      const url = freshDatabase();
      const store = await PgRegionalStore.open({ url });
      urls.set(store, url);
      return store;
    },
    sibling: (store) => PgRegionalStore.open({ url: urls.get(store) as string }),
  });

  it('migrates a new database to the latest version once, also when two workers start together', async () => {
    const url = freshDatabase();
    const [a, b] = await Promise.all([PgRegionalStore.open({ url }), PgRegionalStore.open({ url })]);
    await Promise.all([a.close(), b.close()]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM maverick_schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await client.end();
    }
  });

  it('refuses a database newer than this code, and rolls back a failing migration', async () => {
    const url = freshDatabase();
    const pool = new pg.Pool({ connectionString: url });
    const client = await pool.connect();
    try {
      await migrate(client);
      await expect(
        migrate(client, [
          ...MIGRATIONS,
          { version: 99, name: 'broken', sql: 'CREATE TABLE t99 (x int); SELECT nope;' },
        ]),
      ).rejects.toThrow(/schema migration 99 \(broken\) failed/);
      const { rows } = await client.query("SELECT to_regclass('t99') AS t");
      expect(rows[0].t).toBeNull();
      await client.query(
        "INSERT INTO maverick_schema_migrations (version, name) VALUES (99, 'from the future')",
      );
    } finally {
      client.release();
      await pool.end();
    }
    await expect(PgRegionalStore.open({ url })).rejects.toThrow(
      /schema version 99, newer than this maverick knows/,
    );
  });

  it('a server restart in the middle of an item fails that item only; the process lives and the next item commits', async () => {
    const store = await PgRegionalStore.open({ url: freshDatabase(), poolSize: 2 });
    try {
      let restarted!: () => void;
      const restartDone = new Promise<void>((r) => {
        restarted = r;
      });
      const midItem = store.withGateway('gw-r', async (chain) => {
        await chain.linksInRange(1, 3);
        cluster.restart('immediate');
        restarted();
        await chain.linksInRange(1, 3); // the connection is gone
      });
      await expect(midItem).rejects.toThrow();
      await restartDone;
      let links: unknown;
      for (let attempt = 0; attempt < 50 && links === undefined; attempt++) {
        links = await store.withGateway('gw-r', (chain) => chain.linksInRange(1, 3)).catch(() => undefined);
      }
      expect(links).toEqual([]);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('uplinks are stored once (in the COSE bytes); evidence rows from before migration 3 still read their JSON', async () => {
    await withIngestedChain('gw-ev', 1, async ({ store, client, gw, chain: [first] }) => {
      const { rows } = await client.query(
        'SELECT count(*)::int AS n, count(uplinks)::int AS with_json FROM plot_evidence',
      );
      expect(rows[0]).toEqual({ n: expect.any(Number), with_json: 0 });
      expect(rows[0].n).toBeGreaterThan(0);
      const all = { from: 0, to: Number.MAX_SAFE_INTEGER };
      const fromCose = await store.evidenceForPlot({ plotId: 'plot-north', ...all });
      const decoded = verifyBundle(first!.cose, () => gw.publicKey).bundle.uplinks;
      expect(fromCose.map((e) => e.uplink)).toEqual(
        decoded.filter((u) => u.plotId === 'plot-north').sort((a, b) => a.receivedAt - b.receivedAt),
      );

      // A row as version 2 wrote it: the plot's uplinks as JSON beside a bundle.
      await client.query(
        `INSERT INTO plot_evidence (bundle, plot_id, gateway_id, seq, first_at, last_at, uplinks)
         VALUES ($1, 'plot-old', 'gw-ev', 1, 10, 20, $2)`,
        [
          Buffer.from(first!.digest),
          JSON.stringify([
            { d: '0102030405060708', f: 7, t: 15, s: 'gps', r: [{ field: 't', scale: -1, value: 3 }] },
          ]),
        ],
      );
      expect(await store.evidenceForPlot({ plotId: 'plot-old', ...all })).toEqual([
        {
          gatewayId: 'gw-ev',
          seq: 1,
          digest: toHex(first!.digest),
          uplink: {
            devEui: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
            plotId: 'plot-old',
            fCnt: 7,
            receivedAt: 15,
            timeSource: 'gps',
            readings: [{ field: 't', scale: -1, value: 3 }],
          },
        },
      ]);
    });
  });

  it('device summaries are stored once (in the COSE bytes); rows from before migration 5 still read their JSON', async () => {
    await withIngestedChain('gw-dev', 2, async ({ store, client, gw, chain: [first, second] }) => {
      const { rows } = await client.query(
        'SELECT count(*)::int AS n, count(devices)::int AS with_json FROM bundles',
      );
      expect(rows[0]).toEqual({ n: 2, with_json: 0 });
      // The independent oracle: the summaries verifyBundle decodes from the signed bytes.
      const signed = verifyBundle(first!.cose, () => gw.publicKey).bundle.devices;
      expect(signed.length).toBeGreaterThan(0);
      const held = await store.getBundleByDigest(toHex(first!.digest));
      expect(held?.devices).toEqual(signed);
      expect((await store.listBundles(gw.id)).map((b) => b.devices)).toEqual([
        signed,
        verifyBundle(second!.cose, () => gw.publicKey).bundle.devices,
      ]);

      // A row as version 3 wrote it: the summaries as JSON, which win over the COSE bytes.
      const old = {
        devEui: '0102030405060708',
        plotId: 'plot-old',
        uplinks: 2,
        fCntFirst: 1,
        fCntLast: 3,
        missingFCnt: [[2, 2]],
        counterResets: 0,
      };
      await client.query('UPDATE bundles SET devices = $1 WHERE digest = $2', [
        JSON.stringify([old]),
        Buffer.from(first!.digest),
      ]);
      expect((await store.getBundleByDigest(toHex(first!.digest)))?.devices).toEqual([
        { ...old, devEui: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
      ]);
    });
  });

  it('a clear error when the server is not there', async () => {
    await expect(
      PgRegionalStore.open({ url: `postgres://maverick:secret@127.0.0.1:${cluster.port}/no_such_db` }),
    ).rejects.toThrow(/cannot connect to PostgreSQL at postgres:\/\/maverick:\*\*\*@127\.0\.0\.1/);
  });

  // Without the per-gateway advisory lock this test fails: concurrent workers each see the
  // bundle missing and store it again, or decide verdicts from a window another is changing.
  it('four workers ingesting one gateway at once (forks included) reach the same verdicts as one worker in order', async () => {
    const gw = testGateway('gw-race');
    const chain = makeChain(gw, 12);
    const forks = [
      makeBundle(gw, 4, chain[2]!.digest, { variant: 3 }),
      makeBundle(gw, 9, new Uint8Array(32).fill(5), { variant: 4 }),
    ];
    const items = [...chain, ...forks];

    async function run(url: string, workers: number, order: typeof items): Promise<unknown> {
      const stores = await Promise.all(
        Array.from({ length: workers }, () => PgRegionalStore.open({ url, poolSize: 2 })),
      );
      try {
        const registry = await GatewayRegistry.open(stores[0]!);
        if (registry.list().length === 0) await registry.add(gw.id, gw.publicKey);
        const nodes = await Promise.all(
          stores.map(
            async (store) => new RegionalNode({ registry: await GatewayRegistry.open(store), store }),
          ),
        );
        // Every worker is handed every bundle (a redelivery storm), all at once.
        const results = await Promise.all(
          nodes.flatMap((node) => order.map((b) => node.ingest(b.cose, { source: 'race' }))),
        );
        expect(results.filter((r) => r.status === 'accepted')).toHaveLength(items.length);
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        const held = await stores[0]!.listBundles(gw.id);
        return {
          bundles: held.map((b) => [b.seq, b.digest, b.disputed]),
          alerts: (await stores[0]!.listAlerts(gw.id)).map((a) => a.id).sort(),
        };
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }

    const serial = await run(freshDatabase(), 1, items);
    const raced = await run(freshDatabase(), 4, [...items].reverse());
    expect(raced).toEqual(serial);
    const disputed = (serial as { bundles: [number, string, boolean][] }).bundles
      .filter(([, , d]) => d)
      .map(([s, d]) => [s, d]);
    expect(disputed.map(([s]) => s)).toEqual([4, 4, 8, 9, 9]);
    expect(disputed.some(([, d]) => d === toHex(forks[1]!.digest))).toBe(true);
  }, 120_000);

  it('in-order arrivals of many gateways in one turn are one statement; one that is not a head stores nothing and takes the full path', async () => {
    const url = freshDatabase();
    const store = await PgRegionalStore.open({ url });
    const query = vi.spyOn(pg.Pool.prototype, 'query');
    try {
      const registry = await GatewayRegistry.open(store);
      const gateways = Array.from({ length: 6 }, (_, i) => testGateway(`gw-batch-${i}`));
      for (const gw of gateways) await registry.add(gw.id, gw.publicKey);
      const chains = gateways.map((gw) => makeChain(gw, 2));
      const node = new RegionalNode({ registry, store });
      // Gateways 0..4 send bundle 1 (each its gateway's head); gateway 5 sends bundle 2 before bundle 1.
      const items = chains.map((chain, i) => (i < 5 ? chain[0]! : chain[1]!));
      query.mockClear();
      const results = await Promise.all(items.map((b) => node.ingest(b.cose, { source: 'batch' })));
      expect(results.map((r) => r.status)).toEqual(Array(6).fill('accepted'));
      const batches = query.mock.calls.filter(
        ([config]) => (config as { name?: string }).name === 'append-heads',
      );
      expect(batches).toHaveLength(1);
      for (const [i, gw] of gateways.entries()) {
        const held = await store.listBundles(gw.id);
        expect(held.map((b) => [b.seq, b.digest])).toEqual([[i < 5 ? 1 : 2, toHex(items[i]!.digest)]]);
        // Each bundle's exact bytes, cut back out of the batch's one COSE buffer.
        expect(Buffer.from(held[0]!.cose)).toEqual(Buffer.from(items[i]!.cose));
      }
      // Bundle 2 first is not a head: the full path stored it and opened the gap alert.
      expect((await store.listAlerts('gw-batch-5')).map((a) => a.id)).toEqual(['gap|gw-batch-5|1|1']);
      expect(await store.listAlerts('gw-batch-0')).toEqual([]);
    } finally {
      query.mockRestore();
      await store.close();
    }
  });

  // Each append holds its gateway's advisory lock until its batch commits: without taking them in
  // one order, two workers' batches over the same gateways wait on each other (PostgreSQL then
  // aborts one with a deadlock error, which this test would see as a rejected ingest).
  it('two workers batching the same gateways in opposite orders never deadlock, and store each bundle once', async () => {
    const url = freshDatabase();
    const stores = await Promise.all([PgRegionalStore.open({ url }), PgRegionalStore.open({ url })]);
    try {
      const registry = await GatewayRegistry.open(stores[0]!);
      const gateways = Array.from({ length: 24 }, (_, i) => testGateway(`gw-order-${i}`));
      for (const gw of gateways) await registry.add(gw.id, gw.publicKey);
      const chains = gateways.map((gw) => makeChain(gw, 3));
      const nodes = await Promise.all(
        stores.map(async (store) => new RegionalNode({ registry: await GatewayRegistry.open(store), store })),
      );
      for (let seq = 0; seq < 3; seq++) {
        const round = chains.map((chain) => chain[seq]!);
        const results = await Promise.all([
          ...round.map((b) => nodes[0]!.ingest(b.cose, { source: 'w0' })),
          ...[...round].reverse().map((b) => nodes[1]!.ingest(b.cose, { source: 'w1' })),
        ]);
        expect(results.filter((r) => r.status === 'accepted')).toHaveLength(round.length);
        expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(round.length);
      }
      const held = await stores[0]!.listBundles();
      expect(held).toHaveLength(24 * 3);
      expect(new Set(held.map((b) => b.digest)).size).toBe(24 * 3);
      expect(held.some((b) => b.disputed)).toBe(false);
      expect(await stores[0]!.listAlerts()).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 120_000);
});
