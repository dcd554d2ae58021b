import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulatedDay } from '../../test/fixtures/bundle-simulated-day.js';
import { uplinkRecordArbitrary } from '../../test/fixtures/uplink-record-arbitrary.js';
import type { UplinkRecord } from '../bundle/types.js';
import { ErrorCode, isMaverickError } from '../errors.js';
import {
  bundleLeafHashes,
  bundleLeaves,
  bundleMerkleRoot,
  decodeLeaf,
  encodeLeaf,
  leafSalt,
  leafSalts,
  SALT_BYTES,
} from './leaf.js';
import { merkleRoot } from './merkle.js';

const record: UplinkRecord = {
  devEui: Uint8Array.from([0x70, 0xb3, 0xd5, 0x7e, 0xd0, 0x05, 0x00, 0x01]),
  session: 2,
  fCnt: 70_000,
  receivedAt: 1_763_596_800_123,
  timeSource: 'ntp',
  plotId: 'plot-north',
  readings: [
    { field: 'temperature', scale: -2, value: 1834 },
    { field: 'battery', scale: 0, value: 3600 },
  ],
};
const seed = new Uint8Array(32).fill(7);

describe('proof leaves (PROOF.md §1–2)', () => {
  it('encodes the record as the documented 8-element array, byte for byte', () => {
    const salt = new Uint8Array(16).fill(0xaa);
    const hex = Buffer.from(encodeLeaf(record, salt)).toString('hex');
    const head =
      '88' + // array(8)
      `50${'aa'.repeat(16)}` + // salt: bstr(16)
      '4870b3d57ed0050001' + // DevEUI: bstr(8)
      '02' + // session
      '1a00011170' + // FCnt 70000
      `1b${(1_763_596_800_123).toString(16).padStart(16, '0')}` + // received-at, Unix ms
      '01' + // time source: ntp
      `6a${Buffer.from('plot-north').toString('hex')}` + // plot id
      '82' + // two readings, sorted by field name: battery before temperature
      `8367${Buffer.from('battery').toString('hex')}00190e10` + // ["battery", 0, 3600]
      `836b${Buffer.from('temperature').toString('hex')}2119072a`; // ["temperature", -2, 1834]
    expect(hex).toBe(head);
  });

  it('derives salt_i = HMAC-SHA256(seed, "maverick leaf salt" ‖ u32be(i))[0..16]', () => {
    const expected = createHmac('sha256', seed)
      .update(Buffer.concat([Buffer.from('maverick leaf salt', 'ascii'), Buffer.from([0, 0, 1, 4])]))
      .digest()
      .subarray(0, 16);
    expect(Buffer.from(leafSalt(seed, 260))).toEqual(expected);
    expect(leafSalt(seed, 0)).not.toEqual(leafSalt(seed, 1));
    expect(leafSalt(seed, 0)).toHaveLength(SALT_BYTES);
  });

  it('salts every index of a seed as leafSalt does (the prepared HMAC pads)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 8 }),
        (seedBytes, indices) => {
          const salts = leafSalts(seedBytes);
          for (const i of indices) expect(Buffer.from(salts(i))).toEqual(Buffer.from(leafSalt(seedBytes, i)));
        },
      ),
    );
    expect(() => leafSalts(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => leafSalts(seed)(2 ** 32)).toThrow(/leaf index/);
  });

  it('hashes leaves as RFC 9162 H(0x00 ‖ leaf), and a changed reading changes the hash', () => {
    const [h0] = bundleLeafHashes([record], seed);
    const leaf = encodeLeaf(record, leafSalt(seed, 0));
    expect(Buffer.from(h0 as Uint8Array)).toEqual(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), leaf]))
        .digest(),
    );
    const changed = {
      ...record,
      readings: [{ field: 'temperature', scale: -2, value: 1835 }, record.readings[1]],
    };
    expect(bundleLeafHashes([changed as UplinkRecord], seed)[0]).not.toEqual(h0);
  });

  it('hashes a bundle of records in one buffer as leafHash(encodeLeaf(record, leafSalt(seed, i))) does', () => {
    const day = simulatedDay({ devices: 3 });
    const hashes = bundleLeafHashes(day, seed);
    expect(hashes).toHaveLength(day.length);
    day.forEach((r, i) => {
      const leaf = encodeLeaf(r, leafSalt(seed, i));
      const expected = createHash('sha256')
        .update(Buffer.from([0]))
        .update(leaf)
        .digest();
      expect(Buffer.from(hashes[i] as Uint8Array)).toEqual(expected);
    });
  });

  it("roots a bundle's records as merkleRoot over its encoded leaves does (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(400),
        fc.boolean(),
        (devices, daySeed, seedBytes, take, shuffleReadings) => {
          const records = simulatedDay({ devices, seed: daySeed }).slice(0, take);
          // Readings in any order: the leaf sorts them, whatever order the record holds them in.
          const given = shuffleReadings
            ? records.map((r) => ({ ...r, readings: [...r.readings].reverse() }))
            : records;
          const { root, size } = bundleMerkleRoot(given, seedBytes);
          expect(size).toBe(records.length);
          expect(Buffer.from(root)).toEqual(Buffer.from(merkleRoot(bundleLeaves(records, seedBytes))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('hashes records with any field names and plot ids as encodeLeaf and leafSalt do (property)', () => {
    const recordArb = uplinkRecordArbitrary(5);
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 12 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (records, seedBytes) => {
          const hashes = bundleLeafHashes(records, seedBytes);
          records.forEach((r, i) => {
            const leaf = encodeLeaf(r, leafSalt(seedBytes, i));
            expect(Buffer.from(hashes[i] as Uint8Array)).toEqual(
              createHash('sha256').update(Uint8Array.of(0)).update(leaf).digest(),
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips a day of records and reports the leaf size', () => {
    const day = simulatedDay();
    const sizes: number[] = day.map((r, i) => {
      const leaf = encodeLeaf(r, leafSalt(seed, i));
      const back = decodeLeaf(leaf);
      expect(back.record).toEqual({
        ...r,
        session: r.session ?? 0,
        readings: [...r.readings].sort((a, b) => (a.field < b.field ? -1 : 1)),
      });
      return leaf.length;
    });
    // Five readings a record: 130 bytes a leaf (PROOF.md §1 quotes the measured figure).
    expect(Math.max(...sizes)).toBeLessThanOrEqual(130);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(120);
  });

  it('refuses a leaf whose readings are out of their canonical order', () => {
    const salt = new Uint8Array(16);
    const leaf = Buffer.from(encodeLeaf(record, salt));
    // Swap the two reading entries in place: still valid CBOR, no longer the one form.
    const battery = Buffer.from(`8367${Buffer.from('battery').toString('hex')}00190e10`, 'hex');
    const at = leaf.indexOf(battery);
    const rest = leaf.subarray(at + battery.length);
    const swapped = Buffer.concat([leaf.subarray(0, at), rest, battery]);
    expect(() => decodeLeaf(swapped)).toThrow(
      expect.objectContaining({ code: ErrorCode.BundleNonCanonical }),
    );
  });

  it('never throws anything but a MaverickError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeLeaf(bytes);
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts a mutated leaf as anything but its decoded content (property)', () => {
    const leaf = encodeLeaf(record, leafSalt(seed, 3));
    fc.assert(
      fc.property(fc.nat(leaf.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Uint8Array.from(leaf);
        bad[at] = (bad[at] as number) ^ xor;
        try {
          const back = decodeLeaf(bad);
          // If it still parses, it must encode back to the mutated bytes (one form per content).
          expect(Buffer.from(encodeLeaf(back.record, back.salt))).toEqual(Buffer.from(bad));
        } catch (err) {
          expect(isMaverickError(err)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
