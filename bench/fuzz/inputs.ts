/**
 * Deterministic fuzz inputs: input `i` of a run with seed `s` is a pure
 * function of (s, i), so the runner can print the exact input a hang or a
 * crash happened on without having kept it. Families: random bytes, seeds
 * with bytes flipped / inserted / deleted / overwritten with boundary values,
 * truncated or spliced seeds, and (for text formats) seeds with tokens of the
 * format dropped in.
 */

/** A small fast PRNG (xorshift32 over a 32-bit state): fuzzing needs speed and repeatability, not quality. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** 0 ≤ n < max. */
  below(max: number): number {
    return max <= 0 ? 0 : this.next() % max;
  }
}

/** Mixes the run seed and the input index into one PRNG seed (an integer hash, so neighbours differ). */
export function inputSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x18, 0x19, 0x1a, 0x1b, 0x5f, 0x7b, 0x9f, 0xbf];

export interface InputShape {
  /** Valid examples to mutate. */
  seeds: readonly Uint8Array[];
  /** Longest random input. */
  maxRandomBytes: number;
  /** Tokens of a text format (JSON, TOML) spliced into mutated text. */
  tokens?: readonly string[];
}

function randomBytes(rng: Prng, max: number): Uint8Array {
  const out = new Uint8Array(rng.below(max + 1));
  for (let i = 0; i < out.length; i++) out[i] = rng.below(256);
  return out;
}

function mutateOnce(rng: Prng, input: number[], shape: InputShape): void {
  const at = rng.below(input.length + 1);
  switch (rng.below(7)) {
    case 0:
      if (input.length) input[rng.below(input.length)]! ^= 1 << rng.below(8);
      break;
    case 1:
      input.splice(at, 0, rng.below(256));
      break;
    case 2:
      input.splice(at, 1 + rng.below(4));
      break;
    case 3:
      if (input.length) input[rng.below(input.length)] = BOUNDARY_BYTES[rng.below(BOUNDARY_BYTES.length)]!;
      break;
    case 4: {
      // Duplicate a run of the input (repeated fields, nested structures).
      const start = rng.below(input.length + 1);
      const run = input.slice(start, start + 1 + rng.below(16));
      input.splice(at, 0, ...run);
      break;
    }
    case 5:
      input.length = Math.min(input.length, rng.below(input.length + 1));
      break;
    default: {
      const token = shape.tokens?.[rng.below(shape.tokens.length)];
      if (token !== undefined) input.splice(at, 0, ...Buffer.from(token, 'utf8'));
      else if (input.length) input[rng.below(input.length)] = rng.below(256);
    }
  }
}

/** Input `index` of the run `seed`. */
export function makeInput(shape: InputShape, seed: number, index: number): Uint8Array {
  const rng = new Prng(inputSeed(seed, index));
  const family = rng.below(10);
  if (family === 0 || shape.seeds.length === 0) return randomBytes(rng, shape.maxRandomBytes);
  const base = shape.seeds[rng.below(shape.seeds.length)]!;
  const input = Array.from(base);
  if (family === 1) {
    // Splice: the head of one seed, the tail of another.
    const other = shape.seeds[rng.below(shape.seeds.length)]!;
    input.length = rng.below(input.length + 1);
    input.push(...other.subarray(rng.below(other.length + 1)));
  }
  const mutations = family === 9 ? 0 : 1 + rng.below(family < 6 ? 2 : 8);
  for (let m = 0; m < mutations; m++) mutateOnce(rng, input, shape);
  return Uint8Array.from(input);
}
