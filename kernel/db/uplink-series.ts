/**
 * Time series of one device for charts: each numeric reading, RSSI and SNR,
 * averaged into at most `buckets` equal time buckets over [sinceMs, untilMs],
 * so a 30-day window of a device sending every minute still answers with a
 * few hundred points. A window with no more uplinks than buckets is answered
 * point by point (nothing to thin out). Readings come from the fixed-point values the uplink
 * stores (the same numbers a bundle seals), not from re-parsing payloads.
 */
import type { FarmDatabase } from './farm-db.js';
import type { UplinkDoc } from './schemas.js';

export interface SeriesQuery {
  devEui: string;
  sinceMs: number;
  untilMs: number;
  /** Bucket count (1..2000). */
  buckets: number;
}

export interface DeviceSeries {
  /** Bucket midpoints, ms since the epoch, only buckets holding at least one uplink. */
  t: number[];
  /** Field name → value per bucket (null where that field had no value). */
  fields: Record<string, (number | null)[]>;
  /** Uplinks that fell into the window. */
  uplinks: number;
  /** Width of a bucket; 0 when the window held no more uplinks than buckets (every uplink is a point). */
  bucketMs: number;
  sinceMs: number;
  untilMs: number;
}

/** Gaps in the frame counter within the window: a lost uplink the radio never heard. */
export interface FCntGap {
  afterFCnt: number;
  missing: number;
  atMs: number;
}

interface Acc {
  sum: number;
  n: number;
}

export async function deviceSeries(
  db: FarmDatabase,
  q: SeriesQuery,
): Promise<DeviceSeries & { gaps: FCntGap[] }> {
  const buckets = Math.max(1, Math.min(2000, Math.floor(q.buckets)));
  const span = Math.max(1, q.untilMs - q.sinceMs);
  const bucketMs = Math.ceil(span / buckets);
  const docs = await db.uplinks
    .find({
      selector: { devEui: q.devEui.toLowerCase(), receivedAt: { $gte: q.sinceMs, $lte: q.untilMs } },
      sort: [{ receivedAt: 'asc' }],
    })
    .exec();
  const raw = docs.length <= buckets;
  const slotTime = new Map<number, number>();
  const slots = new Map<number, Map<string, Acc>>();
  const gaps: FCntGap[] = [];
  let previous: number | undefined;
  for (const doc of docs) {
    const d = doc.toJSON() as UplinkDoc;
    const slot = raw ? slots.size : Math.min(buckets - 1, Math.floor((d.receivedAt - q.sinceMs) / bucketMs));
    let acc = slots.get(slot);
    if (!acc) {
      acc = new Map();
      slots.set(slot, acc);
      slotTime.set(slot, raw ? d.receivedAt : q.sinceMs + slot * bucketMs + Math.floor(bucketMs / 2));
    }
    const add = (field: string, value: number) => {
      const a = acc.get(field) ?? { sum: 0, n: 0 };
      a.sum += value;
      a.n++;
      acc.set(field, a);
    };
    // A reading is value × 10^scale (kernel/db/fixed-point.ts: 21.35 °C is (2135, -2)).
    for (const r of d.readings ?? []) add(r.field, r.value * 10 ** r.scale);
    const first = d.rxInfo[0] as { rssi?: unknown; snr?: unknown } | undefined;
    if (typeof first?.rssi === 'number') add('rssi', first.rssi);
    if (typeof first?.snr === 'number') add('snr', first.snr);
    if (previous !== undefined && d.fCnt > previous + 1) {
      gaps.push({ afterFCnt: previous, missing: d.fCnt - previous - 1, atMs: d.receivedAt });
    }
    previous = d.fCnt;
  }
  const order = [...slots.keys()].sort((a, b) => a - b);
  const names = new Set<string>();
  for (const acc of slots.values()) for (const name of acc.keys()) names.add(name);
  const fields: Record<string, (number | null)[]> = {};
  for (const name of [...names].sort()) {
    fields[name] = order.map((slot) => {
      const a = slots.get(slot)?.get(name);
      return a ? a.sum / a.n : null;
    });
  }
  return {
    t: order.map((slot) => slotTime.get(slot) as number),
    fields,
    uplinks: docs.length,
    bucketMs: raw ? 0 : bucketMs,
    sinceMs: q.sinceMs,
    untilMs: q.untilMs,
    gaps,
  };
}
