import { describe, expect, it } from 'vitest';
import {
  ADR_HISTORY_LENGTH,
  adrDecision,
  nbTransForLoss,
  packetLossPercent,
  recordAdrHistory,
  requiredSnrDb,
} from './adr.js';
import type { AdrHistoryEntry } from './types.js';

function history(
  snr: number,
  fCnts: number[] = Array.from({ length: ADR_HISTORY_LENGTH }, (_, i) => i),
): AdrHistoryEntry[] {
  return fCnts.map((fCnt) => ({ fCnt, maxSnr: snr, gwCnt: 1 }));
}

const base = {
  txPowerIndex: 0,
  nbTrans: 1,
  maxTxPowerIndex: 7,
  installationMarginDb: 10,
  minDr: 0,
  maxDr: 5,
};

describe('adrDecision', () => {
  it('keeps everything until the history holds 20 uplinks', () => {
    const d = adrDecision({
      ...base,
      dr: 0,
      requiredSnrForDr: requiredSnrDb(12),
      history: history(10).slice(0, 19),
    });
    expect(d).toEqual({ dr: 0, txPowerIndex: 0, nbTrans: 1 });
  });

  it('spends 3 dB steps on data rate first, then on TX power', () => {
    // SF12 needs -20 dB; best SNR 10 → 10 + 20 - 10 = 20 dB → 6 steps: DR0→DR5 (5), then power index 1.
    const d = adrDecision({ ...base, dr: 0, requiredSnrForDr: -20, history: history(10) });
    expect(d).toEqual({ dr: 5, txPowerIndex: 1, nbTrans: 1 });
  });

  it('stops at the highest TX power index', () => {
    const d = adrDecision({ ...base, dr: 5, txPowerIndex: 6, requiredSnrForDr: -7.5, history: history(30) });
    expect(d.txPowerIndex).toBe(7);
  });

  it('buys power back on a negative margin but never lowers the data rate', () => {
    const d = adrDecision({ ...base, dr: 5, txPowerIndex: 3, requiredSnrForDr: -7.5, history: history(-10) });
    // -10 + 7.5 - 10 = -12.5 → -5 steps, only 3 power steps available.
    expect(d).toEqual({ dr: 5, txPowerIndex: 0, nbTrans: 1 });
  });

  it('clamps a DR above the maximum', () => {
    expect(adrDecision({ ...base, dr: 6, requiredSnrForDr: -7.5, history: [] }).dr).toBe(5);
  });

  it('raises NbTrans from packet loss', () => {
    // 20 received out of fCnt 0..29: 10 lost of 30 → 33 %.
    const fCnts = [
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => 20 + i),
    ];
    expect(packetLossPercent(history(0, fCnts))).toBeCloseTo(33.33, 1);
    expect(adrDecision({ ...base, dr: 5, requiredSnrForDr: -7.5, history: history(0, fCnts) }).nbTrans).toBe(
      3,
    );
  });
});

describe('helpers', () => {
  it('maps loss buckets to NbTrans like Semtech’s table', () => {
    expect([
      nbTransForLoss(1, 0),
      nbTransForLoss(3, 0),
      nbTransForLoss(1, 7),
      nbTransForLoss(2, 20),
      nbTransForLoss(1, 50),
    ]).toEqual([1, 2, 1, 3, 3]);
  });
  it('keeps the newest 20 entries and merges a repeated FCnt', () => {
    let h: readonly AdrHistoryEntry[] = [];
    for (let i = 0; i < 25; i++) h = recordAdrHistory(h, { fCnt: i, maxSnr: 0, gwCnt: 1 });
    expect(h.map((e) => e.fCnt)).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
    const before = h;
    const snapshot = JSON.stringify(before);
    h = recordAdrHistory(h, { fCnt: 24, maxSnr: 9, gwCnt: 2 });
    expect(h).toHaveLength(20);
    expect(h[19]).toEqual({ fCnt: 24, maxSnr: 9, gwCnt: 2 });
    // Session copies share the history: it is replaced, never changed in place.
    expect(recordAdrHistory(before, { fCnt: 25, maxSnr: 1, gwCnt: 1 })).toHaveLength(20);
    expect(JSON.stringify(before)).toBe(snapshot);
  });
  it('knows the demodulation floor per SF', () => {
    expect([requiredSnrDb(7), requiredSnrDb(12), requiredSnrDb(undefined)]).toEqual([-7.5, -20, 0]);
  });
});
