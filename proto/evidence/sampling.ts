/**
 * Spot-check sampling (SAMPLING.md): a verifier's nonce selects k distinct leaf indices out of
 * the N leaves a period commits to. Deterministic (anyone recomputes it from the nonce), and
 * unbiased (rejection sampling, no modulo bias), so the regional node cannot choose what is shown.
 */
import { sha256 } from './hash.js';

export const SAMPLING_DOMAIN = 'maverick spot check v1';
/** Shortest nonce accepted: 128 bits, so a node cannot precompute answers for likely nonces. */
export const MIN_NONCE_BYTES = 16;
export const MAX_NONCE_BYTES = 64;
const WORD_RANGE = 2 ** 32;
/** Stops a broken caller (k close to N is fine; this bound is never reached in practice). */
const MAX_BLOCKS = 1 << 20;

const domain = new TextEncoder().encode(SAMPLING_DOMAIN);

function block(nonce: Uint8Array, counter: number): Uint8Array {
  const c = new Uint8Array(4);
  new DataView(c.buffer).setUint32(0, counter);
  return sha256(domain, Uint8Array.of(nonce.length), nonce, c);
}

/**
 * The indices, in draw order, of min(k, n) distinct leaves out of n: each SHA-256 block gives
 * eight 32-bit big-endian words; a word below the largest multiple of n under 2^32 is taken
 * modulo n, any other word is rejected; an index already drawn is skipped.
 */
export function sampleIndices(nonce: Uint8Array, n: number, k: number): number[] {
  if (nonce.length < MIN_NONCE_BYTES || nonce.length > MAX_NONCE_BYTES) {
    throw new RangeError(
      `a spot-check nonce is ${MIN_NONCE_BYTES}-${MAX_NONCE_BYTES} bytes, got ${nonce.length}`,
    );
  }
  if (!Number.isSafeInteger(n) || n < 0 || n > WORD_RANGE) throw new RangeError(`bad leaf count ${n}`);
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`bad sample size ${k}`);
  const want = Math.min(k, n);
  const limit = WORD_RANGE - (WORD_RANGE % n || 0);
  const drawn = new Set<number>();
  const order: number[] = [];
  for (let counter = 0; order.length < want; counter++) {
    if (counter >= MAX_BLOCKS) throw new RangeError('sampling did not finish');
    const words = new DataView(block(nonce, counter).buffer);
    for (let w = 0; w < 8 && order.length < want; w++) {
      const word = words.getUint32(4 * w);
      if (word >= limit) continue;
      const index = word % n;
      if (drawn.has(index)) continue;
      drawn.add(index);
      order.push(index);
    }
  }
  return order;
}
