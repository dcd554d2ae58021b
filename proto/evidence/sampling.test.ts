import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleIndices } from './sampling.js';

/** The rule of SAMPLING.md written again from the text, with node:crypto: an independent oracle. */
function oracle(nonce: Uint8Array, n: number, k: number): number[] {
  const out: number[] = [];
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (let counter = 0; out.length < Math.min(k, n); counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const d = createHash('sha256')
      .update('maverick spot check v1')
      .update(Buffer.from([nonce.length]))
      .update(nonce)
      .update(c)
      .digest();
    for (let w = 0; w < 32 && out.length < Math.min(k, n); w += 4) {
      const word = d.readUInt32BE(w);
      if (word < limit && !out.includes(word % n)) out.push(word % n);
    }
  }
  return out;
}

const nonces = fc.uint8Array({ minLength: 16, maxLength: 64 });

describe('spot-check sampling', () => {
  it('matches the documented rule, draws distinct indices inside [0, n)', () => {
    fc.assert(
      fc.property(
        nonces,
        fc.integer({ min: 1, max: 400_000 }),
        fc.integer({ min: 0, max: 40 }),
        (nonce, n, k) => {
          const got = sampleIndices(nonce, n, k);
          expect(got).toEqual(oracle(nonce, n, k));
          expect(got).toHaveLength(Math.min(n, k));
          expect(new Set(got).size).toBe(got.length);
          for (const i of got) expect(i >= 0 && i < n).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes every leaf when k ≥ n, and nothing from an empty period', () => {
    const nonce = new Uint8Array(16).fill(7);
    expect(sampleIndices(nonce, 5, 20).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(nonce, 0, 20)).toEqual([]);
  });

  it('another nonce selects other records', () => {
    const a = sampleIndices(new Uint8Array(16).fill(1), 35_040, 20);
    const b = sampleIndices(new Uint8Array(16).fill(2), 35_040, 20);
    expect(a).not.toEqual(b);
  });

  it('is uniform: first draws over n = 6 pass a chi-square test (5 dof, p > 0.001)', () => {
    const counts = new Array(6).fill(0);
    const runs = 6000;
    for (let r = 0; r < runs; r++) {
      const nonce = new Uint8Array(16);
      new DataView(nonce.buffer).setUint32(0, r);
      counts[sampleIndices(nonce, 6, 1)[0] as number]++;
    }
    const expected = runs / 6;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(20.52);
  });

  it('refuses a short nonce (a node could precompute answers)', () => {
    expect(() => sampleIndices(new Uint8Array(8), 10, 2)).toThrow(/16-64 bytes/);
  });
});
