/** Helpers shared by the region tables. */
import { ErrorCode, MaverickError } from '../errors.js';
import type { DataRate } from '../radio.js';
import type { Region, RegionDataRate } from './types.js';

export function lora(spreadingFactor: number, bandwidthKHz: number): DataRate {
  return { modulation: 'LORA', spreadingFactor, bandwidthKHz };
}

export function sameDataRate(a: DataRate, b: DataRate): boolean {
  if (a.modulation === 'LORA' && b.modulation === 'LORA') {
    return a.spreadingFactor === b.spreadingFactor && a.bandwidthKHz === b.bandwidthKHz;
  }
  if (a.modulation === 'FSK' && b.modulation === 'FSK') return a.bitrate === b.bitrate;
  return false;
}

/** Finds the uplink DR index for a received data rate. */
export function uplinkDataRateIndex(table: RegionDataRate[], dr: DataRate): number | undefined {
  return table.find((d) => d.uplink && sameDataRate(d.dataRate, dr))?.dr;
}

/** Encodes a frequency as the 24-bit little-endian multiple of 100 Hz the CFList uses (RP002-1.0.3 §2.4.4). */
export function frequency24(hz: number): number[] {
  const v = hz / 100;
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff];
}

export function regionError(message: string, context?: Record<string, unknown>): MaverickError {
  return new MaverickError(ErrorCode.LorawanRegion, message, { context });
}

/** One row of a plan's data-rate and maximum-payload tables: N given, M = N + 8 (0 where the table says "not defined"). */
export function rate(
  dr: number,
  dataRate: DataRate,
  maxPayload: number,
  direction: Direction = BOTH_WAYS,
): RegionDataRate {
  return { dr, dataRate, maxPayload, maxMacPayload: maxPayload === 0 ? 0 : maxPayload + 8, ...direction };
}

export const FSK_50K: DataRate = { modulation: 'FSK', bitrate: 50_000 };
export const BOTH_WAYS = { uplink: true, downlink: true } as const;
type Direction = { uplink: boolean; downlink: boolean };
export const UPLINK_ONLY = { uplink: true, downlink: false } as const;
export const DOWNLINK_ONLY = { uplink: false, downlink: true } as const;

/**
 * The 125 kHz LoRa uplink DRs with room for a payload (maxPayload 0: the plan's
 * dwell time leaves none, AS923 DR0/DR1): the range ADR moves devices in, and
 * where a simulated device starts (the fastest).
 */
export function narrowLoraUplinkDrs(region: Pick<Region, 'dataRates'>): number[] {
  return region.dataRates
    .filter(
      (d) =>
        d.uplink && d.maxPayload > 0 && d.dataRate.modulation === 'LORA' && d.dataRate.bandwidthKHz === 125,
    )
    .map((d) => d.dr);
}

/**
 * DR0..DR(n−1) = SF12..SF(13−n) at 125 kHz with the given maximum payloads N:
 * the opening rows of every plan's data-rate table except US915's.
 */
export function sf12Down125(
  maxPayloads: readonly number[],
  direction: Direction = BOTH_WAYS,
): RegionDataRate[] {
  return maxPayloads.map((n, dr) => rate(dr, lora(12 - dr, 125), n, direction));
}

/** DR8..DR13 = SF12..SF7 at 500 kHz, downlink only, N 53/129/242… (US915 §2.5.6 and AU915 §2.8.6 alike). */
export function downlink500(): RegionDataRate[] {
  return [53, 129, 242, 242, 242, 242].map((n, i) => rate(8 + i, lora(12 - i, 500), n, DOWNLINK_ONLY));
}

/**
 * The fields every plan shares the shape of: the uplink DR lookup, the TX power
 * table "TXPower n = MaxEIRP − 2n dB for n = 0..maxIndex" (every plan's table
 * in RP002-1.0.4) and the DR lookup.
 */
export function commonFields(
  dataRates: RegionDataRate[],
  power: { maxEirpDbm: number; maxTxPowerIndex: number },
): Pick<Region, 'dataRateIndex' | 'txPowerDbm' | 'dataRate' | 'maxEirpDbm'> {
  return {
    dataRateIndex: (dr) => uplinkDataRateIndex(dataRates, dr),
    txPowerDbm(index) {
      if (!Number.isInteger(index) || index < 0 || index > power.maxTxPowerIndex) return undefined;
      return power.maxEirpDbm - 2 * index;
    },
    dataRate: (dr) => dataRates.find((d) => d.dr === dr),
    maxEirpDbm: power.maxEirpDbm,
  };
}
