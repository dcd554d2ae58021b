/**
 * SHA-256 of one byte string, the hash every bundle digest, leaf and Merkle
 * node uses. Node's one-shot `crypto.hash` (Node ≥ 20.12) costs about half of
 * a createHash/update/digest round for the short inputs a Merkle tree hashes
 * by the hundred per bundle; older Node 20 releases take the stream API.
 */
import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Buffer;
// Absent before Node 20.12 (the type says it is always there).
const oneShot = (crypto as { hash?: OneShot }).hash;

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** SHA-256 of `bytes`: 32 bytes, a plain Uint8Array over the digest's own memory (not copied). */
export const sha256: (bytes: Uint8Array) => Uint8Array = oneShot
  ? (bytes) => view(oneShot('sha256', bytes, 'buffer'))
  : (bytes) => view(crypto.createHash('sha256').update(bytes).digest());
