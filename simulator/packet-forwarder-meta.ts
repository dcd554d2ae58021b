/** The emulator's uplink description and its emulated concentrator clock. */
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { DataRate, RxAntenna } from '../proto/radio.js';
import { parseLoraDatr } from '../proto/radio.js';
import type { CrcStatus, RxpkInput } from '../proto/semtech-udp/index.js';

/** How the emulated concentrator heard one frame. Omitted fields get plausible defaults. */
export interface UplinkMeta {
  frequencyHz: number;
  /** A data rate, or a LoRa string like "SF7BW125". */
  dataRate: DataRate | string;
  codingRate?: string;
  rssi: number;
  snr?: number;
  channel?: number;
  rfChain?: number;
  /** Override the emulated counter (e.g. exactly 4294967295). */
  tmst?: number;
  /** GPS time of reception: true = host clock now; a Date = that instant. Absent = no GPS fix. */
  gpsTime?: boolean | Date;
  antennas?: RxAntenna[];
  crc?: CrcStatus;
}

export interface EmulatedUplink {
  phyPayload: Uint8Array;
  meta: UplinkMeta;
}

/** GPS epoch (1980-01-06T00:00:00Z) in Unix ms; GPS runs 18 leap seconds ahead of UTC since 2017. */
const GPS_EPOCH_UNIX_MS = 315_964_800_000;
const GPS_LEAP_SECONDS = 18;

/** A free-running u32 microsecond counter like the SX1301's, starting at a chosen value. */
export class TmstClock {
  readonly #startPerfMs = performance.now();

  constructor(private readonly start: number) {}

  now(): number {
    const elapsedUs = Math.floor((performance.now() - this.#startPerfMs) * 1000);
    return (this.start + elapsedUs) >>> 0;
  }
}

export function rxpkFromMeta(uplink: EmulatedUplink, clock: TmstClock): RxpkInput {
  const { meta } = uplink;
  const dataRate = typeof meta.dataRate === 'string' ? parseLoraDatr(meta.dataRate) : meta.dataRate;
  if (!dataRate) {
    throw new MaverickError(ErrorCode.WireBadField, `emulator: unknown data rate ${String(meta.dataRate)}`, {
      hint: 'use a LoRa rate like "SF7BW125" or a DataRate object',
    });
  }
  const rx: RxpkInput['rx'] = {
    tmst: meta.tmst ?? clock.now(),
    frequencyHz: meta.frequencyHz,
    channel: meta.channel ?? 0,
    rfChain: meta.rfChain ?? 0,
    dataRate,
    rssi: meta.rssi,
  };
  if (dataRate.modulation === 'LORA') rx.codingRate = meta.codingRate ?? '4/5';
  if (meta.snr !== undefined) rx.snr = meta.snr;
  if (meta.antennas) rx.antennas = meta.antennas;
  if (meta.gpsTime) {
    const at = meta.gpsTime === true ? new Date() : meta.gpsTime;
    rx.time = at.toISOString();
    rx.tmms = at.getTime() - GPS_EPOCH_UNIX_MS + GPS_LEAP_SECONDS * 1000;
  }
  const input: RxpkInput = { phyPayload: uplink.phyPayload, rx };
  if (meta.crc) input.crc = meta.crc;
  return input;
}
