/**
 * Frame-counter reconstruction. Only the 16 LSBs of FCnt travel on air
 * (LoRaWAN 1.0.3 §4.3.1.5); both ends keep 32-bit counters and the receiver
 * infers the upper 16 bits.
 */

/**
 * LoRaWAN 1.0.0–1.0.2 §4.3.1.5: frames are dropped when more than MAX_FCNT_GAP
 * frames were lost. (1.0.3/1.0.4 dropped the constant; we keep it as the bound
 * of how far forward a 16-bit rollover may be inferred.)
 */
export const MAX_FCNT_GAP = 16384;

/**
 * Returns the 32-bit counter that `fCnt16` most plausibly stands for, given the
 * last accepted 32-bit counter. The rule, since counters only move forward:
 *
 * - no previous frame: the value is `fCnt16` itself (sessions start at 0);
 * - same upper 16 bits as `lastFCnt32`: taken when it is >= the last counter
 *   (equal means a retransmission — the caller decides what to do with it);
 * - otherwise the 16 LSBs rolled over (add 0x10000) when the resulting gap is
 *   at most MAX_FCNT_GAP;
 * - else the frame is older: the smaller value is returned so the caller sees
 *   a counter below the last one and rejects it as a replay.
 *
 * The result never exceeds 0xFFFFFFFF: past the end of the 32-bit space the
 * smaller value is returned (the session must be renewed by a new join).
 */
export function reconstructFCnt(lastFCnt32: number | undefined, fCnt16: number): number {
  const low = fCnt16 & 0xffff;
  if (lastFCnt32 === undefined) return low;
  const last = lastFCnt32 >>> 0;
  const sameEpoch = last - (last % 0x10000) + low;
  if (sameEpoch >= last) return sameEpoch;
  const rolled = sameEpoch + 0x10000;
  if (rolled <= 0xffffffff && rolled - last <= MAX_FCNT_GAP) return rolled;
  return sameEpoch;
}

/** The upper 16 bits of a 32-bit counter as a little-endian 2-byte buffer: lora-packet's `FCntMSBytes` argument. */
export function fCntMsbLittleEndian(fCnt32: number): Uint8Array {
  const msb = Math.floor((fCnt32 >>> 0) / 0x10000);
  return new Uint8Array([msb & 0xff, (msb >>> 8) & 0xff]);
}
