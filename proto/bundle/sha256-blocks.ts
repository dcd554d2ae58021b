/**
 * SHA-256 (FIPS 180-4) in JavaScript for the many short inputs of one bundle's proof: a salt
 * per record (HMAC-SHA256 under one key), a leaf hash per record and a node hash per pair. A
 * native call (sha256.ts) costs about a microsecond of setup and a new Buffer whatever the
 * input; these functions run the compression function straight over the caller's bytes, write
 * the digest where the caller says (no allocation), and continue from a saved midstate, so an
 * HMAC under a fixed key costs two compressions instead of four. Long inputs (telemetry
 * blocks, COSE messages) keep the native hash: this one is only for inputs of a few blocks.
 * The tests check it against node:crypto over random inputs of every length class.
 */

/** Round constants K (FIPS 180-4 §4.2.2): the cube roots of the first 64 primes, fractional bits. */
export const SHA256_K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** Initial hash value H(0) (FIPS 180-4 §5.3.3): the square roots of the first 8 primes, fractional bits. */
export const SHA256_IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

export const SHA256_BLOCK_BYTES = 64;

/** The state after whole 64-byte blocks of a message: a hash that continues from there. */
export interface Sha256Midstate {
  readonly state: Int32Array;
  /** Bytes absorbed (a multiple of 64): they count in the final length. */
  readonly bytes: number;
}

const START: Sha256Midstate = { state: SHA256_IV, bytes: 0 };

// Scratch shared by every call: JavaScript runs one call at a time and none of them yields.
const W = new Int32Array(64);
const H = new Int32Array(8);
const TAIL = new Uint8Array(2 * SHA256_BLOCK_BYTES);

/**
 * One compression of the 64 bytes at `offset` into `state` (FIPS 180-4 §6.2.2), the message
 * schedule computed round by round; Ch and Maj in their three-operation forms.
 */
function compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let t = 0; t < 64; t++) {
    let w: number;
    if (t < 16) {
      const o = offset + 4 * t;
      w =
        ((bytes[o] as number) << 24) |
        ((bytes[o + 1] as number) << 16) |
        ((bytes[o + 2] as number) << 8) |
        (bytes[o + 3] as number);
    } else {
      const w15 = W[t - 15] as number;
      const w2 = W[t - 2] as number;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      w = ((W[t - 16] as number) + s0 + (W[t - 7] as number) + s1) | 0;
    }
    W[t] = w;
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = g ^ (e & (f ^ g));
    const t1 = (h + S1 + ch + (SHA256_K[t] as number) + w) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) | (c & (a | b));
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + S0 + maj) | 0;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
  state[5] = ((state[5] as number) + f) | 0;
  state[6] = ((state[6] as number) + g) | 0;
  state[7] = ((state[7] as number) + h) | 0;
}

/** The midstate after `prefix`, whose length must be a whole number of blocks (an HMAC key pad). */
export function sha256Midstate(prefix: Uint8Array): Sha256Midstate {
  if (prefix.length % SHA256_BLOCK_BYTES !== 0) {
    throw new RangeError(`a SHA-256 midstate needs whole 64-byte blocks, got ${prefix.length} bytes`);
  }
  const state = SHA256_IV.slice();
  for (let o = 0; o < prefix.length; o += SHA256_BLOCK_BYTES) compress(state, prefix, o);
  return { state, bytes: prefix.length };
}

/**
 * Writes SHA-256's padding (FIPS 180-4 §5.1.1) after the `rest` bytes at the start of `buffer`,
 * for a message of `totalBytes` in all; returns how many blocks (1 or 2) the tail now fills.
 */
function padTail(buffer: Uint8Array, rest: number, totalBytes: number): number {
  buffer[rest] = 0x80;
  const tailBytes = rest + 9 <= SHA256_BLOCK_BYTES ? SHA256_BLOCK_BYTES : 2 * SHA256_BLOCK_BYTES;
  buffer.fill(0, rest + 1, tailBytes - 8);
  // The message length in bits, 64-bit big-endian.
  const bits = totalBytes * 8;
  const high = Math.floor(bits / 0x100000000);
  const low = bits >>> 0;
  buffer[tailBytes - 8] = high >>> 24;
  buffer[tailBytes - 7] = (high >>> 16) & 0xff;
  buffer[tailBytes - 6] = (high >>> 8) & 0xff;
  buffer[tailBytes - 5] = high & 0xff;
  buffer[tailBytes - 4] = low >>> 24;
  buffer[tailBytes - 3] = (low >>> 16) & 0xff;
  buffer[tailBytes - 2] = (low >>> 8) & 0xff;
  buffer[tailBytes - 1] = low & 0xff;
  return tailBytes / SHA256_BLOCK_BYTES;
}

function writeDigest(out: Uint8Array, outOffset: number): void {
  for (let i = 0, p = outOffset; i < 8; i++, p += 4) {
    const word = H[i] as number;
    out[p] = word >>> 24;
    out[p + 1] = (word >>> 16) & 0xff;
    out[p + 2] = (word >>> 8) & 0xff;
    out[p + 3] = word & 0xff;
  }
}

/**
 * SHA-256 of (the midstate's prefix ‖ input[start, end)) written to out[outOffset, outOffset + 32).
 * `out` may be `input` itself (the digest is written after the last read).
 */
export function sha256Into(
  input: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outOffset: number,
  from: Sha256Midstate = START,
): void {
  H.set(from.state);
  let o = start;
  for (; end - o >= SHA256_BLOCK_BYTES; o += SHA256_BLOCK_BYTES) compress(H, input, o);
  const rest = end - o;
  for (let i = 0; i < rest; i++) TAIL[i] = input[o + i] as number;
  const blocks = padTail(TAIL, rest, from.bytes + end - start);
  for (let b = 0; b < blocks; b++) compress(H, TAIL, b * SHA256_BLOCK_BYTES);
  writeDigest(out, outOffset);
}

/**
 * A message of fixed length kept padded in its own buffer, for hashing it again and again as
 * its bytes change (a salt's counter, a Merkle node's children): the padding is written once,
 * and each digest is the compressions alone, with nothing copied.
 */
export class PaddedSha256Message {
  /** The message bytes, then the padding: write the message into [0, length). */
  readonly bytes: Uint8Array;
  private readonly blocks: number;

  constructor(
    readonly length: number,
    private readonly from: Sha256Midstate = START,
  ) {
    const whole = Math.floor(length / SHA256_BLOCK_BYTES) * SHA256_BLOCK_BYTES;
    this.bytes = new Uint8Array(whole + 2 * SHA256_BLOCK_BYTES);
    const tail = this.bytes.subarray(whole);
    this.blocks = whole / SHA256_BLOCK_BYTES + padTail(tail, length - whole, from.bytes + length);
  }

  /** SHA-256 of (the midstate's prefix ‖ bytes[0, length)) into out[outOffset, outOffset + 32). */
  digestInto(out: Uint8Array, outOffset: number): void {
    H.set(this.from.state);
    for (let b = 0; b < this.blocks; b++) compress(H, this.bytes, b * SHA256_BLOCK_BYTES);
    writeDigest(out, outOffset);
  }
}
