import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../../proto/errors.js';
import { addressBlock, allocateDevAddr } from './devaddr.js';

describe('addressBlock', () => {
  it('NetID 000000 (type 0, NwkID 0): leading 7 bits zero, 25 free bits', () => {
    expect(addressBlock('000000')).toEqual({ prefix: 0, nwkAddrBits: 25 });
  });
  it('NetID 000013 (type 0, NwkID 0x13): prefix 0 + 010011', () => {
    expect(addressBlock('000013')).toEqual({ prefix: 0x13 << 25, nwkAddrBits: 25 });
  });
  it('type 3 (NetID 600000 + id): prefix 1110, 11-bit NwkID', () => {
    const { prefix, nwkAddrBits } = addressBlock('600005');
    expect(nwkAddrBits).toBe(32 - 4 - 11);
    expect(prefix >>> 28).toBe(0b1110);
    expect((prefix >>> nwkAddrBits) & 0x7ff).toBe(5);
  });
  it('refuses a malformed NetID', () => {
    expect(() => addressBlock('12345')).toThrow(/netId/);
  });
});

describe('allocateDevAddr', () => {
  it('stays inside the block and skips addresses in use', async () => {
    const taken = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const addr = await allocateDevAddr('000013', async (a) => taken.has(a));
      expect(Number.parseInt(addr, 16) >>> 25).toBe(0x13);
      expect(taken.has(addr)).toBe(false);
      taken.add(addr);
    }
  });
  it('gives up with a MaverickError when everything is taken', async () => {
    const err = await allocateDevAddr('000000', async () => true, 3).catch((e: unknown) => e);
    expect(isMaverickError(err)).toBe(true);
  });
});
