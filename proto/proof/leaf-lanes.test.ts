import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulatedDay } from '../../test/fixtures/bundle-simulated-day.js';
import { uplinkRecordArbitrary } from '../../test/fixtures/uplink-record-arbitrary.js';
import type { UplinkRecord } from '../bundle/types.js';
import { bundleLeaves, bundleMerkleRoot } from './leaf.js';
import { bundleMerkleRootLanes, lanesAvailable } from './leaf-lanes.js';
import { merkleRoot } from './merkle.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The root by definition: every leaf encoded and salted one by one, node:crypto hashing (merkle.ts). */
const referenceRoot = (records: readonly UplinkRecord[], seed: Uint8Array) =>
  hex(merkleRoot(bundleLeaves(records, seed)));

// Up to 12 readings: leaves of 1 to 5 blocks, mixed within one call.
const recordArb = uplinkRecordArbitrary(12);
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('bundle Merkle root hashed in WebAssembly SIMD lanes', () => {
  it('runs in lanes on this Node (else the tests below would only compare the fallback with itself)', () => {
    expect(lanesAvailable()).toBe(true);
  });

  it('gives the root of the definition for any records and seed (property)', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 40 }), seedArb, (records, seed) => {
        const { root, size } = bundleMerkleRootLanes(records, seed);
        expect(size).toBe(records.length);
        expect(hex(root)).toBe(referenceRoot(records, seed));
      }),
      { numRuns: 150 },
    );
  });

  it('gives bundleMerkleRoot’s root for days of every size, growing its memory on the way (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.nat(1000),
        fc.nat(900),
        seedArb,
        (devices, daySeed, take, seed) => {
          const records = simulatedDay({ devices, seed: daySeed }).slice(0, take + 1);
          expect(hex(bundleMerkleRootLanes(records, seed).root)).toBe(
            hex(bundleMerkleRoot(records, seed).root),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('takes the JavaScript path past its record cap, with the same root, and lanes again after', () => {
    const seed = new Uint8Array(32).fill(3);
    const day = simulatedDay({ devices: 8 });
    const many = Array.from({ length: 17_000 }, (_, i) => ({
      ...(day[i % day.length] as UplinkRecord),
      fCnt: i,
    }));
    expect(hex(bundleMerkleRootLanes(many, seed).root)).toBe(hex(bundleMerkleRoot(many, seed).root));
    const few = many.slice(0, 300);
    expect(hex(bundleMerkleRootLanes(few, seed).root)).toBe(referenceRoot(few, seed));
  });

  it('refuses a seed of the wrong length as bundleMerkleRoot does, and roots no records as the empty tree', () => {
    const records = simulatedDay({ devices: 1 }).slice(0, 3);
    expect(() => bundleMerkleRootLanes(records, new Uint8Array(31))).toThrow(/salt seed/);
    expect(hex(bundleMerkleRootLanes([], new Uint8Array(32)).root)).toBe(
      hex(bundleMerkleRoot([], new Uint8Array(32)).root),
    );
  });
});
