import { describe, expect, it } from 'vitest';
import { DeviceTraffic, HOUR_MS, HOURS_KEPT, windowStartMs } from './device-traffic.js';

const t0 = Date.UTC(2026, 5, 1, 12, 0, 0);

/** The record's own fields and typed arrays, as a heap snapshot would count them. */
function heldSize(traffic: DeviceTraffic): number {
  let n = 0;
  for (const value of Object.values(traffic)) {
    if (ArrayBuffer.isView(value)) n += value.byteLength;
    else n += 1;
  }
  return n;
}

describe('DeviceTraffic', () => {
  it('holds a fixed number of hour buckets however many uplinks a device sends', () => {
    const traffic = new DeviceTraffic();
    const empty = heldSize(traffic);
    // 100,000 uplinks over four days, one every 3.456 s, in one session.
    let counted = 0;
    for (let fCnt = 0; fCnt < 100_000; fCnt++) {
      if (traffic.note({ session: 0, fCnt, atMs: t0 + fCnt * 3_456, rssi: -80, snr: 7 })) counted++;
    }
    expect(counted).toBe(100_000);
    expect(heldSize(traffic)).toBe(empty);
    const now = t0 + 99_999 * 3_456;
    // Every uplink of the 24 clock hours up to now's hour, counted exactly: 3.456 s apart.
    const from = windowStartMs(now);
    let expected = 0;
    for (let fCnt = 0; fCnt < 100_000; fCnt++) if (t0 + fCnt * 3_456 >= from) expected++;
    expect(traffic.uplinks24h(now)).toBe(expected);
    expect(traffic.last).toMatchObject({ session: 0, fCnt: 99_999, atMs: now, rssi: -80, snr: 7 });
  });

  it('counts a rejoin as new uplinks and a repeat of the last uplink once', () => {
    const traffic = new DeviceTraffic();
    for (let fCnt = 0; fCnt < 4; fCnt++) traffic.note({ session: 0, fCnt, atMs: t0 + fCnt * 1_000 });
    expect(traffic.note({ session: 0, fCnt: 3, atMs: t0 + 5_000 })).toBe(false); // retransmission
    for (let fCnt = 0; fCnt < 4; fCnt++) traffic.note({ session: 1, fCnt, atMs: t0 + 10_000 + fCnt * 1_000 });
    expect(traffic.uplinks24h(t0 + 20_000)).toBe(8);
    expect(traffic.last).toMatchObject({ session: 1, fCnt: 3 });
  });

  it('ages out hours older than the window, and a late count for an overwritten hour is ignored', () => {
    const traffic = new DeviceTraffic();
    traffic.addToHour(t0 / HOUR_MS, 5);
    traffic.addToHour(t0 / HOUR_MS + 1, 7);
    expect(traffic.uplinks24h(t0 + HOUR_MS)).toBe(12);
    expect(traffic.uplinks24h(t0 + HOURS_KEPT * HOUR_MS)).toBe(7);
    expect(traffic.uplinks24h(t0 + (HOURS_KEPT + 1) * HOUR_MS)).toBe(0);
    traffic.addToHour(t0 / HOUR_MS + HOURS_KEPT, 2); // reuses hour t0's slot
    traffic.addToHour(t0 / HOUR_MS, 9); // older than the slot now holds: not counted
    expect(traffic.uplinks24h(t0 + HOURS_KEPT * HOUR_MS)).toBe(9);
    // Uplinks stamped after "now" are not in the last 24 h yet.
    expect(traffic.uplinks24h(t0 - HOUR_MS)).toBe(0);
  });

  it('keeps the newest uplink and the newest codec error by reception time', () => {
    const traffic = new DeviceTraffic();
    traffic.remember({ session: 0, fCnt: 9, atMs: t0 + 9_000, codecErrors: ['late'] });
    traffic.remember({ session: 0, fCnt: 5, atMs: t0 + 5_000, codecErrors: ['early', 'twice'] });
    expect(traffic.last?.fCnt).toBe(9);
    expect(traffic.lastCodecError).toEqual({ message: 'late', atMs: t0 + 9_000 });
    traffic.noteCodecError(['newer'], t0 + 10_000);
    expect(traffic.lastCodecError?.message).toBe('newer');
    expect(traffic.uplinks24h(t0 + 10_000)).toBe(0); // remembered, not counted
  });
});
