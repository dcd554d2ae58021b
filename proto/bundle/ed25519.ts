/**
 * Ed25519 (RFC 8032) for bundles, on @noble/ed25519 v3. Noble needs a
 * synchronous SHA-512 hook; node:crypto provides it (pure computation, no I/O).
 * Verification is strict RFC 8032 (`zip215: false`): non-canonical encodings
 * of R, A or S are refused, so one signature has exactly one valid byte form.
 */
import { createHash, createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { ErrorCode, MaverickError } from '../errors.js';

ed.hashes.sha512 = (message) => {
  const digest = createHash('sha512').update(message).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength) as Uint8Array<ArrayBuffer>;
};

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
/** Length of a key id: the first 8 bytes of SHA-256(raw public key). */
export const KID_BYTES = 8;

/** Fresh random 32-byte secret key (the RFC 8032 seed). */
export function randomSecretKey(): Uint8Array {
  return ed.utils.randomSecretKey();
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== ED25519_SECRET_KEY_BYTES) {
    throw new MaverickError(
      ErrorCode.KeyInvalid,
      `an Ed25519 secret key is 32 bytes, got ${secretKey.length}`,
    );
  }
  return ed.getPublicKey(secretKey);
}

/** Key id: a short, stable name for a public key (first 8 bytes of its SHA-256). */
export function keyIdOf(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, KID_BYTES));
}

export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

const nodeKeys = new Map<string, KeyObject>();

function nodePublicKey(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey).toString('base64url');
  let key = nodeKeys.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    // Bounded: a verifier knows a handful of gateway keys, not an attacker-chosen number.
    if (nodeKeys.size >= 256) nodeKeys.clear();
    nodeKeys.set(x, key);
  }
  return key;
}

/**
 * Strict RFC 8032 verification; false (never a throw) for any malformed key or
 * signature. OpenSSL (node:crypto, ~14x faster) runs first so forged or
 * corrupted bundles are refused cheaply; a signature it accepts must then also
 * pass noble's strict check (`zip215: false`), so the result is never looser
 * than noble's.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== ED25519_PUBLIC_KEY_BYTES)
    return false;
  try {
    if (!nodeVerify(null, message, nodePublicKey(publicKey), signature)) return false;
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    // Points that do not decode make both libraries throw; to a verifier that is simply "invalid".
    return false;
  }
}

/** noble-only strict verification (for benchmarks and cross-checks). */
export function ed25519VerifyNoble(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
