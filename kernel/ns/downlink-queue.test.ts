import { describe, expect, it } from 'vitest';
import { DownlinkQueue, type QueuedDownlink } from './downlink-queue.js';

const EUI = '0102030405060708';

describe('downlink queue', () => {
  it("keeps the application's id and drops a downlink whose expiresAt passed, reporting it", async () => {
    let now = Date.UTC(2026, 4, 1, 10);
    const expired: QueuedDownlink[] = [];
    const queue = new DownlinkQueue({ onExpired: (item) => expired.push(item), now: () => now });
    await queue.enqueue(EUI, {
      fPort: 8,
      confirmed: false,
      data: Uint8Array.of(1),
      id: 'soon',
      expiresAt: new Date(now + 60_000).toISOString(),
    });
    await queue.enqueue(EUI, { fPort: 9, confirmed: true, data: Uint8Array.of(2), id: 'later' });
    expect(queue.peek(EUI)?.id).toBe('soon');
    expect(expired).toEqual([]);
    now += 60_000;
    // At its expiry instant it is no longer sent: the next one is.
    expect(queue.peek(EUI)?.id).toBe('later');
    expect(expired.map((e) => e.id)).toEqual(['soon']);
    expect(queue.list(EUI).map((q) => q.id)).toEqual(['later']);
    // A random UUID when the application gave no id.
    const item = await queue.enqueue(EUI, { fPort: 1, confirmed: false, data: new Uint8Array() });
    expect(item.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
