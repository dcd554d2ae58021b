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
  if (!Number.isFinite(x)) return undefined;
  for (let decimals = 0; decimals <= MAX_DECIMALS; decimals++) {
    const scaled = x * (POW10[decimals] as number);
    const rounded = Math.round(scaled);
    if (!Number.isSafeInteger(rounded)) return undefined;
    // A few ulps of tolerance: 0.1 + 0.2 must come out as (3, -1), but 99999999.9 is not 100000000.
    if (Math.abs(scaled - rounded) <= 8 * Number.EPSILON * Math.max(1, Math.abs(scaled))) {
      return { value: rounded === 0 ? 0 : rounded, scale: -decimals };
    }
  }
  const rounded = Math.round(x * POW10[MAX_DECIMALS]);
  return Number.isSafeInteger(rounded) ? { value: rounded, scale: -MAX_DECIMALS } : undefined;
}

/** Flattens the numeric (and boolean) leaves of a decoded object into readings, in a stable order. */
export function readingsFromObject(object: Record<string, unknown> | undefined): FixedPointReading[] {
  const out: FixedPointReading[] = [];
  if (!object) return out;
  const walk = (value: unknown, path: string, depth: number) => {
    if (out.length >= MAX_FIELDS) return;
    if (typeof value === 'number') {
      const fp = toFixedPoint(value);
      if (fp) out.push({ field: path, value: fp.value, scale: fp.scale });
    } else if (typeof value === 'boolean') {
      out.push({ field: path, value: value ? 1 : 0, scale: 0 });
    } else if (value !== null && typeof value === 'object' && depth < MAX_DEPTH && !Array.isArray(value)) {
      for (const key of Object.keys(value).sort()) {
        walk((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1);
      }
    }
  };
  walk(object, '', 0);
  return out.filter((r) => r.field.length > 0 && r.field.length <= 128);
}
