import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CollectedUplink, Deduplicator } from './dedup.js';
import { rxMeta } from './fake-radio.test-helpers.js';

let dedup: Deduplicator | undefined;
// The window is a timer: the tests move time themselves instead of sleeping past it.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  dedup?.clear();
  vi.useRealTimers();
});

describe('Deduplicator', () => {
  it('collects copies within the window into one uplink, best SNR first', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 30 });
    const phy = new Uint8Array([1, 2, 3]);
    dedup.add({ phyPayload: phy, rx: rxMeta({ gatewayEui: 'a', snr: 1 }), receivedAtMs: 10 });
    dedup.add({ phyPayload: new Uint8Array(phy), rx: rxMeta({ gatewayEui: 'b', snr: 8 }), receivedAtMs: 11 });
    dedup.add({ phyPayload: new Uint8Array([9]), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 12 });
    expect(out).toHaveLength(0);
    vi.advanceTimersByTime(29);
    expect(out).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(out).toHaveLength(2);
    expect(out[0]?.rxInfo.map((r) => r.gatewayEui)).toEqual(['b', 'a']);
    expect(out[0]?.receivedAtMs).toBe(10);
  });

  it('flush() releases at once; the same copy reported twice by one gateway counts once', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 60_000 });
    const rx = rxMeta();
    dedup.add({ phyPayload: new Uint8Array([1]), rx, receivedAtMs: 1 });
    dedup.add({ phyPayload: new Uint8Array([1]), rx, receivedAtMs: 2 });
    dedup.flush();
    expect(out).toHaveLength(1);
    expect(out[0]?.rxInfo).toHaveLength(1);
    expect(dedup.size).toBe(0);
  });

  it('a frame arriving after the window is a new uplink', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 10 });
    dedup.add({ phyPayload: new Uint8Array([1]), rx: rxMeta(), receivedAtMs: 1 });
    vi.advanceTimersByTime(10);
    dedup.add({ phyPayload: new Uint8Array([1]), rx: rxMeta({ gatewayEui: 'z' }), receivedAtMs: 2 });
    dedup.flush();
    expect(out).toHaveLength(2);
  });

  it('closes the window of each frame on time, whenever it arrived (one timer for all)', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 30 });
    const first = [...Array(100).keys()].map((i) => new Uint8Array([1, i]));
    const later = [...Array(100).keys()].map((i) => new Uint8Array([2, i]));
    for (const phy of first) dedup.add({ phyPayload: phy, rx: rxMeta(), receivedAtMs: 0 });
    vi.advanceTimersByTime(10);
    for (const phy of later) dedup.add({ phyPayload: phy, rx: rxMeta(), receivedAtMs: 10 });
    vi.advanceTimersByTime(19);
    expect(out).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(out.map((u) => u.phyPayload)).toEqual(first);
    // A copy of a later frame still joins it: its window is open until 40 ms.
    dedup.add({ phyPayload: new Uint8Array([2, 7]), rx: rxMeta({ gatewayEui: 'z' }), receivedAtMs: 35 });
    vi.advanceTimersByTime(9);
    expect(out).toHaveLength(100);
    vi.advanceTimersByTime(1);
    expect(out.slice(100).map((u) => u.phyPayload)).toEqual(later);
    expect(out[107]?.rxInfo).toHaveLength(2);
    expect(dedup.size).toBe(0);
  });
});
