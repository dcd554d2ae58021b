/**
 * Ed25519 (RFC 8032) for bundles, on @noble/ed25519 v3. Noble needs a
 * synchronous SHA-512 hook; node:crypto provides it (pure computation, no I/O).
 * Verification is strict RFC 8032 (`zip215: false`): non-canonical encodings
 * of R, A or S and small-order keys are refused, so one signature has exactly
 * one valid byte form. It runs on OpenSSL (node:crypto) with byte checks for
 * what OpenSSL alone would let through (see ed25519Verify).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
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
  // On OpenSSL, not noble: noble's getPublicKey builds its base-point table (~4,200 points of
  // BigInts, ~1 MB) on first use, and the gateway derives its key at start, so that table stayed
  // in its heap for the whole run. Same bytes (checked against noble in ed25519.test.ts).
  const spki = createPublicKey(nodeSecretKey(secretKey)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - ED25519_PUBLIC_KEY_BYTES));
}

/** Key id: a short, stable name for a public key (first 8 bytes of its SHA-256). */
export function keyIdOf(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, KID_BYTES));
}

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Keyed by the secret key's array: a signer passes the same one each time; importing costs ~0.5 ms. */
const nodeSecretKeys = new WeakMap<Uint8Array, KeyObject>();

/**
 * RFC 8032 signature (deterministic: the same bytes noble computes, checked in
 * ed25519.test.ts), on OpenSSL: ~40 µs against ~1 ms in JavaScript, which the
 * regional node pays once per ack.
 */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== ED25519_SECRET_KEY_BYTES) {
    throw new MaverickError(
      ErrorCode.KeyInvalid,
      `an Ed25519 secret key is 32 bytes, got ${secretKey.length}`,
    );
  }
  return new Uint8Array(nodeSign(null, message, nodeSecretKey(secretKey)));
}

/** The OpenSSL key of a 32-byte seed (the caller checked its length), imported once per array. */
function nodeSecretKey(secretKey: Uint8Array): KeyObject {
  let key = nodeSecretKeys.get(secretKey);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, secretKey]),
      format: 'der',
      type: 'pkcs8',
    });
    nodeSecretKeys.set(secretKey, key);
  }
  return key;
}

const nodeKeys = new Map<string, KeyObject>();

function nodePublicKey(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey).toString('base64url');
  let key = nodeKeys.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    // Bounded: keys come from the registry (a regional node knows thousands), never from the sender.
    if (nodeKeys.size >= 16_384) nodeKeys.clear();
    nodeKeys.set(x, key);
  }
  return key;
}

/** p = 2^255 - 19, little-endian: a point's y must be below it (RFC 8032 §5.1.3, canonical encoding). */
const FIELD_PRIME_LE = Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex');

/**
 * The y coordinates (little-endian, sign bit clear) of every point of small
 * order (1, 2, 4, 8): 1 (the identity), p-1 (order 2), 0 (order 4) and the two
 * of order 8. Each y belongs to exactly two points, both of small order, so a
 * decodable key whose y is one of these is a small-order key, whatever its
 * sign bit (this also covers the x = 0, sign-bit-set encodings of 1 and p-1).
 * Cross-checked against noble's isSmallOrder in ed25519.test.ts.
 */
const SMALL_ORDER_Y = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
].map((hex) => Buffer.from(hex, 'hex'));

/** The y coordinate of an encoded point: the 32 bytes with the sign bit (bit 255) cleared. */
function yOf(point: Uint8Array): Buffer {
  const y = Buffer.from(point);
  y[31] = (y[31] as number) & 0x7f;
  return y;
}

/** Little-endian comparison of two 32-byte numbers. */
function lessThanLE(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  }
  return false;
}

/**
 * Why a public key is refused by strict verification before any curve
 * arithmetic, or undefined. OpenSSL reduces a y ≥ p modulo p and takes small-
 * order keys (any signature "verifies" under the identity), which strict
 * RFC 8032 decoding and noble's `zip215: false` refuse.
 */
export function strictPublicKeyProblem(publicKey: Uint8Array): 'non-canonical' | 'small-order' | undefined {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return 'non-canonical';
  const y = yOf(publicKey);
  if (!lessThanLE(y, FIELD_PRIME_LE)) return 'non-canonical';
  return SMALL_ORDER_Y.some((small) => small.equals(y)) ? 'small-order' : undefined;
}

/**
 * Strict RFC 8032 verification; false (never a throw) for any malformed key or
 * signature. One OpenSSL verification (node:crypto) plus byte checks give
 * noble's strict (`zip215: false`) semantics or stricter, at a fraction of
 * its cost. What OpenSSL itself refuses: S ≥ L, a key or R that is not a
 * point, and any R other than the canonical encoding of sB - hA (it
 * re-encodes the computed point and compares bytes, so a non-canonical R never
 * matches). It is also cofactorless, stricter than noble's cofactored check.
 * What it would accept and the byte checks refuse: a key with y ≥ p and a
 * small-order key. Tests: ed25519.test.ts (each case, and never looser than noble).
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== ED25519_PUBLIC_KEY_BYTES)
    return false;
  if (strictPublicKeyProblem(publicKey) !== undefined) return false;
  try {
    return nodeVerify(null, message, nodePublicKey(publicKey), signature);
  } catch {
    // A key that is not a point makes OpenSSL throw; to a verifier that is simply "invalid".
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
