/**
 * EU863-870 (RP002-1.0.3 §2.4). Channel plan: the three default join channels
 * 868.1/868.3/868.5 MHz (§2.4.2) plus the five 867.1..867.9 MHz channels
 * Maverick hands out in the join-accept CFList (§2.4.4) — the common
 * 8-channel gateway plan.
 */
import { frequency24, lora, regionError, uplinkDataRateIndex } from './common.js';
import { CLASS_A_DELAYS, type Region, type RegionDataRate, type UplinkChannel } from './types.js';

/** §2.4.3 Table "EU863-870 Data Rate" and §2.4.6 "Maximum payload size" (M, N; not repeater-compatible). */
const DATA_RATES: RegionDataRate[] = [
  { dr: 0, dataRate: lora(12, 125), maxMacPayload: 59, maxPayload: 51, uplink: true, downlink: true },
  { dr: 1, dataRate: lora(11, 125), maxMacPayload: 59, maxPayload: 51, uplink: true, downlink: true },
  { dr: 2, dataRate: lora(10, 125), maxMacPayload: 59, maxPayload: 51, uplink: true, downlink: true },
  { dr: 3, dataRate: lora(9, 125), maxMacPayload: 123, maxPayload: 115, uplink: true, downlink: true },
  { dr: 4, dataRate: lora(8, 125), maxMacPayload: 250, maxPayload: 242, uplink: true, downlink: true },
  { dr: 5, dataRate: lora(7, 125), maxMacPayload: 250, maxPayload: 242, uplink: true, downlink: true },
  { dr: 6, dataRate: lora(7, 250), maxMacPayload: 250, maxPayload: 242, uplink: true, downlink: true },
  {
    dr: 7,
    dataRate: { modulation: 'FSK', bitrate: 50_000 },
    maxMacPayload: 250,
    maxPayload: 242,
    uplink: true,
    downlink: true,
  },
];

/** §2.4.2 default channels (DR0..DR5) followed by our CFList channels. */
const DEFAULT_CHANNELS_HZ = [868_100_000, 868_300_000, 868_500_000];
const CFLIST_CHANNELS_HZ = [867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000];
const UPLINK_CHANNELS: UplinkChannel[] = [...DEFAULT_CHANNELS_HZ, ...CFLIST_CHANNELS_HZ].map(
  (frequencyHz) => ({
    frequencyHz,
    minDr: 0,
    maxDr: 5,
  }),
);

/** §2.4.3 Table "EU863-870 TX power table": TXPower n is MaxEIRP - 2n dB for n = 0..7. */
const MAX_EIRP_DBM = 16;
const MAX_TX_POWER_INDEX = 7;

const BAND_MIN_HZ = 863_000_000;
const BAND_MAX_HZ = 870_000_000;

export const EU868: Region = {
  id: 'EU868',
  dataRates: DATA_RATES,
  uplinkChannels: UPLINK_CHANNELS,
  /** §2.4.7: RX1 uses the uplink frequency. */
  rx1Frequency(uplinkFrequencyHz) {
    if (!(uplinkFrequencyHz >= BAND_MIN_HZ && uplinkFrequencyHz <= BAND_MAX_HZ)) {
      throw regionError(`EU868: ${uplinkFrequencyHz} Hz is outside 863-870 MHz`, { uplinkFrequencyHz });
    }
    return uplinkFrequencyHz;
  },
  /** §2.4.7 RX1 DR table: DR = max(0, uplink DR - RX1DROffset), offsets 0..5. */
  rx1DataRate(uplinkDr, rx1DrOffset) {
    if (!Number.isInteger(uplinkDr) || uplinkDr < 0 || uplinkDr > 7) {
      throw regionError(`EU868: uplink DR${uplinkDr} is not DR0..DR7`, { uplinkDr });
    }
    if (!Number.isInteger(rx1DrOffset) || rx1DrOffset < 0 || rx1DrOffset > 5) {
      throw regionError(`EU868: RX1DROffset ${rx1DrOffset} is not 0..5`, { rx1DrOffset });
    }
    return Math.max(0, uplinkDr - rx1DrOffset);
  },
  /** §2.4.7: RX2 default 869.525 MHz, DR0. */
  rx2: { frequencyHz: 869_525_000, dr: 0 },
  dataRateIndex: (dr) => uplinkDataRateIndex(DATA_RATES, dr),
  txPowerDbm(index) {
    if (!Number.isInteger(index) || index < 0 || index > MAX_TX_POWER_INDEX) return undefined;
    return MAX_EIRP_DBM - 2 * index;
  },
  /**
   * 14 dBm: ETSI EN 300 220-2 limits the 868.0-868.6 MHz sub-band (RX1 on the
   * default channels) to 25 mW ERP (~14 dBm); RP002 leaves gateway power to regulation.
   */
  downlinkTxPowerDbm: 14,
  /** §2.4.4: five 3-byte frequencies (100 Hz units, little-endian) then CFListType 0. */
  joinAcceptCfList() {
    const out = new Uint8Array(16);
    for (const [i, hz] of CFLIST_CHANNELS_HZ.entries()) out.set(frequency24(hz), i * 3);
    out[15] = 0x00;
    return out;
  },
  /** §2.4.5: ChMaskCntl 0 with ChMask bits 0..7 for our eight channels. */
  linkAdrChannelMask: () => [{ chMask: 0x00ff, chMaskCntl: 0 }],
  /**
   * ERC Recommendation 70-03 Annex 1 / ETSI EN 300 220-2 sub-bands as LoRaWAN
   * stacks apply them (LoRaMac-node RegionEU868 uses the same split).
   */
  dutyCycle: {
    subBands: [
      { name: 'h1.3', minHz: 863_000_000, maxHz: 865_000_000, dutyCycle: 0.001 },
      { name: 'g', minHz: 865_000_000, maxHz: 868_000_000, dutyCycle: 0.01 },
      { name: 'g1', minHz: 868_000_000, maxHz: 868_600_000, dutyCycle: 0.01 },
      { name: 'g2', minHz: 868_700_000, maxHz: 869_200_000, dutyCycle: 0.001 },
      { name: 'g3', minHz: 869_400_000, maxHz: 869_650_000, dutyCycle: 0.1 },
      { name: 'g4', minHz: 869_700_000, maxHz: 870_000_000, dutyCycle: 0.01 },
    ],
  },
  ...CLASS_A_DELAYS,
  maxEirpDbm: MAX_EIRP_DBM,
  maxRx1DrOffset: 5,
  dataRate: (dr) => DATA_RATES.find((d) => d.dr === dr),
};
