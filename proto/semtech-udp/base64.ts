/**
 * Base64 of `data` (PROTOCOL.TXT §4: "padded"; §6: "padding optional"). Node's decoder silently
 * skips characters outside the alphabet, so the text is validated first: a corrupted payload
 * must be rejected, not shortened.
 */
import { badField } from './wire-error.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeBase64(value: unknown, path: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string') throw badField(path, 'must be a base64 string', value);
  if (value.length > Math.ceil(maxBytes / 3) * 4)
    throw badField(path, `decodes to more than ${maxBytes} bytes`);
  if (!BASE64.test(value)) throw badField(path, 'is not base64', value);
  const body = value.replace(/=+$/, '');
  const padded = value.length !== body.length;
  // A lone trailing character carries fewer than 8 bits; padding must complete a 4-character group.
  if (body.length % 4 === 1 || (padded && value.length % 4 !== 0))
    throw badField(path, 'is truncated base64', value);
  return new Uint8Array(Buffer.from(body, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
