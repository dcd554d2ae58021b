/**
 * Cayenne LPP encoder (myDevices Cayenne Low Power Payload, base IPSO types:
 * type = IPSO object id - 3200). Each value is channel | type | big-endian
 * data. Only the base types are used so ChirpStack's and our kernel's decoders
 * both read the result.
 */
import { ErrorCode, MaverickError } from '../proto/errors.js';

/** type id, data size in bytes, signedness, and the multiplier from the unit to the raw integer. */
const LPP = {
  digitalInput: { id: 0, size: 1, signed: false, scale: 1 },
  analogInput: { id: 2, size: 2, signed: true, scale: 100 },
  illuminance: { id: 101, size: 2, signed: false, scale: 1 },
  /** °C, 0.1 °C resolution. */
  temperature: { id: 103, size: 2, signed: true, scale: 10 },
  /** % relative humidity, 0.5 % resolution. */
  humidity: { id: 104, size: 1, signed: false, scale: 2 },
  /** hPa, 0.1 hPa resolution. */
  barometer: { id: 115, size: 2, signed: false, scale: 10 },
} as const;

export type LppKind = keyof typeof LPP;
export interface LppValue {
  channel: number;
  kind: LppKind;
  /** In the unit of the kind (°C, %, hPa, lux; analog inputs are plain numbers with 0.01 resolution). */
  value: number;
}

export const LPP_TYPE_IDS: Readonly<Record<LppKind, number>> = Object.fromEntries(
  Object.entries(LPP).map(([k, v]) => [k, v.id]),
) as Record<LppKind, number>;

/** Rounds a value to what the LPP type can carry (the value a decoder will read back). */
export function quantize(kind: LppKind, value: number): number {
  const { scale } = LPP[kind];
  return Math.round(value * scale) / scale;
}

export function encodeCayenneLpp(values: readonly LppValue[]): Uint8Array {
  const out: number[] = [];
  for (const { channel, kind, value } of values) {
    const t = LPP[kind];
    if (!t) throw new MaverickError(ErrorCode.LorawanCodec, `unknown Cayenne LPP kind ${String(kind)}`);
    if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
      throw new MaverickError(ErrorCode.LorawanCodec, `Cayenne LPP channel must be 0..255, got ${channel}`);
    }
    const raw = Math.round(value * t.scale);
    const bits = t.size * 8;
    const min = t.signed ? -(2 ** (bits - 1)) : 0;
    const max = t.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (!Number.isFinite(raw) || raw < min || raw > max) {
      throw new MaverickError(ErrorCode.LorawanCodec, `${kind} value ${value} does not fit Cayenne LPP`, {
        hint: `range is ${min / t.scale}..${max / t.scale}`,
      });
    }
    const unsigned = raw < 0 ? raw + 2 ** bits : raw;
    out.push(channel, t.id);
    for (let i = t.size - 1; i >= 0; i--) out.push(Math.floor(unsigned / 2 ** (8 * i)) & 0xff);
  }
  return new Uint8Array(out);
}
