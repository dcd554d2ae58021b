/**
 * Decoded payloads (codec output) become telemetry readings: every numeric
 * leaf of the object is one reading, stored as a fixed-point integer with a
 * decimal scale. Evidence never holds floats: 21.35 °C is (2135, -2).
 */

export interface FixedPointReading {
  field: string;
  value: number;
  scale: number;
}

const MAX_DECIMALS = 6;
/** 10^0 … 10^6, the same doubles `10 ** d` gives (exact below 10^23), without a pow() per try. */
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] as const;
const MAX_FIELDS = 64;
const MAX_DEPTH = 4;

/** The smallest number of decimals that represents `x` exactly (up to 6), or undefined if out of range. */
export function toFixedPoint(x: number): { value: number; scale: number } | undefined {
  const decimals = decimalsOf(x);
  return decimals < 0 ? undefined : { value: scaled(x, decimals), scale: -decimals };
}

/** toFixedPoint's number of decimals (its value is scaled(x, decimals)), or -1 if out of range. */
function decimalsOf(x: number): number {
  if (!Number.isFinite(x)) return -1;
  for (let decimals = 0; decimals <= MAX_DECIMALS; decimals++) {
    const scaledValue = x * (POW10[decimals] as number);
    const rounded = Math.round(scaledValue);
    if (!Number.isSafeInteger(rounded)) return -1;
    // A few ulps of tolerance: 0.1 + 0.2 must come out as (3, -1), but 99999999.9 is not 100000000.
    if (Math.abs(scaledValue - rounded) <= 8 * Number.EPSILON * Math.max(1, Math.abs(scaledValue))) {
      return decimals;
    }
  }
  return Number.isSafeInteger(Math.round(x * POW10[MAX_DECIMALS])) ? MAX_DECIMALS : -1;
}

/** `x × 10^decimals` as an integer (never -0). */
function scaled(x: number, decimals: number): number {
  const rounded = Math.round(x * (POW10[decimals] as number));
  return rounded === 0 ? 0 : rounded;
}

const validField = (r: FixedPointReading) => r.field.length > 0 && r.field.length <= 128;

/** Flattens the numeric (and boolean) leaves of a decoded object into readings, in a stable order. */
export function readingsFromObject(object: Record<string, unknown> | undefined): FixedPointReading[] {
  const out: FixedPointReading[] = [];
  if (!object) return out;
  walk(object, '', 0, out);
  // Paths that are empty or too long are left out (a copy only when there is one).
  return out.every(validField) ? out : out.filter(validField);
}

/** Appends the readings under `value` (keys in sorted order) to `out`, at most MAX_FIELDS. */
function walk(value: unknown, path: string, depth: number, out: FixedPointReading[]): void {
  if (out.length >= MAX_FIELDS) return;
  if (typeof value === 'number') {
    const decimals = decimalsOf(value);
    if (decimals >= 0) out.push({ field: path, value: scaled(value, decimals), scale: -decimals });
  } else if (typeof value === 'boolean') {
    out.push({ field: path, value: value ? 1 : 0, scale: 0 });
  } else if (value !== null && typeof value === 'object' && depth < MAX_DEPTH && !Array.isArray(value)) {
    const keys = Object.keys(value);
    sortKeys(keys);
    for (const key of keys) {
      walk((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1, out);
    }
  }
}

/**
 * Sorts keys in place in string order, as keys.sort() would. A decoded object has a handful
 * of keys: an insertion sort of them allocates nothing (Array.prototype.sort allocated a
 * work copy per object per uplink).
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}
