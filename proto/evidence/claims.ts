/**
 * Plot claims (EVIDENCE.md §3): what the regional node states about one plot over one period,
 * computed from the committed records and signed with the node's registered key. This module
 * holds the claim model, its deterministic CBOR form and the checks a disclosed record must
 * pass against it; the computation lives in regional/claims.ts.
 */
import type { CborValue } from '../bundle/cbor-encode.js';

/** A fixed-point number as the bundles carry it: value × 10^scale. */
export interface Fixed {
  value: number;
  scale: number;
}

export interface FieldClaim {
  field: string;
  count: number;
  min: Fixed;
  max: Fixed;
}

export interface PositionClaim {
  /** Records carrying a latitude/longitude pair. */
  count: number;
  /** Of those, how many fell inside the plot polygon (null for a plot registered as a point). */
  insidePlot: number | null;
}

/** One gateway-signed root the claims were computed from. */
export interface ClaimSource {
  gatewayId: string;
  /** SHA-256 of the signed statement's exact bytes. */
  statementDigest: Uint8Array;
}

export interface PlotClaims {
  plotId: string;
  /** Unix ms, inclusive. */
  from: number;
  to: number;
  /** Distinct devices (8-byte DevEUIs, sorted) that reported for the plot. */
  devices: Uint8Array[];
  observations: number;
  /** UTC days of the period, and of those the days with at least one observation. */
  days: number;
  daysCovered: number;
  /** Hours of the period, and of those the hours with at least one observation. */
  hours: number;
  hoursCovered: number;
  /** Observations per UTC hour of day (24 counts). */
  hourOfDay: number[];
  timeSources: { gps: number; ntp: number; unsynced: number };
  /** FCnt gaps within sessions: how many gaps, how many frames they miss, counter resets. */
  fCnt: { gaps: number; missing: number; resets: number };
  fields: FieldClaim[];
  positions: PositionClaim;
  /** The period's committed leaves over all sources, and how many of them are this plot's. */
  committedLeaves: number;
  sources: ClaimSource[];
}

const fixedToCbor = (f: Fixed): CborValue => [f.value, f.scale];

export function claimsToCbor(c: PlotClaims): CborValue {
  return new Map<number, CborValue>([
    [0, 1],
    [1, c.plotId],
    [2, [c.from, c.to]],
    [3, c.devices],
    [4, c.observations],
    [5, [c.days, c.daysCovered, c.hours, c.hoursCovered]],
    [6, c.hourOfDay],
    [7, [c.timeSources.gps, c.timeSources.ntp, c.timeSources.unsynced]],
    [8, [c.fCnt.gaps, c.fCnt.missing, c.fCnt.resets]],
    [9, c.fields.map((f) => [f.field, f.count, fixedToCbor(f.min), fixedToCbor(f.max)])],
    [10, [c.positions.count, c.positions.insidePlot]],
    [11, c.committedLeaves],
    [12, c.sources.map((s) => [s.gatewayId, s.statementDigest])],
  ]);
}

class ShapeError extends Error {}

function uint(v: CborValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ShapeError(`${what} must be an unsigned integer`);
  return v;
}

function int(v: CborValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ShapeError(`${what} must be an integer`);
  return v;
}

function arr(v: CborValue | undefined, what: string, length?: number): CborValue[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length))
    throw new ShapeError(`${what} must be an array${length !== undefined ? ` of ${length}` : ''}`);
  return v;
}

function bytes(v: CborValue | undefined, what: string, length: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length)
    throw new ShapeError(`${what} must be ${length} bytes`);
  return v;
}

function text(v: CborValue | undefined, what: string): string {
  if (typeof v !== 'string') throw new ShapeError(`${what} must be text`);
  return v;
}

function fixed(v: CborValue | undefined, what: string): Fixed {
  const [value, scale] = arr(v, what, 2);
  return { value: int(value, what), scale: int(scale, what) };
}

/** The claims from their CBOR form; throws an Error naming the first field out of shape. */
export function claimsFromCbor(v: CborValue): PlotClaims {
  if (!(v instanceof Map) || v.size !== 13 || v.get(0) !== 1)
    throw new ShapeError('claims: unexpected shape or version');
  const [from, to] = arr(v.get(2), 'period', 2).map((x) => uint(x, 'period'));
  const [days, daysCovered, hours, hoursCovered] = arr(v.get(5), 'coverage', 4).map((x) =>
    uint(x, 'coverage'),
  );
  const [gps, ntp, unsynced] = arr(v.get(7), 'time sources', 3).map((x) => uint(x, 'time sources'));
  const [gaps, missing, resets] = arr(v.get(8), 'FCnt', 3).map((x) => uint(x, 'FCnt'));
  const [positions, inside] = arr(v.get(10), 'positions', 2);
  return {
    plotId: text(v.get(1), 'plot'),
    from: from as number,
    to: to as number,
    devices: arr(v.get(3), 'devices').map((d) => bytes(d, 'DevEUI', 8)),
    observations: uint(v.get(4), 'observations'),
    days: days as number,
    daysCovered: daysCovered as number,
    hours: hours as number,
    hoursCovered: hoursCovered as number,
    hourOfDay: arr(v.get(6), 'hour of day', 24).map((x) => uint(x, 'hour of day')),
    timeSources: { gps: gps as number, ntp: ntp as number, unsynced: unsynced as number },
    fCnt: { gaps: gaps as number, missing: missing as number, resets: resets as number },
    fields: arr(v.get(9), 'fields').map((f) => {
      const [field, count, min, max] = arr(f, 'field claim', 4);
      return {
        field: text(field, 'field'),
        count: uint(count, 'field count'),
        min: fixed(min, 'min'),
        max: fixed(max, 'max'),
      };
    }),
    positions: {
      count: uint(positions, 'positions'),
      insidePlot: inside === null ? null : uint(inside, 'inside plot'),
    },
    committedLeaves: uint(v.get(11), 'committed leaves'),
    sources: arr(v.get(12), 'sources').map((s) => {
      const [gatewayId, digest] = arr(s, 'source', 2);
      return {
        gatewayId: text(gatewayId, 'gateway'),
        statementDigest: bytes(digest, 'statement digest', 32),
      };
    }),
  };
}

/** Compares two fixed-point numbers exactly (BigInt: no float rounding at any scale). */
export function compareFixed(a: Fixed, b: Fixed): number {
  const s = Math.min(a.scale, b.scale);
  const x = BigInt(a.value) * 10n ** BigInt(a.scale - s);
  const y = BigInt(b.value) * 10n ** BigInt(b.scale - s);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function fixedText(f: Fixed): string {
  if (f.scale >= 0) return String(BigInt(f.value) * 10n ** BigInt(f.scale));
  const negative = f.value < 0;
  const digits = String(Math.abs(f.value)).padStart(-f.scale + 1, '0');
  const cut = digits.length + f.scale;
  return `${negative ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}

/** What a disclosed record must show to agree with the claims. */
export interface ClaimedRecord {
  devEui: Uint8Array;
  plotId: string | null;
  time: number;
  readings: { field: string; value: number; scale: number }[];
}

/**
 * Why a disclosed record of the claimed plot contradicts the claims, or undefined when it
 * agrees: inside the period, from a claimed device, every reading of a claimed field and
 * within its claimed [min, max]. Records of the farm's other plots are not this claim's.
 */
export function recordAgainstClaims(record: ClaimedRecord, claims: PlotClaims): string | undefined {
  if (record.plotId !== claims.plotId) return undefined;
  if (record.time < claims.from || record.time > claims.to)
    return `time ${new Date(record.time).toISOString()} lies outside the claimed period`;
  if (
    !claims.devices.some(
      (d) => d.length === record.devEui.length && d.every((b, i) => b === record.devEui[i]),
    )
  )
    return 'device is not among the claimed devices';
  for (const r of record.readings) {
    const field = claims.fields.find((f) => f.field === r.field);
    if (!field) return `field ${r.field} is not claimed`;
    if (compareFixed(r, field.min) < 0 || compareFixed(r, field.max) > 0)
      return `${r.field} = ${fixedText(r)} lies outside the claimed [${fixedText(field.min)}, ${fixedText(field.max)}]`;
  }
  return undefined;
}
