import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { littleEndianToHex, readUintLE, toHex, writeUintLE } from './bytes.js';

describe('byte helpers', () => {
  it('writeUintLE keeps the low bytes of any non-negative integer, read back by readUintLE', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.maxSafeNat(), (bytes, value) => {
        const out = new Uint8Array(bytes + 2).fill(0xaa);
        writeUintLE(out, 1, value, bytes);
        // Independent oracle: BigInt arithmetic on the low `bytes` bytes.
        const low = Number(BigInt(value) % 2n ** BigInt(8 * bytes));
        expect(readUintLE(out, 1, bytes)).toBe(low);
        expect(out[0]).toBe(0xaa);
        expect(out[bytes + 1]).toBe(0xaa);
      }),
    );
    const out = new Uint8Array(4);
    writeUintLE(out, 0, 0xdeadbeef, 4);
    expect(toHex(out)).toBe('efbeadde');
  });

  it('littleEndianToHex is the reversed bytes in lower-case hex', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), (bytes) => {
        const expected = Buffer.from(bytes).reverse().toString('hex');
        expect(littleEndianToHex(bytes, 0, bytes.length)).toBe(expected);
      }),
    );
    expect(littleEndianToHex(Uint8Array.of(0, 0x04, 0xa2, 0x01, 0xff), 1, 3)).toBe('01a204');
  });
});
