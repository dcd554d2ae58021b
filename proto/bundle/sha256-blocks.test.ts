import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PaddedSha256Message, SHA256_BLOCK_BYTES, sha256Into, sha256Midstate } from './sha256-blocks.js';

const nodeSha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest();
};

function digestOf(input: Uint8Array, start = 0, end = input.length): Buffer {
  const out = new Uint8Array(32);
  sha256Into(input, start, end, out, 0);
  return Buffer.from(out);
}

describe('SHA-256 in JavaScript for short inputs (node:crypto as the oracle)', () => {
  it('hashes the FIPS 180-4 examples "abc" and the empty string', () => {
    expect(digestOf(new TextEncoder().encode('abc')).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(digestOf(new Uint8Array(0)).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('hashes every length around the padding boundaries as node:crypto does', () => {
    for (let n = 0; n <= 3 * SHA256_BLOCK_BYTES + 1; n++) {
      const input = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(digestOf(input)).toEqual(nodeSha256(input));
    }
  });

  it('hashes any slice of any input into any place of the output (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.nat(),
        fc.nat(),
        fc.nat(40),
        (input, a, b, outOffset) => {
          const start = input.length === 0 ? 0 : a % (input.length + 1);
          const end = start + (input.length === 0 ? 0 : b % (input.length - start + 1));
          const out = new Uint8Array(outOffset + 32 + 5).fill(0xee);
          sha256Into(input, start, end, out, outOffset);
          expect(Buffer.from(out.subarray(outOffset, outOffset + 32))).toEqual(
            nodeSha256(input.subarray(start, end)),
          );
          // Nothing around the digest is touched.
          expect(out.subarray(0, outOffset).every((x) => x === 0xee)).toBe(true);
          expect(out.subarray(outOffset + 32).every((x) => x === 0xee)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('may write the digest over its own input', () => {
    const input = Uint8Array.from({ length: 65 }, (_, i) => i);
    const expected = nodeSha256(input);
    sha256Into(input, 0, 65, input, 0);
    expect(Buffer.from(input.subarray(0, 32))).toEqual(expected);
  });

  it('continues from a midstate as if the prefix were hashed with the rest (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.uint8Array({ minLength: 192, maxLength: 192 }),
        fc.uint8Array({ maxLength: 300 }),
        (blocks, prefixPool, rest) => {
          const prefix = prefixPool.subarray(0, blocks * SHA256_BLOCK_BYTES);
          const out = new Uint8Array(32);
          sha256Into(rest, 0, rest.length, out, 0, sha256Midstate(prefix));
          expect(Buffer.from(out)).toEqual(nodeSha256(prefix, rest));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives HMAC-SHA256 from the two key pads as midstates (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 200 }), (key, message) => {
        const pads = [0x36, 0x5c].map((x) => {
          const pad = new Uint8Array(SHA256_BLOCK_BYTES);
          for (let i = 0; i < pad.length; i++) pad[i] = (key[i] ?? 0) ^ x;
          return sha256Midstate(pad);
        });
        const inner = new Uint8Array(32);
        const mac = new Uint8Array(32);
        sha256Into(message, 0, message.length, inner, 0, pads[0]);
        sha256Into(inner, 0, 32, mac, 0, pads[1]);
        expect(Buffer.from(mac)).toEqual(createHmac('sha256', key).update(message).digest());
      }),
      { numRuns: 300 },
    );
  });

  it('hashes a padded message again and again as its bytes change, from any midstate (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.uint8Array({ minLength: 128, maxLength: 128 }),
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 200 }), { minLength: 1, maxLength: 4 }),
        fc.nat(200),
        (blocks, prefixPool, contents, length) => {
          const prefix = prefixPool.subarray(0, blocks * SHA256_BLOCK_BYTES);
          const message = new PaddedSha256Message(length, sha256Midstate(prefix));
          for (const content of contents) {
            message.bytes.fill(0, 0, length);
            message.bytes.set(content.subarray(0, length));
            const out = new Uint8Array(32);
            message.digestInto(out, 0);
            expect(Buffer.from(out)).toEqual(nodeSha256(prefix, message.bytes.subarray(0, length)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a midstate over part of a block', () => {
    expect(() => sha256Midstate(new Uint8Array(63))).toThrow(/whole 64-byte blocks/);
  });
});
