/**
 * The hashing and signature primitives of the evidence verifier, on @noble/hashes and
 * @noble/ed25519 only, so the same code runs in Node (the CLI) and in the self-contained
 * HTML page (no node: imports anywhere under proto/evidence except the tests).
 */
import * as ed from '@noble/ed25519';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2';
import { ErrorCode, MaverickError } from '../errors.js';

// noble needs a synchronous SHA-512; proto/bundle/ed25519.ts installs node:crypto's in Node, the page gets this one.
if (!ed.hashes.sha512) ed.hashes.sha512 = (message) => sha512(message) as Uint8Array<ArrayBuffer>;

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Strict RFC 8032 verification (non-canonical encodings refused); false for any malformed input. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export function fromHex(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) {
    throw new MaverickError(ErrorCode.WireBadField, `not hex: ${JSON.stringify(text.slice(0, 20))}`, {
      hint: 'give an even number of hex digits (0-9, a-f)',
    });
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Key id as the bundles use it: the first 8 bytes of SHA-256(raw public key). */
export function kidOf(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, 8);
}
