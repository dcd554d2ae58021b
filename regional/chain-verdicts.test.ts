/**
 * The chain verdicts and open alerts depend on the set of bundles held, not
 * on the order they arrived in. The oracle below decides them from the whole
 * set at once, by the definitions; the node decides them incrementally from a
 * window around each arrival. fast-check feeds the same bundles, with forks,
 * broken links, a second history and repeats, in many orders: on the
 * embedded store, and on PostgreSQL, where in-order arrivals on a clean
 * chain take the one-statement path (appendHead) instead of the full one.
 */
import fc from 'fast-check';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDigest, verifyBundle } from '../proto/bundle/bundle.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import { makeBundle, makeChain, testGateway } from '../test/fixtures/bundle-chain.js';
import {
  type PostgresCluster,
  postgresBinDir,
  startPostgresCluster,
} from '../test/fixtures/postgres-cluster.js';
import { RegionalNode } from './intake.js';
import { PgRegionalStore } from './pg-store.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';
import type { RegionalStore } from './store.js';

const gw = testGateway('gw-order');
interface Item {
  seq: number;
  digest: string;
  prevHash: string;
  cose: Uint8Array;
}
let pool: Item[] = [];

function item(b: { cose: Uint8Array; digest: Uint8Array }): Item {
  const { bundle } = verifyBundle(b.cose, () => gw.publicKey);
  expect(toHex(bundleDigest(b.cose))).toBe(toHex(b.digest));
  return { seq: bundle.seq, digest: toHex(b.digest), prevHash: toHex(bundle.prevHash), cose: b.cose };
}

beforeAll(() => {
  const main = makeChain(gw, 7);
  const alt1 = makeBundle(gw, 1, GENESIS_PREV_HASH, { variant: 2 });
  const alt2 = makeBundle(gw, 2, alt1.digest, { variant: 2 });
  pool = [
    ...main,
    makeBundle(gw, 3, main[1]!.digest, { variant: 5 }), // a true fork at 3
    makeBundle(gw, 5, new Uint8Array(32).fill(7), { variant: 6 }), // forged link at 5
    alt1, // a second history from genesis
    alt2,
    makeBundle(gw, 1, new Uint8Array(32).fill(3), { variant: 8 }), // a "first" bundle not on genesis
  ].map(item);
});

/** The verdicts by definition, from the whole set. */
function oracle(items: Item[]): { disputed: string[]; open: string[] } {
  const at = (seq: number) => items.filter((i) => i.seq === seq);
  const broken = (i: Item) =>
    i.seq === 1
      ? i.prevHash !== '00'.repeat(32)
      : at(i.seq - 1).length > 0 && !at(i.seq - 1).some((p) => p.digest === i.prevHash);
  const disputed = items.filter(
    (i) => at(i.seq).length > 1 || broken(i) || at(i.seq + 1).some((next) => broken(next)),
  );
  const open: string[] = [];
  const seqs = [...new Set(items.map((i) => i.seq))].sort((a, b) => a - b);
  let below = 0;
  for (const seq of seqs) {
    if (seq - below > 1) open.push(`gap|${gw.id}|${below + 1}|${seq - 1}`);
    if (at(seq).length > 1) open.push(`equivocation|${gw.id}|${seq}`);
    below = seq;
  }
  for (const i of items) if (broken(i)) open.push(`chain|${gw.id}|${i.seq}|${i.digest}`);
  return { disputed: disputed.map((i) => i.digest).sort(), open: open.sort() };
}

let run = 0;
type Opener = () => Promise<RegionalStore>;
const rxdbMemory: Opener = () =>
  RxdbRegionalStore.open({ storage: getRxStorageMemory(), name: `regional_order_${process.pid}_${run++}` });

/** Appends that took the store's one-step path (appendHead returned true), over every run. */
let appendedHeads = 0;

async function ingestInOrder(
  order: Item[],
  open: Opener = rxdbMemory,
): Promise<{ disputed: string[]; open: string[]; held: string[] }> {
  const store = await open();
  const appendHead = store.appendHead?.bind(store);
  if (appendHead)
    store.appendHead = async (...args) => {
      const stored = await appendHead(...args);
      if (stored) appendedHeads++;
      return stored;
    };
  try {
    const registry = await GatewayRegistry.open(store);
    await registry.add(gw.id, gw.publicKey);
    const node = new RegionalNode({ registry, store });
    for (const i of order) {
      const result = await node.ingest(i.cose, { source: 'prop' });
      expect(result.status).not.toBe('rejected');
    }
    const bundles = await store.listBundles(gw.id);
    return {
      held: bundles.map((b) => b.digest).sort(),
      disputed: bundles
        .filter((b) => b.disputed)
        .map((b) => b.digest)
        .sort(),
      open: (await store.listAlerts(gw.id)).map((a) => a.id).sort(),
    };
  } finally {
    await store.close();
  }
}

/** The property: any subset, any order, with repeats, gives the oracle's verdicts on the engine `open` gives. */
function anyOrderAnySubset(open: Opener, numRuns: number): Promise<void> {
  return fc.assert(
    fc.asyncProperty(
      fc.shuffledSubarray(
        Array.from({ length: 12 }, (_, i) => i),
        { minLength: 1 },
      ),
      fc.array(fc.nat(11), { maxLength: 3 }),
      async (indices, repeats) => {
        const chosen = indices.map((i) => pool[i] as Item);
        const order = [...chosen];
        for (const r of repeats) order.splice(r % (order.length + 1), 0, chosen[r % chosen.length] as Item);
        const got = await ingestInOrder(order, open);
        const want = oracle(chosen);
        expect(got.held).toEqual(chosen.map((i) => i.digest).sort());
        expect(got.disputed).toEqual(want.disputed);
        expect(got.open).toEqual(want.open);
      },
    ),
    { numRuns },
  );
}

describe('chain verdicts do not depend on arrival order', () => {
  it('any subset of a forked, broken, two-history set, in any order, with repeats: the same verdicts as the whole-set oracle', async () => {
    await anyOrderAnySubset(rxdbMemory, 60);
  });

  it('the whole pool in sorted and in reverse order gives the same verdicts', async () => {
    const sorted = [...pool].sort((a, b) => a.seq - b.seq);
    const forward = await ingestInOrder(sorted);
    const backward = await ingestInOrder([...sorted].reverse());
    expect(backward).toEqual(forward);
    expect(forward.disputed.length).toBeGreaterThan(0);
    expect(forward).toEqual({ ...oracle(pool), held: pool.map((i) => i.digest).sort() });
  });
});

describe.runIf(postgresBinDir() !== undefined)(
  'chain verdicts on PostgreSQL (one-statement appends included)',
  () => {
    let cluster: PostgresCluster;
    let databases = 0;
    const pgStore: Opener = () =>
      PgRegionalStore.open({ url: cluster.createDatabase(`verdicts_${databases++}`), poolSize: 2 });
    beforeAll(async () => {
      cluster = await startPostgresCluster();
    }, 120_000);
    afterAll(() => cluster?.stop());

    it('the whole pool in order and in reverse: the oracle verdicts, the in-order appends taking the one-step path', async () => {
      const sorted = [...pool].sort((a, b) => a.seq - b.seq);
      const before = appendedHeads;
      const forward = await ingestInOrder(sorted, pgStore);
      expect(appendedHeads).toBeGreaterThan(before);
      expect(forward).toEqual({ ...oracle(pool), held: pool.map((i) => i.digest).sort() });
      expect(await ingestInOrder([...sorted].reverse(), pgStore)).toEqual(forward);
    }, 120_000);

    it('any subset in any order, with repeats: the same verdicts as the whole-set oracle', async () => {
      const before = appendedHeads;
      await anyOrderAnySubset(pgStore, 15);
      expect(appendedHeads).toBeGreaterThan(before);
    }, 240_000);
  },
);
