import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBundle, makeChain, testGateway } from '../test/fixtures/bundle-chain.js';
import { DAY_START_MS, PLOT_DEFINITIONS } from '../test/fixtures/bundle-simulated-day.js';
import { exportPlot, geoJsonText } from './export-geojson.js';
import { RegionalNode } from './intake.js';
import { GatewayRegistry } from './registry.js';
import { RxdbRegionalStore } from './rxdb-store.js';

let n = 0;
let store: RxdbRegionalStore;
let registry: GatewayRegistry;
let node: RegionalNode;
const gw = testGateway('gw-export');

beforeEach(async () => {
  store = await RxdbRegionalStore.open({
    storage: getRxStorageMemory(),
    name: `regional_export_${process.pid}_${n++}`,
  });
  registry = await GatewayRegistry.open(store);
  await registry.add(gw.id, gw.publicKey);
  node = new RegionalNode({ registry, store });
});
afterEach(async () => {
  await store.close();
});

const day = { plotId: 'plot-north', from: DAY_START_MS, to: DAY_START_MS + 86_400_000 - 1 };

describe('EUDR GeoJSON export', () => {
  it('exports a >4 ha plot as a Polygon in [lon, lat] degrees with the bundle digests and a clean report', async () => {
    const chain = makeChain(gw, 3);
    for (const b of chain) await node.ingest(b.cose, { source: 't' });
    const { geojson, report } = await exportPlot(store, registry, day, () => DAY_START_MS);
    const [feature] = geojson.features;
    expect(feature?.geometry.type).toBe('Polygon');
    const ring = (feature?.geometry.coordinates as number[][][] | undefined)?.[0];
    expect(ring?.[0]).toEqual([-1.234567, 6.123456]);
    const evidence = feature?.properties.evidence as {
      bundles: { seq: number; digest: string }[];
      uplinks: number;
    };
    expect(evidence.bundles.map((b) => b.seq)).toEqual([1, 2, 3]);
    expect(evidence.bundles[0]?.digest).toBe(Buffer.from(chain[0]!.digest).toString('hex'));
    expect(feature?.properties.Area).toBe(6.2);
    expect(report.allBundlesValid).toBe(true);
    expect(report.chains).toEqual([{ gatewayId: 'gw-export', firstSeq: 1, lastSeq: 3, missing: [] }]);
    expect(report.geometry).toEqual({ type: 'Polygon', areaHa: 6.2, eudrCompliant: true });
    expect(report.uplinks).toBe(evidence.uplinks);
    const text = geoJsonText(geojson);
    expect(text).toContain('-1.234567');
    expect(text).toMatch(/\[\s*-1\.232100,\s*6\.123456\s*\]/); // trailing zeros kept: 6 decimals always
    expect(JSON.parse(text).features[0].geometry.coordinates[0][1]).toEqual([-1.2321, 6.123456]);
  });

  it('reports a chain gap; bundles signed by a key removed since still verify', async () => {
    const chain = makeChain(gw, 3);
    await node.ingest(chain[0]!.cose, { source: 't' });
    await node.ingest(chain[2]!.cose, { source: 't' });
    // The key is rotated out after the node took these bundles: they stay evidence.
    await registry.remove(Buffer.from(gw.kid).toString('hex'));
    const { report } = await exportPlot(store, registry, day);
    expect(report.chains[0]?.missing).toEqual([[2, 2]]);
    expect(report.alerts.map((a) => a.kind)).toEqual(['gap']);
    expect(report.allBundlesValid).toBe(true);
    expect(report.bundles.map((b) => [b.seq, b.valid])).toEqual([
      [1, true],
      [3, true],
    ]);
  });

  it('reports a stored bundle that no longer verifies', async () => {
    const chain = makeChain(gw, 1);
    await node.ingest(chain[0]!.cose, { source: 't' });
    // The stored bytes damaged behind the node's back (a restored backup, a disk fault): the
    // signature's last byte flipped.
    const damaged: typeof store = Object.create(store, {
      getBundleByDigest: {
        value: async (digest: string) => {
          const held = await store.getBundleByDigest(digest);
          if (!held) return held;
          const cose = Uint8Array.from(held.cose);
          cose[cose.length - 1]! ^= 0x01;
          return { ...held, cose };
        },
      },
    });
    const { report } = await exportPlot(damaged, registry, day);
    expect(report.allBundlesValid).toBe(false);
    expect(report.bundles.map((b) => b.reason)).toEqual(['BundleBadSignature']);
  });

  it('holds back the bundles of a chain conflict and says so; the rest stays evidence', async () => {
    const chain = makeChain(gw, 5);
    const forged4 = makeBundle(gw, 4, new Uint8Array(32).fill(1), { variant: 9 });
    for (const b of [chain[0], forged4, chain[1], chain[2], chain[3], chain[4]])
      await node.ingest(b!.cose, { source: 't' });
    const { geojson, report } = await exportPlot(store, registry, day);
    expect(report.heldBack.map((b) => [b.seq, b.reason])).toEqual([
      [3, 'ChainDisputed'],
      [4, 'ChainDisputed'],
      [4, 'ChainDisputed'],
    ]);
    expect(report.bundles.map((b) => b.seq)).toEqual([1, 2, 5]);
    expect(report.allBundlesValid).toBe(false);
    const evidence = geojson.features[0]?.properties.evidence as {
      bundles: { seq: number }[];
      uplinks: number;
    };
    expect(evidence.bundles.map((b) => b.seq)).toEqual([1, 2, 5]);
    const carried = await store.evidenceForPlot(day);
    const used = carried.filter((e) => [1, 2, 5].includes(e.seq));
    expect(report.uplinks).toBe(used.length);
    expect(report.alerts.map((a) => a.kind).sort()).toEqual(['chain', 'equivocation']);
  });

  it('uses a Point for a plot of at most 4 ha', async () => {
    expect(PLOT_DEFINITIONS['plot-south']?.areaM2).toBeLessThanOrEqual(40_000);
    const b = makeBundle(gw, 1, new Uint8Array(32), { withPlotDefinitions: true, devices: 10 });
    expect((await node.ingest(b.cose, { source: 't' })).status).toBe('accepted');
    const { geojson, report } = await exportPlot(store, registry, { ...day, plotId: 'plot-south' });
    expect(geojson.features[0]?.geometry).toEqual({ type: 'Point', coordinates: [-1.233, 6.12] });
    expect(report.geometry).toEqual({ type: 'Point', areaHa: 3.1, eudrCompliant: true });
    expect(geoJsonText(geojson)).toMatch(/\[\s*-1\.233000,\s*6\.120000\s*\]/);
  });

  it('refuses a period with no evidence with a clear error', async () => {
    await expect(exportPlot(store, registry, day)).rejects.toThrow(/no evidence for plot plot-north/);
  });
});
