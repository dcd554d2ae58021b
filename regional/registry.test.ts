import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../proto/bundle/ed25519.js';
import { makeChain, testGateway } from '../test/fixtures/bundle-chain.js';
import { isTransientReason } from './ack.js';
import { keyRegistrations } from './evidence-store.js';
import { RegionalNode } from './intake.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';

let counter = 0;
const stores: RxdbRegionalStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function openStore(): Promise<RxdbRegionalStore> {
  const store = await RxdbRegionalStore.open({
    storage: getRxStorageMemory(),
    name: `registry_test_${process.pid}_${counter++}`,
  });
  stores.push(store);
  return store;
}

const gw = testGateway('gw-late');
const record = { gatewayId: gw.id, kid: toHex(gw.kid), publicKey: gw.publicKey, addedAt: 1 };

describe('GatewayRegistry refresh', () => {
  it('a key written to the store behind its back verifies the next bundle, without a restart', async () => {
    let t = 0;
    const store = await openStore();
    const registry = await GatewayRegistry.open(store, { minRefreshMs: 1000, now: () => t });
    const node = new RegionalNode({ registry, store });
    const [b1] = makeChain(gw, 1);
    expect(await node.ingest(b1!.cose, { source: 'test' })).toMatchObject({
      status: 'rejected',
      reason: 'BundleUnknownKey',
    });
    // Another process (the CLI) registers the key: this registry's map never saw it.
    await store.putGatewayKey(record);
    t = 500; // within the rate limit: no re-read yet, still unknown
    expect(await node.ingest(b1!.cose, { source: 'test' })).toMatchObject({ reason: 'BundleUnknownKey' });
    t = 1500;
    expect(await node.ingest(b1!.cose, { source: 'test' })).toMatchObject({ status: 'accepted' });
  });

  it('does not bring back a removed key, and keeps it to verify what it signed before', async () => {
    let t = 0;
    const store = await openStore();
    const registry = await GatewayRegistry.open(store, { minRefreshMs: 0, now: () => t });
    await registry.add(gw.id, gw.publicKey, { now: 1 });
    const node = new RegionalNode({ registry, store });
    const [b1, b2] = makeChain(gw, 2);
    expect(await node.ingest(b1!.cose, { source: 'test' })).toMatchObject({ status: 'accepted' });
    expect(await registry.remove(toHex(gw.kid), { now: 7 })).toBe(true);
    expect(await registry.remove(toHex(gw.kid), { now: 8 })).toBe(false);
    t = 10;
    expect(await registry.refresh()).toBe(true);
    // Nothing new verifies under it ...
    expect(registry.resolve(gw.kid)).toBeUndefined();
    expect(registry.list()).toEqual([]);
    expect(await node.ingest(b2!.cose, { source: 'test' })).toMatchObject({ reason: 'BundleUnknownKey' });
    // ... while what it signed before still does, and the registry says when it was removed.
    expect(registry.resolveStored(gw.kid)).toMatchObject({ gatewayId: gw.id, addedAt: 1, removedAt: 7 });
    expect(registry.list({ includeRemoved: true }).map((k) => [k.kid, k.removedAt])).toEqual([
      [toHex(gw.kid), 7],
    ]);
    // A key removed stays its gateway's: another gateway cannot take it over.
    await expect(registry.add('someone-else', gw.publicKey)).rejects.toMatchObject({ codeName: 'KeyExists' });
    // Registered again by the operator: in use again.
    await registry.add(gw.id, gw.publicKey, { now: 20 });
    expect(registry.resolve(gw.kid)).toMatchObject({ addedAt: 20 });
    expect(registry.resolve(gw.kid)?.removedAt).toBeUndefined();
    expect(await node.ingest(b2!.cose, { source: 'test' })).toMatchObject({ status: 'accepted' });
  });
});

describe('a key removed while the node runs', () => {
  it('stops verifying within maxAgeMs, without a restart', async () => {
    let t = 0;
    const store = await openStore();
    const registry = await GatewayRegistry.open(store, { maxAgeMs: 15_000, now: () => t });
    const node = new RegionalNode({ registry, store });
    await registry.add(gw.id, gw.publicKey);
    const [b1, b2, b3] = makeChain(gw, 3);
    expect(await node.ingest(b1!.cose, { source: 'test' })).toMatchObject({ status: 'accepted' });
    // `maverick regional gateway remove` in another process: its own registry over the same store.
    const cli = await GatewayRegistry.open(store);
    expect(await cli.remove(toHex(gw.kid))).toBe(true);
    t = 10_000; // what the node holds is younger than maxAgeMs: not read again yet
    expect(await node.ingest(b2!.cose, { source: 'test' })).toMatchObject({ status: 'accepted' });
    t = 15_000;
    expect(await node.ingest(b3!.cose, { source: 'test' })).toMatchObject({ reason: 'BundleUnknownKey' });
    expect(registry.resolveStored(gw.kid)?.removedAt).toBeTypeOf('number');
  });
});

describe('key registrations in an evidence pack', () => {
  it('name a removed key with the time it was rotated out, and keys in use as in use', async () => {
    const store = await openStore();
    const registry = await GatewayRegistry.open(store);
    const other = testGateway('b827ebfffe00aa02');
    await registry.add(gw.id, gw.publicKey, { now: 100 });
    await registry.add(other.id, other.publicKey, { now: 200 });
    await registry.remove(toHex(gw.kid), { now: 300 });
    const regional = { issuer: 'regional-test', publicKey: new Uint8Array(32).fill(3), since: 50 };
    const keys = keyRegistrations(registry, [gw.id, other.id], regional);
    expect(keys.map((k) => [k.role, k.id, k.addedAt, k.removedAt])).toEqual(
      expect.arrayContaining([
        ['gateway', gw.id, 100, 300],
        ['gateway', other.id, 200, null],
        ['regional', 'regional-test', 50, null],
      ]),
    );
    expect(keys).toHaveLength(3);
  });
});

describe('transient rejection reasons', () => {
  it('are the ones that say nothing about the bundle bytes', () => {
    for (const reason of [
      'BundleUnknownKey',
      'RegionalUnknownGateway',
      'RegionalStore',
      'StoreIo',
      'StoreDiskFull',
    ])
      expect(isTransientReason(reason), reason).toBe(true);
    for (const reason of [
      'BundleBadSignature',
      'RegionalChain',
      'RegionalEquivocation',
      'RegionalReplay',
      'Unknown',
    ])
      expect(isTransientReason(reason), reason).toBe(false);
  });
});
