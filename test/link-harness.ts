/**
 * Shared set-up for the link suites and bench/link.bench.ts: real signed
 * bundles (the bundle profile's signing, the simulated farm's telemetry), a
 * regional node on RxDB memory storage, and the gateway's farm database.
 */
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { type FarmDatabase, openFarmDatabase } from '../kernel/db/farm-db.js';
import { bundleDigest, signBundle } from '../proto/bundle/bundle.js';
import { encodeBundlePayload } from '../proto/bundle/payload.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import { RegionalNode } from '../regional/intake.js';
import { GatewayRegistry } from '../regional/registry.js';
import { RxdbRegionalStore } from '../regional/rxdb-store.js';
import type { RegionalStore } from '../regional/store.js';
import { makeChain, type TestGateway, testGateway } from './fixtures/bundle-chain.js';
import { DAY_MS, DAY_START_MS, plotReferences, simulatedDay } from './fixtures/bundle-simulated-day.js';

export { makeChain, type TestGateway, testGateway };

let counter = 0;
const unique = (prefix: string) => `${prefix}${process.pid}_${Date.now() % 1_000_000}_${counter++}`;

export interface SignedBundle {
  seq: number;
  cose: Uint8Array;
  digest: Uint8Array;
}

/** A whole day of the simulated farm (10 sensors every 15 min) sealed into one signed bundle: a few KB. */
export function dayBundle(
  gw: TestGateway,
  seq = 1,
  prevHash: Uint8Array = GENESIS_PREV_HASH,
  devices = 10,
): SignedBundle {
  const uplinks = simulatedDay({ devices, seed: 42 + seq });
  const payload = encodeBundlePayload({
    seq,
    prevHash,
    timeRange: { start: DAY_START_MS, end: DAY_START_MS + DAY_MS - 1 },
    plots: plotReferences(seq === 1),
    uplinks,
    compress: true,
  });
  const cose = signBundle(payload, gw, { iss: gw.id, sub: 'farm:test', iat: 1_763_700_000 + seq });
  return { seq, cose, digest: bundleDigest(cose) };
}

export interface RegionalHarness {
  node: RegionalNode;
  store: RxdbRegionalStore;
  close(): Promise<void>;
}

export async function openRegional(gateways: TestGateway[]): Promise<RegionalHarness> {
  const store = await RxdbRegionalStore.open({ storage: getRxStorageMemory(), name: unique('linkregional') });
  const registry = await GatewayRegistry.open(store);
  for (const gw of gateways) await registry.add(gw.id, gw.publicKey);
  const node = new RegionalNode({ registry, store });
  return { node, store, close: () => store.close() };
}

export function openMemoryFarm(): Promise<FarmDatabase> {
  return openFarmDatabase({ storage: getRxStorageMemory(), name: unique('linkfarm') });
}

/** Checks the regional node holds bundles 1..n of `gatewayId` exactly once, each linking to the one before. */
export async function chainReport(
  store: Pick<RegionalStore, 'listBundles'>,
  gatewayId: string,
): Promise<{ seqs: number[]; continuous: boolean }> {
  const bundles = (await store.listBundles(gatewayId)).sort((a, b) => a.seq - b.seq);
  let continuous = true;
  for (let i = 0; i < bundles.length; i++) {
    const expectedPrev = i === 0 ? '00'.repeat(32) : bundles[i - 1]!.digest;
    if (bundles[i]!.seq !== i + 1 || bundles[i]!.prevHash !== expectedPrev) continuous = false;
  }
  return { seqs: bundles.map((b) => b.seq), continuous };
}

/** The suites' bounded wait (test/helpers/wait.ts), kept importable from here for the link suites. */
export { eventually } from './helpers/wait.js';
