/**
 * The gateway runtime's satellite link (issue 6): with the regional MQTT link
 * cut, the runtime's outbox gets a bundle through the Iridium SBD modem (the
 * real AT driver against the AT emulator, in memory) to the regional node; the
 * satellite's daily byte budget stops a bundle half-way and IP finishes it
 * once it is back; a missing modem leaves the link down, logged, and the
 * gateway up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SbdModem } from '../gateway/link/sbd-modem.js';
import type { SatelliteSyncOptions } from '../gateway/regional-sync.js';
import { type GatewayRuntime, startGatewayRuntime } from '../gateway/runtime.js';
import { Outbox } from '../kernel/outbox/outbox.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { fragmentCount, SBD_MO_MTU } from '../proto/link/fragment.js';
import { RegionalMessageIntake } from '../regional/transport/message-intake.js';
import { startRegionalTransport } from '../regional/transport/mqtt-intake.js';
import { TcpLinkProxy } from '../simulator/link-emulator.js';
import { SbdModemEmulator } from '../simulator/sbd-modem.js';
import { createSerialPair } from '../simulator/sbd-modem-pair.js';
import { prng } from './fixtures/bundle-simulated-day.js';
import { captureLogger, type LogLine } from './helpers/e2e-field.js';
import { testAckSigner, writeTestRegionalPublicKey } from './helpers/regional-ack-key.js';
import { dayBundle, eventually, openRegional, testGateway } from './link-harness.js';

const gw = testGateway('gw-sat-runtime');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A regional node with its MQTT intake behind a cut TCP proxy (IP down) and an SBD emulator feeding its message intake. */
async function regionalWithSatellite(dropRate: number) {
  const regional = await openRegional([gw]);
  cleanups.push(() => regional.close());
  const transport = await startRegionalTransport({
    node: regional.node,
    acks: testAckSigner,
    embedded: { port: 0 },
  });
  cleanups.push(() => transport.close());
  const intake = new RegionalMessageIntake({ node: regional.node, reassembler: transport.reassembler });
  const proxy = await TcpLinkProxy.start({
    target: { host: '127.0.0.1', port: Number(new URL(transport.brokerUrl).port) },
  });
  proxy.cut();
  cleanups.push(() => proxy.close());
  const [gatewayEnd, modemEnd] = createSerialPair();
  const emulator = new SbdModemEmulator(modemEnd, {
    deliver: (mo) => intake.handle('300234010000001', mo),
    dropRate,
    latencyMs: 2,
    random: prng(11),
  });
  cleanups.push(() => emulator.close());
  const open: SatelliteSyncOptions['open'] = async () => {
    const modem = new SbdModem(gatewayEnd, { commandTimeoutMs: 2000, sessionTimeoutMs: 2000 });
    await modem.init();
    return modem;
  };
  return { regional, proxy, emulator, open };
}

async function startRuntime(
  sync: NonNullable<Parameters<typeof startGatewayRuntime>[0]['sync']>,
  logs: LogLine[] = [],
): Promise<GatewayRuntime> {
  const dataDir = mkdtempSync(join(tmpdir(), 'maverick-sync-sat-'));
  const runtime = await startGatewayRuntime({
    dataDir,
    gatewayId: 'b827ebfffe00aa01',
    regionId: 'EU868',
    radios: [],
    mqtt: { kind: 'embedded', host: '127.0.0.1', port: 0, username: 'maverick', password: 'test-password' },
    synchronous: 'NORMAL',
    sync: { ackTimeoutMs: 2_000, regionalPublicKeyFile: writeTestRegionalPublicKey(dataDir), ...sync },
    logger: captureLogger(logs),
  });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => runtime.stop());
  return runtime;
}

describe('gateway runtime with the satellite link', () => {
  it('gets a bundle to the regional node over SBD while MQTT is down', async () => {
    const { regional, proxy, emulator, open } = await regionalWithSatellite(0.1);
    const runtime = await startRuntime({
      regionalUrl: proxy.url,
      satellite: { path: 'in-memory', open, startDelayMs: 0, checkEveryMs: 200, dailyBytes: 100_000 },
    });
    const bundle = dayBundle(gw, 1);
    expect(bundle.cose.length).toBeGreaterThan(2 * SBD_MO_MTU);
    await runtime.outbox!.enqueue(Outbox.item('bundle', 1, bundle.cose));
    await eventually(() => runtime.outbox!.size === 0, 45_000, 'the outbox to drain over satellite');

    const held = await regional.store.listBundles(gw.id);
    expect(held).toHaveLength(1);
    expect(held[0]!.digest).toBe(toHex(bundle.digest));
    expect(held[0]!.source).toMatch(/^sbd:/);
    expect(proxy.bytesForwarded).toBe(0);
    expect(runtime.sync!.monitor.isUp('mqtt')).toBe(false);
    expect(emulator.counters.moDelivered).toBeGreaterThanOrEqual(
      fragmentCount(bundle.cose.length, SBD_MO_MTU),
    );
    const doc = await runtime.db.bundles.findOne({ selector: { digest: toHex(bundle.digest) } }).exec();
    expect(doc?.syncState).toBe('acked');
  }, 60_000);

  it('stops at the daily satellite budget and lets IP finish the bundle', async () => {
    const { regional, proxy, emulator, open } = await regionalWithSatellite(0);
    const budget = 3 * SBD_MO_MTU;
    const runtime = await startRuntime({
      regionalUrl: proxy.url,
      satellite: { path: 'in-memory', open, startDelayMs: 0, checkEveryMs: 200, dailyBytes: budget },
    });
    const bundle = dayBundle(gw, 1);
    expect(fragmentCount(bundle.cose.length, SBD_MO_MTU)).toBeGreaterThan(3);
    await runtime.outbox!.enqueue(Outbox.item('bundle', 1, bundle.cose));
    await eventually(() => emulator.counters.moDelivered >= 3, 20_000, 'the satellite budget to be spent');
    // Budget spent: nothing more goes by satellite, the bundle waits for IP.
    await new Promise((r) => setTimeout(r, 600));
    expect(emulator.counters.moBytes).toBeLessThanOrEqual(budget);
    expect(runtime.outbox!.size).toBe(1);
    expect(await regional.store.listBundles(gw.id)).toHaveLength(0);

    proxy.restore();
    await eventually(() => runtime.outbox!.size === 0, 30_000, 'the outbox to drain over MQTT');
    const held = await regional.store.listBundles(gw.id);
    expect(held.map((b) => [b.seq, b.source.startsWith('sbd:')])).toEqual([[1, false]]);
    expect(emulator.counters.moBytes).toBeLessThanOrEqual(budget);
  }, 60_000);

  it('starts without its modem: the satellite link is down and the reason is logged', async () => {
    const logs: LogLine[] = [];
    const runtime = await startRuntime(
      { satellite: { path: join(tmpdir(), `no-modem-${process.pid}`), startDelayMs: 0, checkEveryMs: 100 } },
      logs,
    );
    await eventually(
      () => logs.some((l) => l.msg.includes('satellite modem not available')),
      10_000,
      'the missing modem to be logged',
    );
    expect(runtime.satellite?.connected).toBe(false);
    expect(runtime.sync!.monitor.isUp('satellite')).toBe(false);
    // Still a working outbox: the item is kept for when a link appears.
    await runtime.outbox!.enqueue(Outbox.item('bundle', 1, dayBundle(gw, 1).cose));
    expect(runtime.outbox!.size).toBe(1);
    // Logged once, not at every retry.
    await new Promise((r) => setTimeout(r, 400));
    expect(logs.filter((l) => l.msg.includes('satellite modem not available'))).toHaveLength(1);
  }, 30_000);
});
