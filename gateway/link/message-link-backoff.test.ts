/**
 * Satellite credit when the regional node never answers: the gateway's real
 * outbox, sync engine, budget and message link against a modem whose every
 * session takes a second and brings no MT message, under fake timers. The
 * resends (probes) back off exponentially and their bytes stay within the
 * budget's share; every byte shows in the metrics and `/status`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Outbox } from '../../kernel/outbox/outbox.js';
import { type LinkBytes, SyncEngine } from '../../kernel/outbox/sync-engine.js';
import type { FragmentProgress, OutboxItem, OutboxStore } from '../../kernel/outbox/types.js';
import { SBD_MO_MTU } from '../../proto/link/fragment.js';
import type { MessageTransport } from '../../proto/link/transport.js';
import { Metrics } from '../metrics/metrics.js';
import { watchSync } from '../metrics/sync-metrics.js';
import { MessageLink } from './message-link.js';

/** An emulated 9603 session: about a second, and the regional node never answers. */
const SESSION_MS = 1000;

class MemoryOutboxStore implements OutboxStore {
  private readonly items = new Map<string, OutboxItem>();
  private readonly progress = new Map<string, FragmentProgress>();
  private readonly counters = new Map<string, number>();
  async put(item: OutboxItem) {
    if (!this.items.has(item.digest)) this.items.set(item.digest, item);
  }
  async pending() {
    return [...this.items.values()];
  }
  async bytesOf(item: { digest: string }) {
    return this.items.get(item.digest)?.bytes;
  }
  async markAcked(digest: string) {
    return this.items.delete(digest);
  }
  async getProgress(digest: string) {
    return this.progress.get(digest);
  }
  async setProgress(digest: string, p: FragmentProgress | undefined) {
    if (p) this.progress.set(digest, p);
    else this.progress.delete(digest);
  }
  async getCounter(key: string) {
    return this.counters.get(key) ?? 0;
  }
  async setCounter(key: string, value: number) {
    this.counters.set(key, value);
  }
}

function silentModem(): MessageTransport & { sent: { at: number; bytes: number }[] } {
  const sent: { at: number; bytes: number }[] = [];
  const session = () => new Promise<void>((resolve) => setTimeout(resolve, SESSION_MS));
  return {
    moMtu: SBD_MO_MTU,
    sent,
    isUsable: async () => true,
    async send(message) {
      await session();
      sent.push({ at: Date.now(), bytes: message.length });
    },
    poll: session,
    onMessage: () => () => undefined,
  };
}

async function run(options: { dailyBytes: number; forMs: number; itemBytes: number }) {
  const store = new MemoryOutboxStore();
  const outbox = await Outbox.open({ store });
  const modem = silentModem();
  const link = new MessageLink({ transport: modem, store, name: 'satellite' });
  const engine = new SyncEngine({ outbox, links: [{ link, budget: { dailyBytes: options.dailyBytes } }] });
  const metrics = new Metrics({ gatewayId: 'b827ebfffe123456' });
  watchSync(engine, metrics);
  const spends: (LinkBytes & { at: number })[] = [];
  engine.on('bytesSent', (b) => spends.push({ ...b, at: Date.now() }));
  const item = Outbox.item('bundle', 1, new Uint8Array(options.itemBytes).fill(7));
  await outbox.enqueue(item);
  await link.refresh();
  engine.start();
  await vi.advanceTimersByTimeAsync(options.forMs);
  await engine.stop();
  await link.close();
  const repeats = spends.filter((s) => s.purpose === 'repeat');
  return { modem, metrics, spends, repeats, outbox };
}

const sum = (xs: { bytes: number }[]) => xs.reduce((n, x) => n + x.bytes, 0);

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 11, 4) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('message link resends without a reply', () => {
  it('in 30 s: the item once, and no repeat (it used to be 11 repeats, ~1.1 KB)', async () => {
    const { modem, repeats, spends } = await run({ dailyBytes: 4000, forMs: 30_000, itemBytes: 1000 });
    expect(spends.filter((s) => s.purpose === 'data')).toHaveLength(4); // 1000 bytes in 4 fragments
    expect(repeats).toHaveLength(0);
    expect(modem.sent).toHaveLength(4);
  });

  it('over 24 h: repeats back off exponentially, up to 6 h apart', async () => {
    const { repeats } = await run({ dailyBytes: 1_000_000, forMs: 86_400_000, itemBytes: 1000 });
    const gaps = repeats.slice(1).map((r, i) => r.at - (repeats[i] as { at: number }).at);
    expect(repeats.length).toBeGreaterThan(5);
    expect(repeats.length).toBeLessThanOrEqual(14);
    for (let i = 1; i < gaps.length; i++)
      expect(gaps[i]).toBeGreaterThanOrEqual(Math.min(1.9 * (gaps[i - 1] as number), 6 * 3_600_000));
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(6 * 3_600_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(6 * 3_600_000 + 61_000); // the engine looks again every minute
  });

  it('over 24 h on the default 4000-byte day: repeats stay within their 25 % share', async () => {
    // Three full fragments: every probe is a whole 340-byte message, so the share (1000 bytes) binds
    // where the back-off alone would allow a dozen.
    const { repeats, spends } = await run({ dailyBytes: 4000, forMs: 86_400_000, itemBytes: 3 * 331 });
    expect(repeats.every((r) => r.bytes === SBD_MO_MTU)).toBe(true);
    expect(repeats).toHaveLength(2);
    expect(sum(repeats)).toBeLessThanOrEqual(1000);
    expect(sum(spends)).toBe(3 * 340 + 2 * 340);
    // An item larger than the day: data stops at the budget, nothing is overspent.
    const big = await run({ dailyBytes: 4000, forMs: 86_400_000, itemBytes: 5741 });
    expect(sum(big.spends)).toBeLessThanOrEqual(4000);
    expect(sum(big.repeats)).toBeLessThanOrEqual(1000);
  });

  it("the satellite link's bytes show in the metrics and /status", async () => {
    const { metrics, spends, modem } = await run({ dailyBytes: 4000, forMs: 600_000, itemBytes: 1000 });
    const bytes = sum(spends);
    expect(bytes).toBe(sum(modem.sent));
    expect(bytes).toBeGreaterThan(1000);
    expect(metrics.snapshot().links.satellite?.bytesSent).toBe(bytes);
    const text = await metrics.prometheusText();
    expect(text).toContain(`maverick_link_bytes_sent_total{link="satellite"} ${bytes}`);
  });
});
