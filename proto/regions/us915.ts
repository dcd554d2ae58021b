/**
 * US902-928 (RP002-1.0.3 §2.5). Channel plan: sub-band 2 only — 125 kHz
 * channels 8..15 (903.9..905.3 MHz) and 500 kHz channel 65 (904.6 MHz) — the
 * plan an 8-channel gateway covers.
 */
import { lora, regionError, uplinkDataRateIndex } from './common.js';
import { CLASS_A_DELAYS, type Region, type RegionDataRate, type UplinkChannel } from './types.js';

/**
 * §2.5.3 Table "US902-928 Data Rate" (DR5/DR6 LR-FHSS omitted: not LoRa) and
 * §2.5.6 "Maximum payload size" (M, N; not repeater-compatible).
 */
const DATA_RATES: RegionDataRate[] = [
  { dr: 0, dataRate: lora(10, 125), maxMacPayload: 19, maxPayload: 11, uplink: true, downlink: false },
  { dr: 1, dataRate: lora(9, 125), maxMacPayload: 61, maxPayload: 53, uplink: true, downlink: false },
  { dr: 2, dataRate: lora(8, 125), maxMacPayload: 133, maxPayload: 125, uplink: true, downlink: false },
  { dr: 3, dataRate: lora(7, 125), maxMacPayload: 250, maxPayload: 242, uplink: true, downlink: false },
  { dr: 4, dataRate: lora(8, 500), maxMacPayload: 250, maxPayload: 242, uplink: true, downlink: false },
  { dr: 8, dataRate: lora(12, 500), maxMacPayload: 61, maxPayload: 53, uplink: false, downlink: true },
  { dr: 9, dataRate: lora(11, 500), maxMacPayload: 137, maxPayload: 129, uplink: false, downlink: true },
  { dr: 10, dataRate: lora(10, 500), maxMacPayload: 250, maxPayload: 242, uplink: false, downlink: true },
  { dr: 11, dataRate: lora(9, 500), maxMacPayload: 250, maxPayload: 242, uplink: false, downlink: true },
  { dr: 12, dataRate: lora(8, 500), maxMacPayload: 250, maxPayload: 242, uplink: false, downlink: true },
  { dr: 13, dataRate: lora(7, 500), maxMacPayload: 250, maxPayload: 242, uplink: false, downlink: true },
];

/** §2.5.2: upstream 125 kHz channel n at 902.3 + 0.2 n MHz (n = 0..63), 500 kHz channel 64+n at 903.0 + 1.6 n MHz. */
const CH125_BASE_HZ = 902_300_000;
const CH125_STEP_HZ = 200_000;
const CH500_BASE_HZ = 903_000_000;
const CH500_STEP_HZ = 1_600_000;
/** §2.5.2: downstream channel n at 923.3 + 0.6 n MHz (n = 0..7). */
const DOWN_BASE_HZ = 923_300_000;
const DOWN_STEP_HZ = 600_000;

const SUB_BAND_2: UplinkChannel[] = [
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => ({
    frequencyHz: CH125_BASE_HZ + n * CH125_STEP_HZ,
    minDr: 0,
    maxDr: 3,
  })),
  { frequencyHz: CH500_BASE_HZ + 1 * CH500_STEP_HZ, minDr: 4, maxDr: 4 },
];

/** The upstream channel number (0..71) of a frequency, or undefined. */
export function us915UplinkChannel(frequencyHz: number): number | undefined {
  const n125 = (frequencyHz - CH125_BASE_HZ) / CH125_STEP_HZ;
  if (Number.isInteger(n125) && n125 >= 0 && n125 <= 63) return n125;
  const n500 = (frequencyHz - CH500_BASE_HZ) / CH500_STEP_HZ;
  if (Number.isInteger(n500) && n500 >= 0 && n500 <= 7) return 64 + n500;
  return undefined;
}

/** §2.5.7 Table "US902-928 RX1 data rate": rows uplink DR0..DR4, columns RX1DROffset 0..3. */
const RX1_DR: readonly (readonly number[])[] = [
  [10, 9, 8, 8],
  [11, 10, 9, 8],
  [12, 11, 10, 9],
  [13, 12, 11, 10],
  [13, 13, 12, 11],
];

/** §2.5.3 Table "US902-928 TX power table": TXPower n is 30 dBm - 2n for n = 0..14. */
const MAX_EIRP_DBM = 30;
const MAX_TX_POWER_INDEX = 14;

export const US915: Region = {
  id: 'US915',
  dataRates: DATA_RATES,
  uplinkChannels: SUB_BAND_2,
  /** §2.5.7: RX1 channel = upstream channel modulo 8 (uplink ch 8 -> 923.3 MHz). */
  rx1Frequency(uplinkFrequencyHz) {
    const ch = us915UplinkChannel(uplinkFrequencyHz);
    if (ch === undefined) {
      throw regionError(`US915: ${uplinkFrequencyHz} Hz is not an upstream channel`, { uplinkFrequencyHz });
    }
    return DOWN_BASE_HZ + (ch % 8) * DOWN_STEP_HZ;
  },
  rx1DataRate(uplinkDr, rx1DrOffset) {
    const row = RX1_DR[uplinkDr];
    if (!Number.isInteger(uplinkDr) || row === undefined) {
      throw regionError(`US915: uplink DR${uplinkDr} is not DR0..DR4`, { uplinkDr });
    }
    const dr = row[rx1DrOffset];
    if (!Number.isInteger(rx1DrOffset) || dr === undefined) {
      throw regionError(`US915: RX1DROffset ${rx1DrOffset} is not 0..3`, { rx1DrOffset });
    }
    return dr;
  },
  /** §2.5.7: RX2 default 923.3 MHz, DR8. */
  rx2: { frequencyHz: 923_300_000, dr: 8 },
  dataRateIndex: (dr) => uplinkDataRateIndex(DATA_RATES, dr),
  txPowerDbm(index) {
    if (!Number.isInteger(index) || index < 0 || index > MAX_TX_POWER_INDEX) return undefined;
    return MAX_EIRP_DBM - 2 * index;
  },
  /**
   * 20 dBm: a conservative default well under the FCC 47 CFR 15.247 limit
   * (30 dBm conducted); RP002 leaves gateway power to regulation. Configurable upstream.
   */
  downlinkTxPowerDbm: 20,
  /**
   * §2.5.4 CFListType 1 (ChMask): ChMask0..ChMask4 (2 bytes each, LE), 5 RFU
   * bytes, then the type. Sub-band 2: ChMask0 = 0xFF00 (ch 8..15), ChMask4 = 0x0002 (ch 65).
   * LoRaWAN 1.0.2 devices ignore it and need linkAdrChannelMask() instead.
   */
  joinAcceptCfList() {
    const out = new Uint8Array(16);
    out[0] = 0x00;
    out[1] = 0xff;
    out[8] = 0x02;
    out[15] = 0x01;
    return out;
  },
  /**
   * §2.5.5: ChMaskCntl 7 switches all 125 kHz channels off and applies ChMask
   * to channels 64..71 (bit 1 = ch 65); then ChMaskCntl 0 enables ch 8..15.
   * Both go in one contiguous LinkADRReq block so the device applies them together.
   */
  linkAdrChannelMask: () => [
    { chMask: 0x0002, chMaskCntl: 7 },
    { chMask: 0xff00, chMaskCntl: 0 },
  ],
  ...CLASS_A_DELAYS,
  maxEirpDbm: MAX_EIRP_DBM,
  maxRx1DrOffset: 3,
  dataRate: (dr) => DATA_RATES.find((d) => d.dr === dr),
};
