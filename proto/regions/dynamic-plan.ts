/**
 * Builds a Region for the plans with a dynamic channel plan (RP002-1.0.4:
 * EU868 §2.4, AS923 §2.10, KR920 §2.11, IN865 §2.12): a few default join
 * channels, the rest announced in a type-0 CFList or NewChannelReq, RX1 on
 * the uplink frequency and ChMaskCntl 0 masks over at most 16 channels.
 */
import { commonFields, frequency24, regionError } from './common.js';
import {
  CLASS_A_DELAYS,
  type DutyCycleBand,
  type ListenBeforeTalk,
  type PlanId,
  type Region,
  type RegionDataRate,
  type TxParams,
  type UplinkChannel,
} from './types.js';

export interface DynamicPlanSpec {
  id: PlanId;
  bandHz: readonly [number, number];
  dataRates: RegionDataRate[];
  /** The plan's default channels (cannot be changed by the network). */
  defaultChannelsHz: readonly number[];
  /** Maverick's further channels: the first five go in the CFList, any more by NewChannelReq. */
  extraChannelsHz: readonly number[];
  /** DR range of every channel. */
  channelDrs: { minDr: number; maxDr: number };
  /**
   * The plan's RX1 DR table as a formula: RX1 DR = clamp(uplink DR − effectiveOffset[RX1DROffset], min, max)
   * (effective offsets 6 and 7 are −1 and −2 in AS923 and IN865).
   */
  rx1: { effectiveOffsets: readonly number[]; minDr: number; maxDr: number };
  rx2: { frequencyHz: number; dr: number };
  /** TXPower n = MaxEIRP − 2n dB for n = 0..maxTxPowerIndex. */
  maxEirpDbm: number;
  maxTxPowerIndex: number;
  downlinkTxPowerDbm: number;
  dutyCycle?: DutyCycleBand[];
  listenBeforeTalk?: ListenBeforeTalk;
  txParams?: TxParams;
}

/** Channels a dynamic plan allows in total (ChMask covers 16; RP002 "up to 16 channels"). */
const MAX_CHANNELS = 16;

export function dynamicPlan(spec: DynamicPlanSpec): Region {
  const { id, bandHz, dataRates } = spec;
  const channel = (frequencyHz: number): UplinkChannel => ({ frequencyHz, ...spec.channelDrs });
  const uplinkChannels = [...spec.defaultChannelsHz, ...spec.extraChannelsHz].map(channel);
  if (uplinkChannels.length > MAX_CHANNELS) throw regionError(`${id}: more than 16 channels`);
  const cfListHz = spec.extraChannelsHz.slice(0, 5);
  const inBand = (hz: number) => hz >= bandHz[0] && hz <= bandHz[1];
  const uplinkDrs = new Set(dataRates.filter((d) => d.uplink).map((d) => d.dr));
  const mask = (1 << uplinkChannels.length) - 1;
  const region: Region = {
    id,
    plan: id,
    bandHz,
    dataRates,
    channelPlan: 'dynamic',
    defaultChannels: spec.defaultChannelsHz.map(channel),
    uplinkChannels,
    isDownlinkFrequency: inBand,
    /** RX1 uses the uplink frequency in every dynamic plan. */
    rx1Frequency(uplinkFrequencyHz) {
      if (!inBand(uplinkFrequencyHz)) {
        throw regionError(
          `${id}: ${uplinkFrequencyHz} Hz is outside ${bandHz[0] / 1e6}-${bandHz[1] / 1e6} MHz`,
          { uplinkFrequencyHz },
        );
      }
      return uplinkFrequencyHz;
    },
    rx1DataRate(uplinkDr, rx1DrOffset) {
      if (!Number.isInteger(uplinkDr) || !uplinkDrs.has(uplinkDr)) {
        throw regionError(`${id}: uplink DR${uplinkDr} is not an uplink data rate`, { uplinkDr });
      }
      const effective = spec.rx1.effectiveOffsets[rx1DrOffset];
      if (!Number.isInteger(rx1DrOffset) || effective === undefined) {
        throw regionError(
          `${id}: RX1DROffset ${rx1DrOffset} is not 0..${spec.rx1.effectiveOffsets.length - 1}`,
          { rx1DrOffset },
        );
      }
      return Math.min(spec.rx1.maxDr, Math.max(spec.rx1.minDr, uplinkDr - effective));
    },
    rx2: spec.rx2,
    ...commonFields(dataRates, spec),
    downlinkTxPowerDbm: spec.downlinkTxPowerDbm,
    /** Type 0: five 3-byte frequencies (100 Hz units, little-endian), zeros for unused, then CFListType 0. */
    joinAcceptCfList() {
      const out = new Uint8Array(16);
      for (const [i, hz] of cfListHz.entries()) out.set(frequency24(hz), i * 3);
      out[15] = 0x00;
      return out;
    },
    /** ChMaskCntl 0 with one bit per channel of our plan. */
    linkAdrChannelMask: () => [{ chMask: mask, chMaskCntl: 0 }],
    maskAfterJoin: false,
    ...CLASS_A_DELAYS,
    maxRx1DrOffset: spec.rx1.effectiveOffsets.length - 1,
  };
  if (spec.dutyCycle) region.dutyCycle = { subBands: spec.dutyCycle };
  if (spec.listenBeforeTalk) region.listenBeforeTalk = spec.listenBeforeTalk;
  if (spec.txParams) region.txParams = spec.txParams;
  return region;
}
