/**
 * Rows of the PostgreSQL regional store (pg-migrations.ts) and what they map
 * to: stored bundles, chain links, alerts, and uplinks read back from a
 * bundle's stored COSE bytes.
 */
import { decodeStoredBundle } from '../proto/bundle/bundle.js';
import type { DeviceSummary, TimeSource, UplinkRecord } from '../proto/bundle/types.js';
import type { ChainLink } from './chain-verdicts.js';
import type { RegionalAlert, StoredBundle } from './store.js';

export const hexToBytes = (s: string): Buffer => Buffer.from(s, 'hex');

export interface BundleRow {
  digest: Buffer;
  gateway_id: string;
  seq: string;
  prev_hash: Buffer;
  kid: Buffer;
  cose: Buffer;
  iat: string;
  sub: string;
  time_start: string;
  time_end: string;
  uplink_count: number;
  time_sources: Record<TimeSource, number>;
  plots: { plotId: string; geometryHash: string }[];
  /** NULL from migration 5 on: the summaries are read from `cose` (devicesOf). */
  devices: (Omit<DeviceSummary, 'devEui'> & { devEui: string })[] | null;
  received_at: string;
  source: string;
  disputed: boolean;
  overruled: boolean;
}

export function toStored(r: BundleRow): StoredBundle {
  const stored: Omit<StoredBundle, 'devices'> = {
    gatewayId: r.gateway_id,
    seq: Number(r.seq),
    digest: r.digest.toString('hex'),
    prevHash: r.prev_hash.toString('hex'),
    kid: r.kid.toString('hex'),
    cose: new Uint8Array(r.cose),
    iat: Number(r.iat),
    sub: r.sub,
    timeStart: Number(r.time_start),
    timeEnd: Number(r.time_end),
    uplinkCount: r.uplink_count,
    timeSources: r.time_sources,
    plots: r.plots,
    receivedAt: Number(r.received_at),
    source: r.source,
    disputed: r.disputed,
    ...(r.overruled ? { overruled: true } : {}),
  };
  const json = r.devices;
  if (json)
    return {
      ...stored,
      devices: json.map((d) => ({ ...d, devEui: new Uint8Array(hexToBytes(d.devEui)) })),
    };
  // Decoded on first read only: the chain checks on the intake path never look at the summaries.
  let devices: DeviceSummary[] | undefined;
  return Object.defineProperty({ ...stored, devicesFromCose: true }, 'devices', {
    enumerable: true,
    get: () => {
      devices ??= devicesOf(r.cose);
      return devices;
    },
  }) as StoredBundle;
}

/** A stored bundle's device summaries, from its COSE bytes (verified on intake, canonical). */
function devicesOf(cose: Buffer): DeviceSummary[] {
  return decodeStoredBundle(new Uint8Array(cose)).devices;
}

export type LinkRow = Pick<BundleRow, 'seq' | 'digest' | 'prev_hash' | 'disputed' | 'overruled'>;

export function linkOf(r: LinkRow): ChainLink {
  return {
    seq: Number(r.seq),
    digest: r.digest.toString('hex'),
    prevHash: r.prev_hash.toString('hex'),
    disputed: r.disputed,
    ...(r.overruled ? { overruled: true } : {}),
  };
}

export interface AlertRow {
  id: string;
  kind: RegionalAlert['kind'];
  gateway_id: string;
  seq: string;
  message: string;
  details: Record<string, unknown>;
  at: string;
  closed_at: string | null;
  closed_reason: string | null;
}

export function toAlert(r: AlertRow): RegionalAlert {
  return {
    id: r.id,
    kind: r.kind,
    gatewayId: r.gateway_id,
    seq: Number(r.seq),
    message: r.message,
    details: r.details,
    at: Number(r.at),
    ...(r.closed_at === null ? {} : { closedAt: Number(r.closed_at) }),
    ...(r.closed_reason === null ? {} : { closedReason: r.closed_reason }),
  };
}

/** An uplink as kept in plot_evidence.uplinks (rows written before migration 3). */
export interface UplinkJson {
  d: string;
  f: number;
  t: number;
  s: TimeSource;
  r: { field: string; scale: number; value: number }[];
}
/** An uplink as kept in plot_evidence.uplinks before migration 3. */
export function uplinkOf(u: UplinkJson, plotId: string): UplinkRecord {
  return {
    devEui: new Uint8Array(hexToBytes(u.d)),
    plotId,
    fCnt: u.f,
    receivedAt: u.t,
    timeSource: u.s,
    readings: u.r,
  };
}

/** The uplinks of one plot from a stored bundle's COSE bytes (verified when it arrived). */
export function uplinksOfPlot(cose: Buffer, plotId: string): UplinkRecord[] {
  return decodeStoredBundle(new Uint8Array(cose)).uplinks.filter((u) => u.plotId === plotId);
}
