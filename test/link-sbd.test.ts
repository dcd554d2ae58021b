/**
 * Acceptance 2: a bundle of a few KB crosses the emulated Iridium SBD modem
 * (the real AT driver against the AT emulator) in ≤ 340-byte messages with
 * 10 % message loss and arrives whole; a bundle half-sent by satellite
 * completes over MQTT; a transmission cut by the end of a satellite pass
 * resumes hours later, after a gateway restart, with only what is missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageLink } from '../gateway/link/message-link.js';
import { MqttLink } from '../gateway/link/mqtt-link.js';
import { SbdModem } from '../gateway/link/sbd-modem.js';
import type { FarmDatabase } from '../kernel/db/farm-db.js';
import { Outbox } from '../kernel/outbox/outbox.js';
import { RxdbOutboxStore } from '../kernel/outbox/rxdb-outbox-store.js';
import { SyncEngine } from '../kernel/outbox/sync-engine.js';
import { toHex } from '../proto/bundle/ed25519.js';
import { decodeFragment, encodeFragment, fragmentCount, SBD_MO_MTU } from '../proto/link/fragment.js';
import { RegionalMessageIntake } from '../regional/transport/message-intake.js';
import { type RegionalTransport, startRegionalTransport } from '../regional/transport/mqtt-intake.js';
import type { Reassembler } from '../regional/transport/reassembly.js';
import { MessagePipe, PassSchedule, TcpLinkProxy, VirtualClock } from '../simulator/link-emulator.js';
import { SbdModemEmulator } from '../simulator/sbd-modem.js';
import { createSerialPair } from '../simulator/sbd-modem-pair.js';
import { prng } from './fixtures/bundle-simulated-day.js';
import { testAckSigner, testRegionalPublicKey } from './helpers/regional-ack-key.js';
import {
  dayBundle,
  eventually,
  openMemoryFarm,
  openRegional,
  type RegionalHarness,
  testGateway,
} from './link-harness.js';

const gw = testGateway('gw-sbd');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gatewaySide(db: FarmDatabase) {
  const store = new RxdbOutboxStore(db);
  const outbox = await Outbox.open({ store });
  return { store, outbox };
}

describe('message link over the emulated Iridium SBD modem', () => {
  it('delivers a few-KB bundle in ≤ 340-byte messages despite 10 % loss each way and failed sessions', async () => {
    const regional: RegionalHarness = await openRegional([gw]);
    cleanups.push(() => regional.close());
    const intake = new RegionalMessageIntake({ node: regional.node });
    const [gatewayEnd, modemEnd] = createSerialPair();
    const moSizes: number[] = [];
    const emulator = new SbdModemEmulator(modemEnd, {
      deliver: (mo) => {
        moSizes.push(mo.length);
        return intake.handle('300234010000001', mo);
      },
      dropRate: 0.1,
      failureRate: 0.05,
      latencyMs: 1,
      random: prng(7),
    });
    const modem = new SbdModem(gatewayEnd, { commandTimeoutMs: 2000, sessionTimeoutMs: 2000 });
    await modem.init();
    const db = await openMemoryFarm();
    cleanups.push(() => db.close());
    const { store, outbox } = await gatewaySide(db);
    const link = new MessageLink({ transport: modem, store, maxRounds: 40 });
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 500 });
    cleanups.push(async () => {
      await engine.stop();
      await link.close();
      modem.close();
      emulator.close();
    });

    const bundle = dayBundle(gw, 1);
    expect(bundle.cose.length).toBeGreaterThan(2000);
    await outbox.enqueue(Outbox.item('bundle', 1, bundle.cose));
    await link.refresh();
    engine.start();
    await eventually(() => outbox.size === 0, 45_000, 'outbox drained');

    const held = await regional.store.listBundles(gw.id);
    expect(held.map((b) => b.seq)).toEqual([1]);
    expect(held[0]!.digest).toBe(toHex(bundle.digest));
    expect(Math.max(...moSizes)).toBeLessThanOrEqual(SBD_MO_MTU);
    const needed = fragmentCount(bundle.cose.length, SBD_MO_MTU);
    expect(emulator.counters.moDropped + emulator.counters.failedSessions).toBeGreaterThan(0);
    // Selective retransmission: the resend is a fraction of the bundle, not whole copies.
    expect(emulator.counters.moDelivered + emulator.counters.moDropped).toBeLessThan(needed * 2);
    const doc = await db.bundles.findOne({ selector: { digest: toHex(bundle.digest) } }).exec();
    expect(doc?.syncState).toBe('acked');
  });
});

describe('completion over another link and resume', () => {
  it('finishes over MQTT a bundle half-sent by satellite, and the regional node drops the partial', async () => {
    const regional = await openRegional([gw]);
    cleanups.push(() => regional.close());
    const transport: RegionalTransport = await startRegionalTransport({
      node: regional.node,
      acks: testAckSigner,
      embedded: { port: 0 },
    });
    cleanups.push(() => transport.close());
    const intake = new RegionalMessageIntake({ node: regional.node, reassembler: transport.reassembler });
    let delivered = 0;
    const pipe: MessagePipe = new MessagePipe({
      deliver: async (mo) => {
        delivered++;
        // The pass ends after five messages.
        if (delivered === 5) pipe.up = false;
        return intake.handle('imei-1', mo);
      },
      latencyMs: 0,
      bitsPerSecond: 1_000_000,
    });
    const proxy = await TcpLinkProxy.start({
      target: { host: '127.0.0.1', port: Number(new URL(transport.brokerUrl).port) },
    });
    proxy.cut();
    const db = await openMemoryFarm();
    const { store, outbox } = await gatewaySide(db);
    const mqttLink = new MqttLink({
      url: proxy.url,
      gatewayId: gw.id,
      regionalPublicKey: testRegionalPublicKey,
      reconnectPeriodMs: 100,
      connectTimeoutMs: 2000,
    }).start();
    const sbd = new MessageLink({ transport: pipe, store });
    const engine = new SyncEngine({ outbox, links: [{ link: mqttLink }, { link: sbd }], ackTimeoutMs: 2000 });
    cleanups.push(async () => {
      await engine.stop();
      await mqttLink.close();
      await sbd.close();
      await proxy.close();
      await db.close();
    });
    const bundle = dayBundle(gw, 1);
    const item = Outbox.item('bundle', 1, bundle.cose);
    await outbox.enqueue(item);
    await sbd.refresh();
    engine.start();
    await eventually(() => !sbd.isUp(), 10_000, 'satellite pass over');
    expect(delivered).toBe(5);
    expect((transport.reassembler as Reassembler).inFlight).toBe(1);
    expect(await regional.store.listBundles(gw.id)).toHaveLength(0);
    expect(outbox.size).toBe(1);

    proxy.restore();
    await eventually(() => outbox.size === 0, 20_000, 'acked over MQTT');
    expect((await regional.store.listBundles(gw.id)).map((b) => b.seq)).toEqual([1]);
    expect((transport.reassembler as Reassembler).inFlight).toBe(0);
    expect(await store.getProgress(item.digest)).toBeUndefined();
    // A late satellite fragment of the settled bundle is answered DONE, not started again.
    const itemId = new Uint8Array(Buffer.from(item.digest, 'hex').subarray(0, 4));
    const count = fragmentCount(bundle.cose.length, SBD_MO_MTU);
    const late = await intake.handle(
      'imei-1',
      encodeFragment({
        kind: 'bundle',
        itemId,
        index: count - 1,
        count,
        wantStatus: true,
        payload: bundle.cose.subarray(0, 10),
      }),
    );
    expect(late).toHaveLength(1);
    expect(late[0]![0]).toBe(0x11);
  });

  it('resumes hours later, after a restart, sending only what the regional node lacks', async () => {
    const regional = await openRegional([gw]);
    cleanups.push(() => regional.close());
    const intake = new RegionalMessageIntake({ node: regional.node });
    const clock = new VirtualClock(Date.UTC(2026, 10, 21));
    // Six-second passes every six hours: about five 340-byte messages per pass at 2400 bit/s.
    const schedule = PassSchedule.periodic(6 * 3_600_000, 6_000, clock.now(), 2);
    const sentIndexes: number[] = [];
    const pipe = new MessagePipe({
      deliver: (mo) => {
        sentIndexes.push(decodeFragment(mo).index);
        return intake.handle('imei-2', mo);
      },
      clock,
      schedule,
      bitsPerSecond: 2400,
    });
    const db = await openMemoryFarm();
    cleanups.push(() => db.close());
    const bundle = dayBundle(gw, 1);
    const needed = fragmentCount(bundle.cose.length, SBD_MO_MTU);
    let first = true;
    for (let pass = 0; pass < 8; pass++) {
      // A fresh gateway process each pass: the outbox and the link state come back from the database.
      const store = new RxdbOutboxStore(db, clock.now);
      const outbox = await Outbox.open({ store, now: clock.now });
      if (first) await outbox.enqueue(Outbox.item('bundle', 1, bundle.cose, { createdAt: clock.now() }));
      first = false;
      if (outbox.size === 0) break;
      const link = new MessageLink({ transport: pipe, store, now: clock.now });
      const engine = new SyncEngine({ outbox, links: [{ link }], now: clock.now });
      await link.refresh();
      engine.start();
      await eventually(() => !link.isUp() || outbox.size === 0, 10_000, 'pass over or done');
      await engine.stop();
      await link.close();
      if (outbox.size === 0) break;
      clock.advance(schedule.nextOpen(clock.now() + 1)! - clock.now());
    }
    const final = await Outbox.open({ store: new RxdbOutboxStore(db) });
    expect(final.size).toBe(0);
    expect((await regional.store.listBundles(gw.id)).map((b) => b.seq)).toEqual([1]);
    expect(new Set(sentIndexes).size).toBe(needed);
    // Hours of silence and restarts cost at most one re-sent fragment per pass.
    expect(sentIndexes.length).toBeLessThanOrEqual(needed + 4);
    expect(pipe.counters.sessions).toBeGreaterThan(0);
  });

  it('completes when the regional node lost its partial (restart) after confirming fragments', async () => {
    const regional = await openRegional([gw]);
    cleanups.push(() => regional.close());
    let intake = new RegionalMessageIntake({ node: regional.node });
    let delivered = 0;
    const pipe: MessagePipe = new MessagePipe({
      deliver: async (mo) => {
        delivered++;
        if (delivered === 12) pipe.up = false;
        return intake.handle('imei-3', mo);
      },
      bitsPerSecond: 1_000_000,
    });
    const db = await openMemoryFarm();
    cleanups.push(() => db.close());
    const { store, outbox } = await gatewaySide(db);
    // Probes back off from 50 ms here (30 s by default): this test is about the protocol, not its pacing.
    const link = new MessageLink({ transport: pipe, store, probeBackoff: { initialMs: 50, maxMs: 200 } });
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 300 });
    cleanups.push(async () => {
      await engine.stop();
      await link.close();
    });
    const item = Outbox.item('bundle', 1, dayBundle(gw, 1).cose);
    await outbox.enqueue(item);
    await link.refresh();
    engine.start();
    await eventually(() => !link.isUp(), 10_000, 'pass over');
    const confirmed = await store.getProgress(item.digest);
    expect(confirmed?.bitmap.some((b) => b !== 0)).toBe(true);
    // The regional node restarts: its partial is gone.
    intake = new RegionalMessageIntake({ node: regional.node });
    pipe.up = true;
    await link.refresh();
    await eventually(() => outbox.size === 0, 20_000, 'acked after the regional restart');
    expect((await regional.store.listBundles(gw.id)).map((b) => b.seq)).toEqual([1]);
  });
});
