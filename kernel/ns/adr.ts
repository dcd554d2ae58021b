/**
 * Adaptive data rate, the network side, modelled on ChirpStack's default
 * algorithm (chirpstack/src/adr/default.rs, read for behaviour, not copied)
 * which follows Semtech's "LoRaWAN ADR" recommendation: take the best SNR of
 * the last 20 uplinks, subtract the SNR the current data rate needs and an
 * installation margin, and spend each 3 dB step first on a faster data rate,
 * then on less transmit power. NbTrans follows the measured packet loss.
 */
import type { AdrHistoryEntry } from './types.js';

export const ADR_HISTORY_LENGTH = 20;
export const DEFAULT_INSTALLATION_MARGIN_DB = 10;

/** Demodulation floor per LoRa spreading factor (Semtech SX1276 datasheet, table 13). */
const REQUIRED_SNR_BY_SF: Record<number, number> = {
  5: -2.5,
  6: -5,
  7: -7.5,
  8: -10,
  9: -12.5,
  10: -15,
  11: -17.5,
  12: -20,
};

/** SNR in dB a LoRa frame at this spreading factor needs to be received; FSK gets 0. */
export function requiredSnrDb(spreadingFactor: number | undefined): number {
  if (spreadingFactor === undefined) return 0;
  return REQUIRED_SNR_BY_SF[spreadingFactor] ?? -20;
}

export interface AdrInput {
  dr: number;
  txPowerIndex: number;
  nbTrans: number;
  /** Highest TX power index the region defines (largest reduction). */
  maxTxPowerIndex: number;
  requiredSnrForDr: number;
  installationMarginDb: number;
  minDr: number;
  maxDr: number;
  history: readonly AdrHistoryEntry[];
}

export interface AdrDecision {
  dr: number;
  txPowerIndex: number;
  nbTrans: number;
}

/** The data rate, power and repetitions the device should use, given its uplink history. */
export function adrDecision(input: AdrInput): AdrDecision {
  let dr = Math.min(input.dr, input.maxDr);
  let txPowerIndex = input.txPowerIndex;
  const nbTrans = nbTransForLoss(input.nbTrans, packetLossPercent(input.history));
  // Without a full history one lucky frame would push the device too far (ChirpStack waits the same way).
  if (input.history.length < ADR_HISTORY_LENGTH) return { dr, txPowerIndex, nbTrans: input.nbTrans };

  const maxSnr = Math.max(...input.history.map((h) => h.maxSnr));
  let steps = Math.floor((maxSnr - input.requiredSnrForDr - input.installationMarginDb) / 3);
  while (steps > 0) {
    if (dr < input.maxDr) dr++;
    else if (txPowerIndex < input.maxTxPowerIndex) txPowerIndex++;
    else break;
    steps--;
  }
  // A negative margin only buys power back; lowering the data rate is left to the device's ADRACKReq back-off.
  while (steps < 0 && txPowerIndex > 0) {
    txPowerIndex--;
    steps++;
  }
  return { dr: Math.max(dr, input.minDr), txPowerIndex, nbTrans };
}

/** Lost frames in the history as a percentage, from gaps in the frame counter. */
export function packetLossPercent(history: readonly AdrHistoryEntry[]): number {
  if (history.length < 2) return 0;
  let lost = 0;
  let previous: number | undefined;
  for (const h of history) {
    if (previous !== undefined && h.fCnt > previous + 1) lost += h.fCnt - previous - 1;
    previous = h.fCnt;
  }
  const first = history[0]?.fCnt ?? 0;
  const last = history[history.length - 1]?.fCnt ?? 0;
  const expected = last - first + 1;
  return expected > 0 ? (lost * 100) / expected : 0;
}

/**
 * Repetitions by loss bucket (<5 %, <10 %, <30 %, worse) and current NbTrans,
 * the table Semtech's ADR note gives and ChirpStack uses.
 */
const NB_TRANS_TABLE: readonly (readonly number[])[] = [
  [1, 1, 2],
  [1, 2, 3],
  [2, 3, 3],
  [3, 3, 3],
];

export function nbTransForLoss(current: number, lossPercent: number): number {
  const bucket = lossPercent < 5 ? 0 : lossPercent < 10 ? 1 : lossPercent < 30 ? 2 : 3;
  const column = Math.min(Math.max(current, 1), 3) - 1;
  return NB_TRANS_TABLE[bucket]?.[column] ?? 1;
}

/** Appends an uplink to the history, keeping the newest ADR_HISTORY_LENGTH; a repeated FCnt keeps the best SNR. */
export function recordAdrHistory(
  history: readonly AdrHistoryEntry[],
  entry: AdrHistoryEntry,
): AdrHistoryEntry[] {
  const last = history[history.length - 1];
  if (last && last.fCnt === entry.fCnt) {
    const next = history.slice();
    next[next.length - 1] = { ...last, maxSnr: Math.max(last.maxSnr, entry.maxSnr), gwCnt: entry.gwCnt };
    return next;
  }
  // One new array per uplink: the newest ADR_HISTORY_LENGTH entries, this one last.
  const kept = Math.min(history.length, ADR_HISTORY_LENGTH - 1);
  const next = history.slice(history.length - kept);
  next.push(entry);
  return next;
}
