/**
 * A small seedable PRNG (mulberry32) so simulated devices and sensors are
 * reproducible: the same seed gives the same DevNonces and readings. Not for
 * cryptography — simulated devices only.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  /** Normal-ish noise (sum of uniforms), mean 0, standard deviation about `sd`. */
  noise(sd: number): number;
}

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    // Irwin-Hall with 4 terms: variance 4/12, so scale by sd / sqrt(1/3).
    noise: (sd) => (next() + next() + next() + next() - 2) * sd * Math.sqrt(3),
  };
}

/** Derives a 32-bit seed from a string (FNV-1a), e.g. from a DevEUI. */
export function seedFromString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
