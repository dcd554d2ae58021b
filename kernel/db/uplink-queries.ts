/** Read-side queries over stored uplinks, for `maverick uplinks count|list` and `status`. */
import type { MangoQuerySelector } from 'rxdb';
import type { FarmDatabase } from './farm-db.js';
import type { UplinkDoc } from './schemas.js';

export interface UplinkFilter {
  devEui?: string;
  sinceMs?: number;
  untilMs?: number;
}

export interface UplinkSummary {
  devEui: string;
  devAddr: string;
  fCnt: number;
  fPort?: number;
  confirmed: boolean;
  receivedAt: string;
  time: string;
  timeSource: string;
  object?: Record<string, unknown>;
  data?: string;
  rssi?: number;
  snr?: number;
  gateways: number;
  sealedSeq?: number;
}

function selector(filter: UplinkFilter): MangoQuerySelector<UplinkDoc> {
  const sel: MangoQuerySelector<UplinkDoc> = {};
  if (filter.devEui) sel.devEui = filter.devEui.toLowerCase();
  if (filter.sinceMs !== undefined || filter.untilMs !== undefined) {
    sel.receivedAt = {};
    if (filter.sinceMs !== undefined) sel.receivedAt.$gte = filter.sinceMs;
    if (filter.untilMs !== undefined) sel.receivedAt.$lte = filter.untilMs;
  }
  return sel;
}

export async function countUplinks(db: FarmDatabase, filter: UplinkFilter = {}): Promise<number> {
  return db.uplinks.count({ selector: selector(filter) }).exec();
}

/** Newest last; `limit` keeps the most recent ones. */
export async function listUplinks(
  db: FarmDatabase,
  filter: UplinkFilter = {},
  limit = 100,
): Promise<UplinkSummary[]> {
  const docs = await db.uplinks
    .find({ selector: selector(filter), sort: [{ receivedAt: 'desc' }, { id: 'desc' }], limit })
    .exec();
  return docs.reverse().map((d) => summarise(d.toJSON() as UplinkDoc));
}

export function summarise(d: UplinkDoc): UplinkSummary {
  const first = d.rxInfo[0] as { rssi?: number; snr?: number } | undefined;
  const out: UplinkSummary = {
    devEui: d.devEui,
    devAddr: d.devAddr,
    fCnt: d.fCnt,
    confirmed: d.confirmed,
    receivedAt: new Date(d.receivedAt).toISOString(),
    time: d.time,
    timeSource: d.timeSource,
    gateways: d.rxInfo.length,
  };
  if (d.fPort !== undefined) out.fPort = d.fPort;
  if (d.object) out.object = d.object;
  if (d.data) out.data = d.data;
  if (first?.rssi !== undefined) out.rssi = first.rssi;
  if (first?.snr !== undefined) out.snr = first.snr;
  if (d.sealedSeq >= 0) out.sealedSeq = d.sealedSeq;
  return out;
}
