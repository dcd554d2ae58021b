/**
 * Session keys as bytes, parsed once per key rather than once per frame.
 *
 * Sessions store their keys as hex; the uplink path needs bytes for every MIC
 * and decryption. The cache is keyed by the hex itself, never by DevAddr or
 * DevEUI: a rejoin or a re-registration with new keys brings new hex, so it
 * can never be answered with an old session's key. Keeping the same array per
 * key also lets proto/lorawan/crypto.ts find its cipher contexts for it by
 * identity. Bounded: the oldest key goes when the cache is full.
 */
import { hexToBytes } from './types.js';

/** Far more than a farm's sessions (two keys each); each entry is ~100 bytes. */
const KEY_CACHE_LIMIT = 8192;
const keys = new Map<string, Uint8Array>();

/**
 * The bytes of a session key given as hex. Shared between callers: read them,
 * never change them (the crypto layer would notice, but other holders would not).
 */
export function sessionKeyBytes(hex: string): Uint8Array {
  let bytes = keys.get(hex);
  if (!bytes) {
    bytes = hexToBytes(hex);
    if (keys.size >= KEY_CACHE_LIMIT) keys.delete(keys.keys().next().value as string);
    keys.set(hex, bytes);
  }
  return bytes;
}
