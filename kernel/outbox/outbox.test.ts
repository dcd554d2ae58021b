import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { eventually as until } from '../../test/helpers/wait.js';
import { type FarmDatabase, openFarmDatabase } from '../db/farm-db.js';
import { LinkBudget, TokenBucket } from './budget.js';
import { Outbox } from './outbox.js';
import { RxdbOutboxStore } from './rxdb-outbox-store.js';
import { SyncEngine } from './sync-engine.js';
import type { LinkAck, OutboxItem, SpendGate, SyncLink, TransmitOutcome } from './types.js';

let db: FarmDatabase;
let counter = 0;
beforeEach(async () => {
  db = await openFarmDatabase({ storage: getRxStorageMemory(), name: `outbox${process.pid}_${counter++}` });
});
afterEach(async () => {
  await db.close();
});

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** A link that records what it was given and acks on demand. */
class RecordingLink implements SyncLink {
  readonly name = 'fake';
  up = true;
  sent: OutboxItem[] = [];
  autoAck = true;
  private acks = new Set<(a: LinkAck) => void>();
  private states = new Set<(u: boolean) => void>();
  isUp(): boolean {
    return this.up;
  }
  async transmit(item: OutboxItem, gate: SpendGate): Promise<TransmitOutcome> {
    if (!this.up) return 'down';
    if (!(await gate.trySpend(item.bytes.length))) return 'budget';
    this.sent.push(item);
    if (this.autoAck) queueMicrotask(() => this.ack({ digest: item.digest, status: 'accepted' }));
    return 'sent';
  }
  ack(a: LinkAck): void {
    for (const h of this.acks) h(a);
  }
  setUp(up: boolean): void {
    this.up = up;
    for (const h of this.states) h(up);
  }
  onAck(h: (a: LinkAck) => void): () => void {
    this.acks.add(h);
    return () => this.acks.delete(h);
  }
  onState(h: (u: boolean) => void): () => void {
    this.states.add(h);
    return () => this.states.delete(h);
  }
  async close(): Promise<void> {}
}

describe('Outbox', () => {
  it('orders alarms > commitments > bundles > diagnostics, then by sequence', async () => {
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    await outbox.enqueue(Outbox.item('diagnostic', 1, bytes(10, 1)));
    await outbox.enqueue(Outbox.item('bundle', 2, bytes(10, 2)));
    await outbox.enqueue(Outbox.item('bundle', 1, bytes(10, 3)));
    await outbox.enqueue(Outbox.item('commitment', 20_000, bytes(10, 4)));
    await outbox.enqueue(Outbox.item('alarm', 1, bytes(10, 5)));
    expect(outbox.sendable().map((i) => `${i.kind}:${i.seq}`)).toEqual([
      'alarm:1',
      'commitment:20000',
      'bundle:1',
      'bundle:2',
      'diagnostic:1',
    ]);
  });

  it('persists pending items and retires them only on ack; a reopened outbox resumes with the rest', async () => {
    const store = new RxdbOutboxStore(db);
    const outbox = await Outbox.open({ store });
    const a = Outbox.item('bundle', 1, bytes(50, 1));
    const b = Outbox.item('bundle', 2, bytes(50, 2));
    const alarm = Outbox.item('alarm', 1, bytes(5, 9));
    for (const i of [a, b, alarm]) await outbox.enqueue(i);
    await outbox.enqueue(a); // idempotent
    await outbox.settle({ digest: a.digest, status: 'accepted' });
    await outbox.settle({ digest: alarm.digest, status: 'duplicate' });
    const reopened = await Outbox.open({ store: new RxdbOutboxStore(db) });
    expect(reopened.sendable().map((i) => i.digest)).toEqual([b.digest]);
    const docs = await db.bundles.find().exec();
    expect(docs.map((d) => [d.seq, d.syncState])).toEqual([
      [1, 'acked'],
      [2, 'pending'],
    ]);
  });

  it('parks a rejected item: kept pending, not offered again', async () => {
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    const item = Outbox.item('bundle', 1, bytes(8, 1));
    await outbox.enqueue(item);
    await outbox.settle({ digest: item.digest, status: 'rejected', reason: 'BundleBadSignature' });
    expect(outbox.size).toBe(1);
    expect(outbox.sendable()).toEqual([]);
    expect(outbox.isParked(item.digest)).toBe(true);
  });

  it('backs off after a transient rejection (doubling, capped) and retires on a later accept', async () => {
    let t = 1_000;
    const outbox = await Outbox.open({
      store: new RxdbOutboxStore(db),
      retry: { firstMs: 100, maxMs: 300 },
      now: () => t,
    });
    const item = Outbox.item('bundle', 1, bytes(8, 1));
    await outbox.enqueue(item);
    const waits: number[] = [];
    outbox.on('deferred', (d) => waits.push(d.retryInMs));
    const transient = {
      digest: item.digest,
      status: 'rejected' as const,
      reason: 'BundleUnknownKey',
      transient: true,
    };
    await outbox.settle(transient);
    expect(outbox.sendable()).toEqual([]);
    expect(outbox.isParked(item.digest)).toBe(false);
    expect(outbox.nextRetryInMs()).toBe(100);
    await outbox.settle(transient); // the same answer again (a resend crossed it): no extra doubling
    t += 100;
    expect(outbox.sendable().map((i) => i.digest)).toEqual([item.digest]);
    for (const step of [200, 300, 300]) {
      await outbox.settle(transient);
      t += step;
    }
    expect(waits).toEqual([100, 200, 300, 300]);
    await outbox.settle({ digest: item.digest, status: 'accepted' });
    expect(outbox.size).toBe(0);
    expect(outbox.deferredItems()).toEqual([]);
  });

  it('a permanent rejection after transient ones parks the item and says why', async () => {
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db), retry: { firstMs: 1 } });
    const item = Outbox.item('bundle', 1, bytes(8, 1));
    await outbox.enqueue(item);
    const rejected: string[] = [];
    outbox.on('rejected', (r) => rejected.push(r.reason));
    await outbox.settle({
      digest: item.digest,
      status: 'rejected',
      reason: 'RegionalStore',
      transient: true,
    });
    await outbox.settle({
      digest: item.digest,
      status: 'rejected',
      reason: 'RegionalChain',
      transient: false,
    });
    expect(rejected).toEqual(['RegionalChain']);
    expect(outbox.parkedItems().map((p) => p.reason)).toEqual(['RegionalChain']);
    expect(outbox.deferredItems()).toEqual([]);
    expect(outbox.nextRetryInMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses a second item under a sequence number already used', async () => {
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    await outbox.enqueue(Outbox.item('bundle', 1, bytes(8, 1)));
    const err = await outbox.enqueue(Outbox.item('bundle', 1, bytes(8, 2))).catch((e: unknown) => e);
    expect(isMaverickError(err, ErrorCode.BundleSequence)).toBe(true);
  });
});

describe('budgets', () => {
  it('a token bucket refills at its rate', () => {
    let t = 0;
    const bucket = new TokenBucket(100, 200, () => t);
    expect(bucket.tryTake(200)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    expect(bucket.waitMs(50)).toBe(500);
    t = 500;
    expect(bucket.tryTake(50)).toBe(true);
  });

  it('window and daily budgets stop spending; the daily count survives a restart', async () => {
    let t = Date.UTC(2026, 10, 21, 10);
    const store = new RxdbOutboxStore(db);
    const budget = new LinkBudget('sbd', { windowBytes: 500, dailyBytes: 800 }, store, () => t);
    expect(await budget.trySpend(400)).toBe(true);
    expect(await budget.trySpend(200)).toBe(false);
    expect(budget.retryInMs(200)).toBe(Number.POSITIVE_INFINITY);
    budget.startWindow();
    expect(await budget.trySpend(400)).toBe(true);
    const restarted = new LinkBudget('sbd', { dailyBytes: 800 }, store, () => t);
    expect(await restarted.trySpend(1)).toBe(false);
    t += 86_400_000;
    expect(await restarted.trySpend(800)).toBe(true);
  });
});

describe('SyncEngine', () => {
  it('sends over the first usable link, resends on reconnect, retires on ack', async () => {
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    const ip = new RecordingLink();
    const sat = new RecordingLink();
    (sat as { name: string }).name = 'sat';
    ip.autoAck = false;
    const engine = new SyncEngine({ outbox, links: [{ link: ip }, { link: sat }], ackTimeoutMs: 60_000 });
    const item = Outbox.item('bundle', 1, bytes(20, 1));
    await outbox.enqueue(item);
    engine.start();
    await until(() => ip.sent.length === 1);
    expect(sat.sent).toEqual([]);
    // A reconnect means what was in flight may be lost: sent again.
    ip.setUp(false);
    ip.setUp(true);
    await until(() => ip.sent.length === 2);
    ip.ack({ digest: item.digest, status: 'accepted' });
    await until(() => outbox.size === 0);
    // IP down: the satellite link takes over.
    ip.setUp(false);
    await outbox.enqueue(Outbox.item('alarm', 1, bytes(3, 7)));
    await until(() => outbox.size === 0);
    expect(sat.sent.map((i) => i.kind)).toEqual(['alarm']);
    await engine.stop();
  });

  it('honours the bandwidth cap: pauses and resumes when tokens return', async () => {
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    const link = new RecordingLink();
    const engine = new SyncEngine({
      outbox,
      links: [{ link, budget: { bytesPerSecond: 2000, burstBytes: 1000 } }],
    });
    for (let i = 1; i <= 3; i++) await outbox.enqueue(Outbox.item('bundle', i, bytes(600, i)));
    const start = Date.now();
    engine.start();
    await until(() => outbox.size === 0, 5000);
    // 1800 bytes through a 1000-byte bucket refilling at 2000 B/s: at least one pause.
    expect(Date.now() - start).toBeGreaterThanOrEqual(150);
    expect(link.sent.map((i) => i.seq)).toEqual([1, 2, 3]);
    await engine.stop();
  });

  it('a satellite transmission stops at the next message once IP is up, and IP carries the item', async () => {
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    const ip = new RecordingLink();
    ip.up = false;
    let messages = 0;
    const sat = new RecordingLink();
    (sat as { name: string }).name = 'sat';
    sat.transmit = async (_item, gate) => {
      for (let i = 0; i < 50; i++) {
        if (!(await gate.trySpend(340))) return 'budget';
        messages++;
        await new Promise((r) => setTimeout(r, 5));
      }
      return 'sent';
    };
    const engine = new SyncEngine({ outbox, links: [{ link: ip }, { link: sat }] });
    await outbox.enqueue(Outbox.item('bundle', 1, bytes(5000, 1)));
    engine.start();
    await until(() => messages >= 3);
    ip.setUp(true);
    await until(() => outbox.size === 0);
    expect(ip.sent.map((i) => i.seq)).toEqual([1]);
    expect(messages).toBeLessThan(50);
    await engine.stop();
  });
});

describe('SyncEngine and an ack that outruns its send', () => {
  it('resends after the back-off, not after the ack timeout, when the rejection came back before transmit() resolved', async () => {
    // The regional node can answer before the broker's PUBACK reaches the gateway: the ack is
    // handled while transmit() is still pending. (CI once waited out the whole ack timeout here.)
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db), retry: { firstMs: 20, maxMs: 20 } });
    const link = new RecordingLink();
    link.autoAck = false;
    let rejections = 0;
    const original = link.transmit.bind(link);
    link.transmit = async (item, gate) => {
      const outcome = await original(item, gate);
      if (rejections < 2) {
        rejections++;
        link.ack({ digest: item.digest, status: 'rejected', reason: 'BundleUnknownKey', transient: true });
        // Let the ack's settlement run before transmit() resolves, as an early ack does.
        await until(
          () => outbox.nextRetryInMs() !== Number.POSITIVE_INFINITY || outbox.sendable().length > 0,
        );
      } else {
        queueMicrotask(() => link.ack({ digest: item.digest, status: 'accepted' }));
      }
      return outcome;
    };
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 600_000 });
    await outbox.enqueue(Outbox.item('bundle', 1, bytes(8, 1)));
    engine.start();
    // Without the fix the second send waits the 10-minute ack timeout: this deadline would pass.
    await until(() => outbox.size === 0, 10_000, 'the item retired after two early rejections');
    expect(link.sent).toHaveLength(3);
    await engine.stop();
  });
});

describe('SyncEngine and a back-off that ends during another send', () => {
  it('sends the item whose back-off ended while an earlier one was in flight, without waiting for the ack timeout', async () => {
    // A pass plans from the items sendable when it starts. Bundle 2's back-off ends while bundle 1
    // is being sent; the pass ends with nothing left in back-off and bundle 1 awaiting its ack, so
    // unless it looks again, bundle 2 waits for the next kick: bundle 1's ack (an acceptance does
    // not kick) or the ack timeout. CI waited out that timeout once a gateway had been registered.
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db), retry: { firstMs: 50, maxMs: 50 } });
    const link = new RecordingLink();
    link.autoAck = false;
    const one = Outbox.item('bundle', 1, bytes(8, 1));
    const two = Outbox.item('bundle', 2, bytes(8, 2));
    const original = link.transmit.bind(link);
    link.transmit = async (item, gate) => {
      const outcome = await original(item, gate);
      const first = link.sent.filter((s) => s.digest === item.digest).length === 1;
      if (first) {
        // Bundle 2's rejection comes 30 ms after bundle 1's: its back-off ends later.
        if (item.digest === two.digest) await new Promise((resolve) => setTimeout(resolve, 30));
        link.ack({ digest: item.digest, status: 'rejected', reason: 'BundleUnknownKey', transient: true });
      } else if (item.digest === one.digest) {
        // Bundle 1's resend is in flight until bundle 2's back-off has ended; then it is accepted.
        await until(
          () => outbox.sendable().some((s) => s.digest === two.digest),
          10_000,
          "bundle 2's back-off",
        );
        queueMicrotask(() => link.ack({ digest: item.digest, status: 'accepted' }));
      } else {
        queueMicrotask(() => link.ack({ digest: item.digest, status: 'accepted' }));
      }
      return outcome;
    };
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 600_000 });
    await outbox.enqueue(one);
    await outbox.enqueue(two);
    engine.start();
    // Without the fix bundle 2's resend waits the 10-minute ack timeout: this deadline would pass.
    await until(() => outbox.size === 0, 10_000, 'both bundles retired');
    expect(link.sent.map((s) => s.seq)).toEqual([1, 2, 1, 2]);
    await engine.stop();
  });
});

describe('SyncEngine and an item being retired', () => {
  it('does not send an acknowledged item again while its retirement is being written', async () => {
    // An ack retires the item with a store write. A pass that runs meanwhile (here: another item
    // enqueued) must still count the item as awaited, not take it for one to send: on the
    // satellite link every resend is paid for.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let retiring = false;
    class SlowRetireStore extends RxdbOutboxStore {
      override async markAcked(digest: string, at: number): Promise<boolean> {
        retiring = true;
        await released;
        return super.markAcked(digest, at);
      }
    }
    const outbox = await Outbox.open({ store: new SlowRetireStore(db) });
    const link = new RecordingLink();
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 600_000 });
    await outbox.enqueue(Outbox.item('bundle', 1, bytes(8, 1)));
    engine.start();
    await until(() => retiring, 10_000, "bundle 1's ack being recorded");
    await outbox.enqueue(Outbox.item('bundle', 2, bytes(8, 2)));
    await until(() => link.sent.some((s) => s.seq === 2), 10_000, 'bundle 2 sent');
    release();
    await until(() => outbox.size === 0, 10_000, 'both bundles retired');
    expect(link.sent.map((s) => s.seq)).toEqual([1, 2]);
    await engine.stop();
  });
});

describe('SyncEngine and a send that fails while the link stays up', () => {
  it('tries again without waiting for another event', async () => {
    // MqttLink answers 'down' when a publish times out although the connection still stands: no
    // state change follows, so the engine itself must come back to the item.
    const outbox = await Outbox.open({ store: new RxdbOutboxStore(db) });
    const link = new RecordingLink();
    let failures = 0;
    const original = link.transmit.bind(link);
    link.transmit = async (item, gate) => {
      if (failures === 0) {
        failures++;
        return 'down';
      }
      return original(item, gate);
    };
    const engine = new SyncEngine({ outbox, links: [{ link }], ackTimeoutMs: 600_000 });
    await outbox.enqueue(Outbox.item('bundle', 1, bytes(8, 1)));
    engine.start();
    await until(() => outbox.size === 0, 10_000, 'the bundle sent again and retired');
    expect(failures).toBe(1);
    expect(link.sent.map((s) => s.seq)).toEqual([1]);
    await engine.stop();
  });
});

describe('Outbox memory', () => {
  it('holds pending items without their bytes and reads them from the store to send', async () => {
    // Months offline means thousands of pending bundles: memory must not grow with their bytes.
    const store = new RxdbOutboxStore(db);
    const outbox = await Outbox.open({ store });
    const bundle = Outbox.item('bundle', 1, bytes(5_000, 7), { fromMs: 1, toMs: 2, uplinkCount: 3 });
    const alarm = Outbox.item('alarm', 1, bytes(40, 9));
    await outbox.enqueue(bundle);
    await outbox.enqueue(alarm);
    for (const held of [outbox.get(bundle.digest), ...outbox.sendable()]) {
      expect(held).toBeDefined();
      expect(held).not.toHaveProperty('bytes');
    }
    expect(outbox.get(bundle.digest)).toMatchObject({ kind: 'bundle', seq: 1, size: 5_000, uplinkCount: 3 });
    expect((await outbox.load(outbox.get(bundle.digest)!))?.bytes).toEqual(bundle.bytes);
    expect((await outbox.load(outbox.get(alarm.digest)!))?.bytes).toEqual(alarm.bytes);

    const reopened = await Outbox.open({ store });
    expect(reopened.get(bundle.digest)).not.toHaveProperty('bytes');
    expect((await reopened.load(reopened.get(bundle.digest)!))?.bytes).toEqual(bundle.bytes);
    // Retired meanwhile: nothing to send.
    await reopened.settle({ digest: bundle.digest, status: 'accepted' });
    expect(await reopened.load({ ...bundle, size: bundle.bytes.length })).toBeUndefined();
  });

  it('parks an item whose bytes are gone from the store, raises the alarm, and sends the rest', async () => {
    const lost = Outbox.item('bundle', 1, bytes(8, 1));
    const kept = Outbox.item('bundle', 2, bytes(8, 2));
    class DamagedStore extends RxdbOutboxStore {
      override async bytesOf(item: Pick<OutboxItem, 'digest' | 'kind' | 'seq'>) {
        return item.digest === lost.digest ? undefined : super.bytesOf(item);
      }
    }
    const outbox = await Outbox.open({ store: new DamagedStore(db) });
    const rejected: string[] = [];
    outbox.on('rejected', (r) => rejected.push(`${r.item.seq}:${r.reason}`));
    const link = new RecordingLink();
    const engine = new SyncEngine({ outbox, links: [{ link }] });
    await outbox.enqueue(lost);
    await outbox.enqueue(kept);
    engine.start();
    await until(() => outbox.size === 1, 10_000, 'bundle 2 sent and retired');
    expect(link.sent.map((s) => s.seq)).toEqual([2]);
    expect(rejected).toEqual(['1:MissingFromStore']);
    expect(outbox.isParked(lost.digest)).toBe(true);
    await engine.stop();
  });
});
