import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../proto/bundle/ed25519.js';
import { makeChain, testGateway } from '../test/fixtures/bundle-chain.js';
import { isTransientReason } from './ack.js';
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

  it('does not bring back a removed key', async () => {
    let t = 0;
    const store = await openStore();
    const registry = await GatewayRegistry.open(store, { minRefreshMs: 0, now: () => t });
    await registry.add(gw.id, gw.publicKey);
    expect(await registry.remove(toHex(gw.kid))).toBe(true);
    t = 10;
    expect(await registry.refresh()).toBe(true);
    expect(registry.resolve(gw.kid)).toBeUndefined();
    expect(registry.list()).toEqual([]);
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
