/**
 * Time on air, needed for duty-cycle accounting and scheduling.
 * LoRa: Semtech AN1200.13 "LoRa Modem Designer's Guide" §4 (same formula as
 * the SX1276 datasheet §4.1.1.6). FSK: preamble, sync word, length, payload and
 * CRC at the bit rate, with LoRaWAN's FSK framing (RP002-1.0.3 §2.4.1: 5-byte
 * preamble, 3-byte sync word).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import type { DataRate } from '../radio.js';

export interface TimeOnAirOptions {
  /** 1..4 for 4/5..4/8 (LoRaWAN uses 4/5). */
  codingRate?: number;
  /** Programmed preamble length in symbols (LoRaWAN: 8). */
  preamble?: number;
  /** Explicit header (LoRaWAN: always). */
  explicitHeader?: boolean;
  /** Defaults to on for symbol times of 16 ms or more (SF11/SF12 at 125 kHz), as AN1200.13 recommends. */
  lowDataRateOptimize?: boolean;
  /** Payload CRC; LoRaWAN uplinks carry one, downlinks do not. Defaults to true. */
  crc?: boolean;
}

const FSK_OVERHEAD_BYTES = 5 + 3 + 1 + 2;

export function timeOnAirMs(dr: DataRate, payloadBytes: number, options: TimeOnAirOptions = {}): number {
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > 255) {
    throw new MaverickError(ErrorCode.LorawanRegion, `payload of ${payloadBytes} bytes is not 0..255`);
  }
  if (dr.modulation === 'FSK') {
    return ((FSK_OVERHEAD_BYTES + payloadBytes) * 8 * 1000) / dr.bitrate;
  }
  const sf = dr.spreadingFactor;
  const cr = options.codingRate ?? 1;
  const preamble = options.preamble ?? 8;
  const implicitHeader = options.explicitHeader === false ? 1 : 0;
  const crc = options.crc === false ? 0 : 1;
  const symbolMs = 2 ** sf / dr.bandwidthKHz;
  const de = (options.lowDataRateOptimize ?? symbolMs >= 16) ? 1 : 0;
  const preambleMs = (preamble + 4.25) * symbolMs;
  const numerator = 8 * payloadBytes - 4 * sf + 28 + 16 * crc - 20 * implicitHeader;
  const payloadSymbols = 8 + Math.max(Math.ceil(numerator / (4 * (sf - 2 * de))) * (cr + 4), 0);
  return preambleMs + payloadSymbols * symbolMs;
}
