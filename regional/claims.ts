/**
 * Computes a plot's claims (proto/evidence/claims.ts) from the records committed for it in a
 * period. Pure: the caller gathers the records (regional/evidence.ts) and signs the result.
 */
import { compareBytes } from '../proto/bundle/cbor-encode.js';
import type { MicroPosition, PlotDefinition, UplinkRecord } from '../proto/bundle/types.js';
import {
  type ClaimSource,
  compareFixed,
  type FieldClaim,
  type Fixed,
  type PlotClaims,
} from '../proto/evidence/claims.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface ClaimsInput {
  plotId: string;
  from: number;
  to: number;
  /** The plot's records in the period (any order). */
  records: readonly UplinkRecord[];
  definition: PlotDefinition;
  /** Leaves the period's statements commit to, over all plots of their gateways. */
  committedLeaves: number;
  sources: ClaimSource[];
}

/** Buckets [from, to] spans (inclusive) when cut at multiples of `size` ms. */
function buckets(from: number, to: number, size: number): number {
  return Math.floor(to / size) - Math.floor(from / size) + 1;
}

/** Ray casting on one linear ring (micro-degrees; a point on an edge may fall either way). */
function insideRing([x, y]: MicroPosition, ring: readonly MicroPosition[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as MicroPosition;
    const [xj, yj] = ring[j] as MicroPosition;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Inside the exterior ring and outside every hole. */
export function insidePolygon(p: MicroPosition, rings: readonly MicroPosition[][]): boolean {
  const [outer, ...holes] = rings;
  return !!outer && insideRing(p, outer) && !holes.some((h) => insideRing(p, h));
}

/** The position a record carries: a `…latitude` / `…longitude` reading pair with one prefix, in micro-degrees. */
export function positionOf(record: UplinkRecord): MicroPosition | undefined {
  for (const lat of record.readings) {
    if (!lat.field.endsWith('latitude')) continue;
    const prefix = lat.field.slice(0, -'latitude'.length);
    const lon = record.readings.find((r) => r.field === `${prefix}longitude`);
    if (!lon) continue;
    const micro = (r: Fixed) => Math.round(r.value * 10 ** (r.scale + 6));
    return [micro(lon), micro(lat)];
  }
  return undefined;
}

function fieldClaims(records: readonly UplinkRecord[]): FieldClaim[] {
  const byField = new Map<string, FieldClaim>();
  for (const u of records) {
    for (const r of u.readings) {
      const value = { value: r.value, scale: r.scale };
      const f = byField.get(r.field);
      if (!f) {
        byField.set(r.field, { field: r.field, count: 1, min: value, max: value });
        continue;
      }
      f.count++;
      if (compareFixed(value, f.min) < 0) f.min = value;
      if (compareFixed(value, f.max) > 0) f.max = value;
    }
  }
  return [...byField.values()].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

/** Gaps, missing frames and backwards moves of the FCnt within each device session, in time order. */
function fCntClaims(records: readonly UplinkRecord[]): PlotClaims['fCnt'] {
  const sorted = [...records].sort(
    (a, b) =>
      compareBytes(a.devEui, b.devEui) ||
      (a.session ?? 0) - (b.session ?? 0) ||
      a.receivedAt - b.receivedAt ||
      a.fCnt - b.fCnt,
  );
  const out = { gaps: 0, missing: 0, resets: 0 };
  for (let i = 1; i < sorted.length; i++) {
    const [p, u] = [sorted[i - 1] as UplinkRecord, sorted[i] as UplinkRecord];
    if (compareBytes(p.devEui, u.devEui) !== 0 || (p.session ?? 0) !== (u.session ?? 0)) continue;
    if (u.fCnt > p.fCnt + 1) {
      out.gaps++;
      out.missing += u.fCnt - p.fCnt - 1;
    } else if (u.fCnt <= p.fCnt) {
      out.resets++;
    }
  }
  return out;
}

export function computeClaims(input: ClaimsInput): PlotClaims {
  const { plotId, from, to, records, definition } = input;
  const devices = new Map<string, Uint8Array>();
  const days = new Set<number>();
  const hours = new Set<number>();
  const hourOfDay = new Array<number>(24).fill(0);
  const timeSources = { gps: 0, ntp: 0, unsynced: 0 };
  const positions = { count: 0, inside: 0 };
  const polygon = definition.geometry.type === 'Polygon' ? definition.geometry.coordinates : undefined;
  for (const u of records) {
    if (u.plotId !== plotId || u.receivedAt < from || u.receivedAt > to) {
      throw new RangeError(
        `record at ${u.receivedAt} of plot ${u.plotId} is not plot ${plotId} in the period`,
      );
    }
    devices.set(Buffer.from(u.devEui).toString('hex'), u.devEui);
    days.add(Math.floor(u.receivedAt / DAY_MS));
    hours.add(Math.floor(u.receivedAt / HOUR_MS));
    (hourOfDay[Math.floor((u.receivedAt % DAY_MS) / HOUR_MS)] as number)++;
    timeSources[u.timeSource === 'host-unsynced' ? 'unsynced' : u.timeSource]++;
    const p = positionOf(u);
    if (p) {
      positions.count++;
      if (polygon && insidePolygon(p, polygon)) positions.inside++;
    }
  }
  return {
    plotId,
    from,
    to,
    devices: [...devices.values()].sort(compareBytes),
    observations: records.length,
    days: buckets(from, to, DAY_MS),
    daysCovered: days.size,
    hours: buckets(from, to, HOUR_MS),
    hoursCovered: hours.size,
    hourOfDay,
    timeSources,
    fCnt: fCntClaims(records),
    fields: fieldClaims(records),
    positions: { count: positions.count, insidePlot: polygon ? positions.inside : null },
    committedLeaves: input.committedLeaves,
    sources: input.sources,
  };
}
