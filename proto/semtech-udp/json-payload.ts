/** The JSON part of a datagram: strict UTF-8, one JSON object, nothing else. */
import { ErrorCode } from '../errors.js';
import { wireError } from './wire-error.js';

export type JsonObject = Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Parses bytes[offset..] as a JSON object. Trailing NUL bytes are tolerated because some
 * forwarders send the C string terminator of their buffer (seen on TX_ACK).
 */
export function parseJsonObject(bytes: Uint8Array, offset: number, what: string): JsonObject {
  let end = bytes.length;
  while (end > offset && bytes[end - 1] === 0) end--;
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(offset, end));
  } catch {
    throw wireError(ErrorCode.WireBadJson, `${what} JSON is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw wireError(ErrorCode.WireBadJson, `${what} JSON does not parse: ${reason}`, { length: text.length });
  }
  if (!isJsonObject(value)) {
    throw wireError(ErrorCode.WireBadJson, `${what} JSON must be an object {…}`);
  }
  return value;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function encodeJson(value: JsonObject): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Own property only: a key such as "__proto__" or "constructor" in untrusted JSON must never leak in. */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
