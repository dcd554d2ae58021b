/**
 * Byte helpers for the LoRaWAN codec: big-endian hex strings in our API,
 * little-endian bytes on air (LoRaWAN 1.0.3 §4: "multi-octet fields are
 * transmitted little endian").
 */
import { ErrorCode, MaverickError } from '../errors.js';

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Parses a big-endian hex identifier of exactly `bytes` bytes and returns it in air (little-endian) order. */
export function hexToLittleEndian(hex: string, bytes: number, field: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== bytes * 2 || !HEX_RE.test(hex)) {
    throw new MaverickError(ErrorCode.LorawanCodec, `${field} must be ${bytes * 2} hex characters`, {
      hint: `got ${JSON.stringify(String(hex).slice(0, 40))}; write it big-endian as printed on the label`,
      context: { field },
    });
  }
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[bytes - 1 - i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Reads `length` little-endian bytes at `offset` and renders them as big-endian lower-case hex. */
/** Two lower-case hex digits per byte value: DevAddr/EUI strings per frame without number formatting. */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function littleEndianToHex(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset + length - 1; i >= offset; i--) s += HEX_BYTE[bytes[i]];
  return s;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string, field = 'hex'): Uint8Array {
  if (hex.length % 2 !== 0 || !HEX_RE.test(hex)) {
    throw new MaverickError(ErrorCode.LorawanCodec, `${field} is not an even-length hex string`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Throws unless `key` is a 16-byte AES-128 key. */
export function assertKey(key: Uint8Array, name: string): void {
  if (!(key instanceof Uint8Array) || key.length !== 16) {
    throw new MaverickError(ErrorCode.LorawanCodec, `${name} must be 16 bytes (AES-128)`, {
      hint: 'pass the key as 32 hex characters converted to bytes',
    });
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function assertInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MaverickError(ErrorCode.LorawanCodec, `${field} must be an integer in ${min}..${max}`, {
      context: { field, value },
    });
  }
}

export function writeUintLE(out: Uint8Array, offset: number, value: number, bytes: number): void {
  if (bytes <= 4 && value >>> 0 === value) {
    // Shifts for the common case (FCnt, DevAddr): no float division per byte on every frame.
    for (let i = 0; i < bytes; i++) out[offset + i] = (value >>> (8 * i)) & 0xff;
    return;
  }
  for (let i = 0; i < bytes; i++) out[offset + i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
}

export function readUintLE(bytes: Uint8Array, offset: number, length: number): number {
  let v = 0;
  for (let i = length - 1; i >= 0; i--) v = v * 256 + bytes[offset + i];
  return v;
}
