/**
 * Cayenne LPP decoder and encoder (myDevices "Cayenne Low Power Payload":
 * a sequence of [channel u8][type u8][big-endian value]). The decoder takes
 * untrusted bytes and never throws: malformed input gives `errors` and no data,
 * like ChirpStack's built-in codec. The encoder is for downlinks and tests and
 * throws MaverickError (CodecInvalid) naming the offending field.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import {
  LPP_BY_ID,
  LPP_BY_KEY,
  LPP_TYPES,
  type LppField,
  type LppType,
  lppSize,
  rawRange,
} from './cayenne-types.js';
import type { CodecResult } from './types.js';

function readField(bytes: Uint8Array, offset: number, field: LppField): number {
  let raw = 0;
  for (let i = 0; i < field.size; i++) raw = raw * 256 + bytes[offset + i]!;
  if (field.signed && raw >= 2 ** (field.size * 8 - 1)) raw -= 2 ** (field.size * 8);
  return field.divisor === 1 ? raw : raw / field.divisor;
}

function decodeValue(bytes: Uint8Array, offset: number, type: LppType): unknown {
  if (type.fields.length === 1 && type.fields[0]!.name === undefined)
    return readField(bytes, offset, type.fields[0]!);
  const value: Record<string, number> = {};
  let at = offset;
  for (const field of type.fields) {
    value[field.name!] = readField(bytes, at, field);
    at += field.size;
  }
  return value;
}

export function decodeCayenneLpp(bytes: Uint8Array): CodecResult {
  const data: Record<string, Record<string, unknown>> = {};
  const warnings: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) {
      return {
        warnings,
        errors: [`Cayenne LPP: 1 stray byte at offset ${offset} (a channel without a type)`],
      };
    }
    const channel = bytes[offset]!;
    const typeId = bytes[offset + 1]!;
    const type = LPP_BY_ID.get(typeId);
    if (!type) {
      return { warnings, errors: [`Cayenne LPP: unknown data type ${typeId} at offset ${offset + 1}`] };
    }
    const size = lppSize(type);
    if (offset + 2 + size > bytes.length) {
      return {
        warnings,
        errors: [
          `Cayenne LPP: ${type.key} on channel ${channel} needs ${size} bytes at offset ${offset + 2}, only ${bytes.length - offset - 2} left`,
        ],
      };
    }
    let group = data[type.key];
    if (!group) {
      group = {};
      data[type.key] = group;
    }
    const key = String(channel);
    if (key in group)
      warnings.push(`Cayenne LPP: ${type.key} channel ${channel} repeated; the last value is kept`);
    group[key] = decodeValue(bytes, offset + 2, type);
    offset += 2 + size;
  }
  return { data, warnings, errors: [] };
}

function invalid(path: string, message: string, value?: unknown): MaverickError {
  return new MaverickError(ErrorCode.CodecInvalid, `Cayenne LPP encode: ${path} ${message}`, {
    context: { field: path, value },
  });
}

function writeField(out: number[], value: unknown, field: LppField, path: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(path, 'must be a finite number', value);
  const raw = Math.round(value * field.divisor);
  const [lo, hi] = rawRange(field);
  if (raw < lo || raw > hi)
    throw invalid(path, `is out of range (${lo / field.divisor}..${hi / field.divisor})`, value);
  const unsigned = raw < 0 ? raw + 2 ** (field.size * 8) : raw;
  for (let i = field.size - 1; i >= 0; i--) out.push(Math.floor(unsigned / 2 ** (8 * i)) % 256);
}

function encodeValue(out: number[], value: unknown, type: LppType, path: string): void {
  if (type.fields.length === 1 && type.fields[0]!.name === undefined) {
    writeField(out, value, type.fields[0]!, path);
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(path, `must be an object with ${type.fields.map((f) => f.name).join(', ')}`, value);
  }
  const record = value as Record<string, unknown>;
  for (const field of type.fields) writeField(out, record[field.name!], field, `${path}.${field.name}`);
}

/** Encodes ChirpStack-shaped LPP data (e.g. `{ digitalOutput: { "1": 1 } }`) to bytes. */
export function encodeCayenneLpp(data: Record<string, unknown>): Uint8Array {
  for (const key of Object.keys(data)) {
    if (!LPP_BY_KEY.has(key)) {
      throw invalid(key, `is not a Cayenne LPP type (known: ${LPP_TYPES.map((t) => t.key).join(', ')})`);
    }
  }
  const out: number[] = [];
  for (const type of LPP_TYPES) {
    const group = data[type.key];
    if (group === undefined) continue;
    if (typeof group !== 'object' || group === null || Array.isArray(group)) {
      throw invalid(type.key, 'must be an object of channel → value');
    }
    const channels = Object.keys(group).sort((a, b) => Number(a) - Number(b));
    for (const channel of channels) {
      const ch = Number(channel);
      if (!/^\d{1,3}$/.test(channel) || ch > 255)
        throw invalid(`${type.key}.${channel}`, 'channel must be 0..255');
      out.push(ch, type.id);
      encodeValue(out, (group as Record<string, unknown>)[channel], type, `${type.key}.${channel}`);
    }
  }
  return new Uint8Array(out);
}
