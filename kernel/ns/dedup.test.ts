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

describe('Deduplicator with a sole receiver', () => {
  const frame = (i: number) => new Uint8Array([7, i]);

  it('skips the window once one receiver alone was heard for soleReceiverAfterMs', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 200, soleReceiverAfterMs: 30_000 });
    dedup.add({ phyPayload: frame(0), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 0 });
    // Not yet a record long enough: the window applies.
    vi.advanceTimersByTime(199);
    expect(out).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(29_800);
    dedup.add({ phyPayload: frame(1), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 1 });
    // Another antenna of the same receiver, in the same turn: still one uplink with both.
    dedup.add({ phyPayload: frame(1), rx: rxMeta({ gatewayEui: 'a', channel: 3 }), receivedAtMs: 1 });
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(0);
    expect(out).toHaveLength(2);
    expect(out[1]?.rxInfo).toHaveLength(2);
  });

  it('drops a copy from another receiver that comes within the window of a frame released early, then waits again', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 200, soleReceiverAfterMs: 1000 });
    dedup.add({ phyPayload: frame(0), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 0 });
    vi.advanceTimersByTime(1000);
    dedup.add({ phyPayload: frame(1), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 1 });
    vi.advanceTimersByTime(0);
    expect(out).toHaveLength(2);
    vi.advanceTimersByTime(150);
    dedup.add({ phyPayload: frame(1), rx: rxMeta({ gatewayEui: 'b' }), receivedAtMs: 2 });
    vi.advanceTimersByTime(500);
    expect(out).toHaveLength(2);
    expect(dedup.late).toBe(1);
    // Receiver b was heard: a's frames wait for copies again.
    dedup.add({ phyPayload: frame(2), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 3 });
    vi.advanceTimersByTime(199);
    expect(out).toHaveLength(2);
    dedup.add({ phyPayload: frame(2), rx: rxMeta({ gatewayEui: 'b' }), receivedAtMs: 4 });
    vi.advanceTimersByTime(1);
    expect(out).toHaveLength(3);
    expect(out[2]?.rxInfo.map((r) => r.gatewayEui).sort()).toEqual(['a', 'b']);
  });

  it('takes the shortcut again once the other receiver was silent that long, and a copy after the window is a new frame', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 200, soleReceiverAfterMs: 1000 });
    dedup.add({ phyPayload: frame(0), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 0 });
    dedup.add({ phyPayload: frame(0), rx: rxMeta({ gatewayEui: 'b' }), receivedAtMs: 0 });
    vi.advanceTimersByTime(999);
    dedup.add({ phyPayload: frame(1), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 1 });
    vi.advanceTimersByTime(0);
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(200);
    expect(out).toHaveLength(2);
    vi.advanceTimersByTime(1);
    dedup.add({ phyPayload: frame(2), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 2 });
    vi.advanceTimersByTime(0);
    expect(out).toHaveLength(3);
    // A copy past the window it would have had is not a late copy: it goes on as a frame.
    vi.advanceTimersByTime(200);
    dedup.add({ phyPayload: frame(2), rx: rxMeta({ gatewayEui: 'b' }), receivedAtMs: 3 });
    vi.advanceTimersByTime(200);
    expect(out).toHaveLength(4);
    expect(dedup.late).toBe(0);
  });

  it('never takes the shortcut with soleReceiverAfterMs 0', () => {
    const out: CollectedUplink[] = [];
    dedup = new Deduplicator((u) => out.push(u), { windowMs: 200, soleReceiverAfterMs: 0 });
    for (let i = 0; i < 5; i++) {
      dedup.add({ phyPayload: frame(i), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: i });
      vi.advanceTimersByTime(60_000);
    }
    dedup.add({ phyPayload: frame(9), rx: rxMeta({ gatewayEui: 'a' }), receivedAtMs: 9 });
    vi.advanceTimersByTime(199);
    expect(out).toHaveLength(5);
    vi.advanceTimersByTime(1);
    expect(out).toHaveLength(6);
  });
});
