import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitmentDigest, signCommitment } from '../proto/bundle/commitment.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import { encodeFragment, SBD_MO_MTU, splitItem } from '../proto/link/fragment.js';
import { type BundleLeaves, leavesOfBundle } from '../proto/proof/bundle-leaves.js';
import { MerkleTree } from '../proto/proof/merkle.js';
import { makeBundle, makeChain, testGateway } from '../test/fixtures/bundle-chain.js';
import { checkCommitment, ingestCommitment } from './commitments.js';
import { RegionalNode } from './intake.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';
import { commitmentIntake } from './serve.js';
import { RegionalMessageIntake } from './transport/message-intake.js';

let n = 0;
let store: RxdbRegionalStore;
let registry: GatewayRegistry;
let node: RegionalNode;
const gw = testGateway('gw-commit');
const DAY = 20_412;

async function freshNode(): Promise<void> {
  store = await RxdbRegionalStore.open({
    storage: getRxStorageMemory(),
    name: `regional_commit_${process.pid}_${n++}`,
  });
  registry = await GatewayRegistry.open(store);
  await registry.add(gw.id, gw.publicKey);
  node = new RegionalNode({ registry, store });
}
beforeEach(freshNode);
afterEach(async () => {
  await store.close();
});

function commitmentFor(
  digests: Uint8Array[],
  seqLast = digests.length,
  dayRoot?: Uint8Array,
  uplinks = 100,
): Uint8Array {
  return signCommitment(
    {
      ...(dayRoot ? { dayRoot, leaves: uplinks } : {}),
      day: DAY,
      seqFirst: 1,
      seqLast,
      digest: commitmentDigest(digests),
      bundles: digests.length,
      uplinks,
      timeRange: { start: 0, end: 1 },
      timeSources: { gps: uplinks, ntp: 0, 'host-unsynced': 0 },
    },
    gw,
    { iss: gw.id, sub: 'farm:test', iat: 1 },
  );
}

describe('daily commitments at the regional node', () => {
  it('checks a version 2 day root against the records of the held bundles', async () => {
    const chain = makeChain(gw, 2);
    const deps = { registry, store };
    for (const b of chain) await node.ingest(b.cose, { source: 't' });
    const leaves = chain.map((b) => leavesOfBundle(b.cose, () => gw.publicKey) as BundleLeaves);
    const hashes = leaves.flatMap((l) => l.leafHashes);
    const digests = chain.map((b) => b.digest);
    const honest = commitmentFor(digests, 2, MerkleTree.fromLeafHashes(hashes).root, hashes.length);
    await ingestCommitment(deps, honest, { source: 'sat' });
    expect((await checkCommitment(deps, gw.id, DAY)).status).toBe('complete');
    // The same bundles, the same digest, but a day root over other records: contradicted.
    await store.close();
    await freshNode();
    const lying = { registry, store };
    for (const b of chain) await node.ingest(b.cose, { source: 't' });
    const wrongRoot = MerkleTree.fromLeafHashes(hashes.slice(1)).root;
    await ingestCommitment(lying, commitmentFor(digests, 2, wrongRoot, hashes.length), { source: 'sat' });
    expect(await checkCommitment(lying, gw.id, DAY)).toMatchObject({
      status: 'contradicted',
      alert: { message: expect.stringMatching(/day root/) },
    });
  });

  it('is incomplete until every committed bundle arrives, then complete', async () => {
    const chain = makeChain(gw, 3);
    const deps = { registry, store };
    expect(
      await ingestCommitment(deps, commitmentFor(chain.map((b) => b.digest)), { source: 'sat' }),
    ).toEqual({
      status: 'accepted',
      gatewayId: gw.id,
      day: DAY,
    });
    expect(
      (await ingestCommitment(deps, commitmentFor(chain.map((b) => b.digest)), { source: 'sat' })).status,
    ).toBe('duplicate');
    await node.ingest(chain[0]!.cose, { source: 't' });
    expect(await checkCommitment(deps, gw.id, DAY)).toMatchObject({ status: 'incomplete', missing: [2, 3] });
    for (const b of chain.slice(1)) await node.ingest(b.cose, { source: 't' });
    expect((await checkCommitment(deps, gw.id, DAY)).status).toBe('complete');
  });

  it('raises an equivocation alert when the held bundles contradict the commitment', async () => {
    const [b1] = makeChain(gw, 1);
    const other = makeBundle(gw, 1, GENESIS_PREV_HASH, { variant: 5 });
    await ingestCommitment({ registry, store }, commitmentFor([other.digest]), { source: 'sat' });
    await node.ingest(b1!.cose, { source: 't' });
    const check = await checkCommitment({ registry, store }, gw.id, DAY);
    expect(check.status).toBe('contradicted');
    expect((await store.listAlerts(gw.id)).map((a) => a.kind)).toEqual(['equivocation']);
  });

  it('rejects commitments from unregistered keys and garbage, with a reason', async () => {
    const stranger = testGateway('gw-x');
    const foreign = signCommitment(
      {
        day: 1,
        seqFirst: 1,
        seqLast: 1,
        digest: new Uint8Array(32),
        bundles: 1,
        uplinks: 1,
        timeRange: { start: 0, end: 0 },
        timeSources: { gps: 1, ntp: 0, 'host-unsynced': 0 },
      },
      stranger,
      { iss: stranger.id, sub: 's', iat: 1 },
    );
    expect(await ingestCommitment({ registry, store }, foreign, { source: 't' })).toMatchObject({
      status: 'rejected',
      reason: 'BundleUnknownKey',
    });
    expect(
      await ingestCommitment({ registry, store }, Uint8Array.of(1, 2, 3), { source: 't' }),
    ).toMatchObject({ status: 'rejected', reason: 'BundleMalformed' });
    expect(await checkCommitment({ registry, store }, gw.id, DAY)).toEqual({ status: 'none' });
  });

  it('takes a commitment that arrives by satellite (SBD fragments through the message intake)', async () => {
    const bytes = commitmentFor(makeChain(gw, 2).map((b) => b.digest));
    const refusing = new RegionalMessageIntake({ node });
    const accepting = new RegionalMessageIntake({ node, onOther: commitmentIntake({ registry, store }) });
    for (const fragment of splitItem('commitment', bytes, SBD_MO_MTU)) {
      await refusing.handle('300234010000009', encodeFragment(fragment));
    }
    // Without the handler the node holds nothing: what the demo's satellite path used to do.
    expect(await store.getCommitment(gw.id, DAY)).toBeUndefined();
    for (const fragment of splitItem('commitment', bytes, SBD_MO_MTU)) {
      await accepting.handle('300234010000009', encodeFragment(fragment));
    }
    expect(await store.getCommitment(gw.id, DAY)).toMatchObject({ day: DAY, bundles: 2, uplinks: 100 });
  });
});
