import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fCntMsbLittleEndian, MAX_FCNT_GAP, reconstructFCnt } from './fcnt.js';

describe('reconstructFCnt', () => {
  it('takes the 16-bit value as is for the first frame of a session', () => {
    expect(reconstructFCnt(undefined, 0)).toBe(0);
    expect(reconstructFCnt(undefined, 0xabcd)).toBe(0xabcd);
  });

  it('moves forward within the same upper 16 bits', () => {
    expect(reconstructFCnt(5, 6)).toBe(6);
    expect(reconstructFCnt(0x30005, 0x0100)).toBe(0x30100);
  });

  it('adds 0x10000 when the 16 LSBs roll over', () => {
    expect(reconstructFCnt(0xffff, 0x0000)).toBe(0x10000);
    expect(reconstructFCnt(0x1fff0, 0x0005)).toBe(0x20005);
    expect(reconstructFCnt(0xffff - MAX_FCNT_GAP + 1, 0)).toBe(0x10000);
  });

  it('returns the last value for a retransmission (equal counter)', () => {
    expect(reconstructFCnt(0x12345, 0x2345)).toBe(0x12345);
    expect(reconstructFCnt(0, 0)).toBe(0);
  });

  it('returns a smaller value for an older frame, so the caller rejects the replay', () => {
    expect(reconstructFCnt(100, 99)).toBe(99);
    expect(reconstructFCnt(0x18000, 0x0100)).toBe(0x10100);
    // Too far to be a rollover: treated as old rather than as a jump of ~48k frames.
    expect(reconstructFCnt(0x8000, 0x0100)).toBe(0x0100);
  });

  it('never goes past 32 bits', () => {
    expect(reconstructFCnt(0xffffffff, 0x0000)).toBe(0xffff0000);
    expect(reconstructFCnt(0xfffffff0, 0xfffe)).toBe(0xfffffffe);
  });

  it('recovers the true counter after any gap of at most MAX_FCNT_GAP', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff - MAX_FCNT_GAP }),
        fc.integer({ min: 0, max: MAX_FCNT_GAP }),
        (last, gap) => {
          expect(reconstructFCnt(last, (last + gap) & 0xffff)).toBe(last + gap);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('encodes the upper 16 bits little-endian for lora-packet', () => {
    expect([...fCntMsbLittleEndian(0x00012345)]).toEqual([0x01, 0x00]);
    expect([...fCntMsbLittleEndian(0xabcd0000)]).toEqual([0xcd, 0xab]);
  });
});
