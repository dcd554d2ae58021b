/** Helpers shared by the region tables. */
import { ErrorCode, MaverickError } from '../errors.js';
import type { DataRate } from '../radio.js';
import type { RegionDataRate } from './types.js';

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
