/**
 * Satellite intake without a broker, end to end on loopback: the gateway's
 * real sync code (Outbox → SyncEngine → MessageLink) sends a 5.6 KB signed
 * bundle as SBD messages; the Iridium gateway emulator delivers each over its
 * own DirectIP connection, losing, duplicating and reordering some; the
 * regional worker (embedded store on SQLite files) reassembles, is killed
 * mid-item and restarted on the same data, and answers through the emulated
 * DirectIP MT endpoint; the gateway, driven by the bitmap replies it fetches
 * from its mailbox, resends what is missing until the bundle is acked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageLink } from '../gateway/link/message-link.js';
import { Outbox } from '../kernel/outbox/outbox.js';
import { RxdbOutboxStore } from '../kernel/outbox/rxdb-outbox-store.js';
import { SyncEngine } from '../kernel/outbox/sync-engine.js';
import { toHex } from '../proto/bundle/ed25519.js';
import {
  decodeFragment,
  encodeFragment,
  fragmentCount,
  itemIdHex,
  SBD_MO_MTU,
  splitItem,
} from '../proto/link/fragment.js';
import { decodeStatusRecords } from '../proto/link/status.js';
import { silentLogger } from '../proto/log.js';
import { type DirectIpIntake, startDirectIpIntake } from '../regional/directip-intake.js';
import { type OpenedRegional, openRegional } from '../regional/open-node.js';
import { startRegionalService } from '../regional/serve.js';
import { IridiumDirectIpEmulator } from '../simulator/iridium-directip.js';
import { prng } from './fixtures/bundle-simulated-day.js';
import { dayBundle, eventually, openMemoryFarm, testGateway } from './link-harness.js';

const gw = testGateway('gw-directip');
const IMEI = '300234010753370';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Worker {
  regional: OpenedRegional;
  intake: DirectIpIntake;
  close(): Promise<void>;
}

async function startWorker(dataDir: string, mt: { host: string; port: number }): Promise<Worker> {
  const regional = await openRegional({ dataDir });
  if (regional.registry.list().length === 0) await regional.registry.add(gw.id, gw.publicKey);
  const intake = await startDirectIpIntake({
    regional,
    port: 0,
    imeis: { [IMEI]: gw.id },
    // The status replies go to Iridium's DirectIP MT endpoint, queued for the modem's next session.
    mt,
  });
  return {
    regional,
    intake,
    async close() {
      await intake.close();
      await regional.close();
    },
  };
}

describe('Iridium DirectIP intake', () => {
  it('reassembles a 5.6 KB bundle sent through lossy, duplicating, reordering DirectIP across a worker restart, and acks it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maverick-directip-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const emulator = new IridiumDirectIpEmulator({
      target: { host: '127.0.0.1', port: 0 },
      dropRate: 0.15,
      duplicateRate: 0.15,
      maxDelayMs: 15,
      retryMs: 20,
      random: prng(11),
    });
    cleanups.push(() => emulator.close());
    const mt = await emulator.listenMt();
    let worker = await startWorker(dataDir, mt);
    cleanups.push(() => worker.close());
    emulator.retarget({ host: '127.0.0.1', port: worker.intake.receiver.port });

    const db = await openMemoryFarm();
    cleanups.push(() => db.close());
    const store = new RxdbOutboxStore(db);
    const outbox = await Outbox.open({ store });
    const transport = emulator.transport(IMEI);
    const sendsByIndex = new Map<number, number>();
    const send = transport.send.bind(transport);
    transport.send = async (message) => {
      const index = decodeFragment(message).index;
      sendsByIndex.set(index, (sendsByIndex.get(index) ?? 0) + 1);
      await send(message);
    };
    // Probes back off from 50 ms here (30 s by default): this test is about reassembly, not pacing.
    const link = new MessageLink({
      transport,
      store,
      maxRounds: 40,
      pollsPerRound: 2,
      probeBackoff: { initialMs: 50, maxMs: 1000 },
    });
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 300 });
    cleanups.push(async () => {
      await engine.stop();
      await link.close();
    });

    const bundle = dayBundle(gw, 1);
    expect(bundle.cose.length).toBeGreaterThan(5600);
    const needed = fragmentCount(bundle.cose.length, SBD_MO_MTU);
    await outbox.enqueue(Outbox.item('bundle', 1, bundle.cose));
    await link.refresh();
    engine.start();

    // Kill the worker once it holds part of the item, then start a new one on the same data.
    await eventually(
      async () => (await worker.regional.store.linkState.usage()).fragments >= 5,
      60_000,
      'the first worker holding 5 fragments',
    );
    const heldBefore = (await worker.regional.store.linkState.usage()).fragments;
    expect(heldBefore).toBeLessThan(needed);
    await worker.close();
    worker = await startWorker(dataDir, mt);
    const heldAfter = (await worker.regional.store.linkState.usage()).fragments;
    expect(heldAfter).toBeGreaterThanOrEqual(heldBefore); // nothing lost in the restart
    emulator.retarget({ host: '127.0.0.1', port: worker.intake.receiver.port });

    await eventually(() => outbox.size === 0, 90_000, 'the bundle acked over DirectIP');
    const held = await worker.regional.store.listBundles(gw.id);
    expect(held.map((b) => [b.seq, b.digest])).toEqual([[1, toHex(bundle.digest)]]);
    expect(held[0]?.source).toBe(`sbd:${IMEI}`);
    const doc = await db.bundles.findOne({ selector: { digest: toHex(bundle.digest) } }).exec();
    expect(doc?.syncState).toBe('acked');
    // The link really was lossy and out of order, and the resends were selective.
    const c = emulator.counters;
    expect(c.dropped).toBeGreaterThan(0);
    expect(c.duplicated).toBeGreaterThan(0);
    expect(c.reordered).toBeGreaterThan(0);
    expect(c.moAccepted).toBe([...sendsByIndex.values()].reduce((a, b) => a + b, 0));
    // Every fragment went, and the resends stayed bounded: fragments the bitmaps showed missing (lost,
    // or overtaken by a flagged fragment when Iridium redelivered after the restart) and backed-off
    // probes, never a whole copy per silent round.
    expect(sendsByIndex.size).toBe(needed);
    expect(c.mtQueued).toBeGreaterThan(0);
    expect(c.moAccepted).toBeLessThan(needed * 4);
    // Settled: the partial is gone from the store, the item id remembered.
    await eventually(
      async () => (await worker.regional.store.linkState.usage()).partials === 0,
      10_000,
      'the partial dropped',
    );
    expect((await worker.regional.store.linkState.usage()).settled).toBe(1);
  }, 180_000);

  it('`regional serve` with [directip]: frames in, the bundle stored once, DONE queued at the MT endpoint', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maverick-directip-serve-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const emulator = new IridiumDirectIpEmulator({ target: { host: '127.0.0.1', port: 0 } });
    cleanups.push(() => emulator.close());
    const service = await startRegionalService({
      dataDir,
      embedded: { port: 0 },
      directip: { port: 0, imeis: { [IMEI]: gw.id }, mt: await emulator.listenMt() },
      logger: silentLogger,
    });
    cleanups.push(() => service.close());
    await service.regional.registry.add(gw.id, gw.publicKey);
    emulator.retarget({ host: '127.0.0.1', port: (service.directip as DirectIpIntake).receiver.port });
    const bundle = dayBundle(gw, 1);
    const frames = splitItem('bundle', bundle.cose, SBD_MO_MTU).map((f, i, all) =>
      encodeFragment({ ...f, wantStatus: i === all.length - 1 }),
    );
    for (const frame of frames) emulator.mo(IMEI, frame);
    await eventually(() => emulator.counters.confirmed === frames.length, 30_000, 'every MO confirmed');
    const held = await service.regional.store.listBundles(gw.id);
    expect(held.map((b) => [b.seq, b.digest])).toEqual([[1, toHex(bundle.digest)]]);
    emulator.mo(IMEI, frames[0] as Uint8Array); // a late copy: answered DONE from the settled record
    await eventually(
      () => emulator.counters.confirmed === frames.length + 1,
      30_000,
      'the late copy confirmed',
    );
    const mt: Uint8Array[] = [];
    const modem = emulator.transport(IMEI);
    modem.onMessage((m) => mt.push(m));
    await eventually(
      async () => {
        await modem.poll();
        return mt.length >= 2;
      },
      30_000,
      'two DONE messages at the MT endpoint',
    );
    const done = mt.flatMap((m) => decodeStatusRecords(m));
    expect(done.every((r) => r.type === 'done' && r.status !== 'rejected')).toBe(true);
    expect(itemIdHex(done[0]?.itemId as Uint8Array)).toBe(toHex(bundle.digest).slice(0, 8));
  });
});
