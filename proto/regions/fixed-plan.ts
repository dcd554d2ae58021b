/**
 * Builds a Region for the plans with 64 + 8 fixed upstream channels and 8
 * downstream channels (RP002-1.0.4 US902-928 §2.5, AU915-928 §2.8), on one
 * sub-band: eight 125 kHz channels 8(s−1)..8(s−1)+7 and the 500 kHz channel
 * 64+(s−1), the plan an 8-channel gateway covers.
 */
import { commonFields, regionError } from './common.js';
import {
  CLASS_A_DELAYS,
  type Region,
  type RegionDataRate,
  type RegionId,
  type SubBand,
  type SubBandPlan,
  type TxParams,
  type UplinkChannel,
} from './types.js';

export interface FixedPlanSpec {
  plan: SubBandPlan;
  bandHz: readonly [number, number];
  dataRates: RegionDataRate[];
  /** Upstream 125 kHz channel n (0..63) at base + n·step, carrying minDr..maxDr. */
  ch125: { baseHz: number; stepHz: number; minDr: number; maxDr: number };
  /** Upstream 500 kHz channel 64+n (n = 0..7) at base + n·step, carrying dr. */
  ch500: { baseHz: number; stepHz: number; dr: number };
  /** Downstream channel n (0..7) at base + n·step; RX1 uses upstream channel mod 8. */
  down: { baseHz: number; stepHz: number };
  /** The plan's RX1 DR table: rows uplink DR, columns RX1DROffset. */
  rx1Table: readonly (readonly number[])[];
  rx2: { frequencyHz: number; dr: number };
  maxEirpDbm: number;
  maxTxPowerIndex: number;
  downlinkTxPowerDbm: number;
  txParams?: TxParams;
}

export function fixedPlan(spec: FixedPlanSpec, subBand: SubBand, id: RegionId): Region {
  const { plan, dataRates, ch125, ch500, down } = spec;
  const all: UplinkChannel[] = [];
  for (let n = 0; n < 64; n++) {
    all.push({ frequencyHz: ch125.baseHz + n * ch125.stepHz, minDr: ch125.minDr, maxDr: ch125.maxDr });
  }
  for (let n = 0; n < 8; n++) {
    all.push({ frequencyHz: ch500.baseHz + n * ch500.stepHz, minDr: ch500.dr, maxDr: ch500.dr });
  }
  const first = (subBand - 1) * 8;
  const ours = [...all.slice(first, first + 8), all[64 + subBand - 1]] as UplinkChannel[];
  const upstreamChannel = (hz: number): number | undefined => {
    const n125 = (hz - ch125.baseHz) / ch125.stepHz;
    if (Number.isInteger(n125) && n125 >= 0 && n125 <= 63) return n125;
    const n500 = (hz - ch500.baseHz) / ch500.stepHz;
    if (Number.isInteger(n500) && n500 >= 0 && n500 <= 7) return 64 + n500;
    return undefined;
  };
  // The 16-bit block (ChMaskCntl 0..3) holding the sub-band, and its bits.
  const block = Math.floor((subBand - 1) / 2);
  const blockMask = 0xff << (8 * ((subBand - 1) % 2));
  const region: Region = {
    id,
    plan,
    bandHz: spec.bandHz,
    dataRates,
    channelPlan: 'fixed',
    defaultChannels: all,
    uplinkChannels: ours,
    isDownlinkFrequency(hz) {
      const n = (hz - down.baseHz) / down.stepHz;
      return Number.isInteger(n) && n >= 0 && n <= 7;
    },
    rx1Frequency(uplinkFrequencyHz) {
      const ch = upstreamChannel(uplinkFrequencyHz);
      if (ch === undefined) {
        throw regionError(`${id}: ${uplinkFrequencyHz} Hz is not an upstream channel`, { uplinkFrequencyHz });
      }
      return down.baseHz + (ch % 8) * down.stepHz;
    },
    rx1DataRate(uplinkDr, rx1DrOffset) {
      const row = spec.rx1Table[uplinkDr];
      if (!Number.isInteger(uplinkDr) || row === undefined) {
        throw regionError(`${id}: uplink DR${uplinkDr} is not DR0..DR${spec.rx1Table.length - 1}`, {
          uplinkDr,
        });
      }
      const dr = row[rx1DrOffset];
      if (!Number.isInteger(rx1DrOffset) || dr === undefined) {
        throw regionError(`${id}: RX1DROffset ${rx1DrOffset} is not 0..${row.length - 1}`, { rx1DrOffset });
      }
      return dr;
    },
    rx2: spec.rx2,
    ...commonFields(dataRates, spec),
    downlinkTxPowerDbm: spec.downlinkTxPowerDbm,
    /**
     * CFListType 1 (ChMask): ChMask0..ChMask4 (2 bytes each, little-endian) for
     * channels 0..71, 5 RFU bytes, then the type.
     */
    joinAcceptCfList() {
      const out = new Uint8Array(16);
      out[block * 2] = blockMask & 0xff;
      out[block * 2 + 1] = blockMask >>> 8;
      out[8] = 1 << (subBand - 1);
      out[15] = 0x01;
      return out;
    },
    /**
     * ChMaskCntl 7 switches all 125 kHz channels off and applies ChMask to
     * channels 64..71; then the sub-band's 16-channel block switches its eight on.
     * Both go in one contiguous LinkADRReq block so the device applies them together.
     */
    linkAdrChannelMask: () => [
      { chMask: 1 << (subBand - 1), chMaskCntl: 7 },
      { chMask: blockMask, chMaskCntl: block },
    ],
    maskAfterJoin: true,
    ...CLASS_A_DELAYS,
    maxRx1DrOffset: (spec.rx1Table[0]?.length ?? 1) - 1,
  };
  if (spec.txParams) region.txParams = spec.txParams;
  return region;
}
