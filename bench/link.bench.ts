/**
 * The satellite link: goodput (bundle bytes / all link bytes, both
 * directions) of the message link over an emulated 2400 bit/s link with
 * 340-byte messages, without loss and with 10 % loss each way; and a day of
 * the simulated farm (10 sensors every 15 min, hourly bundles + the daily
 * commitment) in messages and Iridium credits (RockBLOCK: 1 credit per 50
 * bytes or part, per message each way). Emulated time runs on a virtual clock.
 */

import { MessageLink } from '../gateway/link/message-link.js';
import { Outbox } from '../kernel/outbox/outbox.js';
import { RxdbOutboxStore } from '../kernel/outbox/rxdb-outbox-store.js';
import { SyncEngine } from '../kernel/outbox/sync-engine.js';
import { commitmentDigest, signCommitment, verifyCommitment } from '../proto/bundle/commitment.js';
import { GENESIS_PREV_HASH } from '../proto/bundle/types.js';
import type { ItemKind } from '../proto/link/fragment.js';
import { RegionalMessageIntake } from '../regional/transport/message-intake.js';
import { MessagePipe, type MessagePipeCounters, VirtualClock } from '../simulator/link-emulator.js';
import { makeBundle } from '../test/fixtures/bundle-chain.js';
import { prng } from '../test/fixtures/bundle-simulated-day.js';
import { dayBundle, eventually, openMemoryFarm, openRegional, testGateway } from '../test/link-harness.js';
import type { BenchFigure } from './figure.js';

const gw = testGateway('gw-bench');

interface Item {
  kind: ItemKind;
  seq: number;
  bytes: Uint8Array;
}

/** Moves `items` from a gateway outbox to a regional node over the emulated link; returns the link's counters. */
async function sendOver(
  items: Item[],
  lossRate: number,
  seed = 11,
): Promise<MessagePipeCounters & { seconds: number }> {
  const regional = await openRegional([gw]);
  const intake = new RegionalMessageIntake({
    node: regional.node,
    // The bench's regional node takes commitments once their signature verifies.
    onOther: async ({ bytes }) => {
      verifyCommitment(bytes, () => gw.publicKey);
      return 'accepted';
    },
  });
  const clock = new VirtualClock(0);
  const pipe = new MessagePipe({
    deliver: (mo) => intake.handle('bench-imei', mo),
    bitsPerSecond: 2400,
    mtu: 340,
    lossRate,
    random: prng(seed),
    clock,
  });
  const db = await openMemoryFarm();
  const store = new RxdbOutboxStore(db);
  const outbox = await Outbox.open({ store });
  // No probe back-off here (30 s by default): the figure is goodput under loss, comparable across runs.
  const link = new MessageLink({ transport: pipe, store, maxRounds: 60, probeBackoff: { initialMs: 0 } });
  const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 200 });
  try {
    for (const i of items) await outbox.enqueue(Outbox.item(i.kind, i.seq, i.bytes));
    await link.refresh();
    engine.start();
    await eventually(() => outbox.size === 0, 60_000, 'bench items delivered');
  } finally {
    await engine.stop();
    await link.close();
    await db.close();
    await regional.close();
  }
  return { ...pipe.counters, seconds: clock.now() / 1000 };
}

function farmDay(): Item[] {
  const items: Item[] = [];
  let prev: Uint8Array = GENESIS_PREV_HASH;
  const digests: Uint8Array[] = [];
  for (let seq = 1; seq <= 24; seq++) {
    const b = makeBundle(gw, seq, prev, { devices: 10 });
    items.push({ kind: 'bundle', seq, bytes: b.cose });
    digests.push(b.digest);
    prev = b.digest;
  }
  const commitment = signCommitment(
    {
      day: 20_412,
      seqFirst: 1,
      seqLast: 24,
      digest: commitmentDigest(digests),
      bundles: 24,
      uplinks: 960,
      timeRange: { start: 0, end: 86_399_999 },
      timeSources: { gps: 920, ntp: 0, 'host-unsynced': 40 },
    },
    gw,
    { iss: gw.id, sub: 'farm:bench', iat: 1_763_700_000 },
  );
  items.push({ kind: 'commitment', seq: 20_412, bytes: commitment });
  return items;
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const bundle = dayBundle(gw, 1);
  for (const loss of [0, 0.1]) {
    // With loss, the mean over several seeded runs: one run says little about a 10 % rate.
    const runs = loss === 0 ? 1 : 20;
    const results: (MessagePipeCounters & { seconds: number })[] = [];
    for (let seed = 1; seed <= runs; seed++)
      results.push(await sendOver([{ kind: 'bundle', seq: 1, bytes: bundle.cose }], loss, seed));
    const mean = (f: (c: (typeof results)[number]) => number) => results.reduce((n, c) => n + f(c), 0) / runs;
    const linkBytes = mean((c) => c.moBytes + c.mtBytes);
    figures.push({
      name: `link: goodput, ${bundle.cose.length}-byte day bundle, 2400 bit/s, 340-byte messages, ${loss * 100} % loss`,
      value: Number(((100 * bundle.cose.length) / linkBytes).toFixed(1)),
      unit: '%',
      note: `target ≥ 90 %; ${runs === 1 ? '' : `mean of ${runs} runs: `}${mean((c) => c.moMessages).toFixed(1)} MO + ${mean((c) => c.mtMessages).toFixed(1)} MT, ${Math.round(linkBytes)} link bytes, ${mean((c) => c.seconds).toFixed(1)} s on the link, ${mean((c) => c.credits).toFixed(0)} credits`,
    });
  }
  const day = farmDay();
  const payload = day.reduce((n, i) => n + i.bytes.length, 0);
  for (const loss of [0, 0.1]) {
    const c = await sendOver(day, loss);
    figures.push({
      name: `link: farm day over SBD (24 hourly bundles + commitment, ${payload} bytes), ${loss * 100} % loss`,
      value: c.moMessages + c.mtMessages,
      unit: 'messages/day',
      note: `${c.moMessages} MO + ${c.mtMessages} MT; ${c.credits} credits/day (1 per 50 bytes per message); goodput ${((100 * payload) / (c.moBytes + c.mtBytes)).toFixed(1)} %`,
    });
    figures.push({
      name: `link: farm day credits, ${loss * 100} % loss`,
      value: c.credits,
      unit: 'credits/day',
      note: 'RockBLOCK bills 1 credit per 50 bytes or part of each message',
    });
  }
  return figures;
}
