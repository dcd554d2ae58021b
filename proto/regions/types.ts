/**
 * Region parameters as data (LoRaWAN Regional Parameters RP002-1.0.4). Every
 * behaviour that differs between plans is a field here, so the kernel, the
 * simulator and the gateway read it instead of branching on a plan's name.
 */
import type { DataRate } from '../radio.js';

/** The channel plans (RP002-1.0.4 §2: one section per plan). */
export const PLAN_IDS = [
  'EU868',
  'US915',
  'AU915',
  'AS923-1',
  'AS923-2',
  'AS923-3',
  'AS923-4',
  'IN865',
  'KR920',
] as const;
export type PlanId = (typeof PLAN_IDS)[number];

/** Plans with 64 + 8 fixed upstream channels, of which a gateway hears one sub-band of 8 + 1. */
export const SUB_BAND_PLANS = ['US915', 'AU915'] as const;
export type SubBandPlan = (typeof SUB_BAND_PLANS)[number];
export type SubBand = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
export const SUB_BANDS: readonly SubBand[] = [1, 2, 3, 4, 5, 6, 7, 8];

/** A plan, or a 64-channel plan with its sub-band ("AU915-SB3"); plain "US915"/"AU915" mean sub-band 2. */
export type RegionId = PlanId | `${SubBandPlan}-SB${SubBand}`;

/** Every accepted region id, plans first. */
export const REGION_IDS: readonly RegionId[] = [
  ...PLAN_IDS,
  ...SUB_BAND_PLANS.flatMap((plan) => SUB_BANDS.map((n) => `${plan}-SB${n}` as const)),
];

export interface RegionDataRate {
  dr: number;
  dataRate: DataRate;
  /**
   * N from the region's "maximum payload size" table: the largest FRMPayload
   * (application payload) when FOpts is empty. M = N + 8 is maxMacPayload.
   * 0 when the table says "not defined" (AS923 DR0/DR1 under the 400 ms dwell time).
   */
  maxPayload: number;
  /** M: the largest MACPayload (FHDR + FPort + FRMPayload). */
  maxMacPayload: number;
  /** Whether devices may transmit at this DR, and whether gateways do. */
  uplink: boolean;
  downlink: boolean;
}

export interface UplinkChannel {
  frequencyHz: number;
  minDr: number;
  maxDr: number;
}

export interface DutyCycleBand {
  name: string;
  minHz: number;
  maxHz: number;
  /** Fraction of time a transmitter may be on, e.g. 0.01. */
  dutyCycle: number;
}

/** Listen-before-talk where regulation asks for it instead of a duty cycle. */
export interface ListenBeforeTalk {
  /** The channel counts as free below this RSSI. */
  thresholdDbm: number;
  /** How long the transmitter listens before it sends. */
  senseMs: number;
}

/** What a TxParamSetupReq from the network sets (LoRaWAN 1.0.4 §5.12). */
export interface TxParams {
  uplinkDwellTime: boolean;
  downlinkDwellTime: boolean;
  /** Index into the MaxEIRP table (MAX_EIRP_TABLE_DBM). */
  maxEirpIndex: number;
}

export interface Region {
  id: RegionId;
  /** The RP002 plan this region follows; the id adds the sub-band for 64-channel plans. */
  plan: PlanId;
  /** The plan's band in Hz (RP002 country table / plan section). */
  bandHz: readonly [number, number];
  dataRates: RegionDataRate[];
  /**
   * "dynamic": devices boot with `defaultChannels` and learn more from a frequency
   * CFList (type 0) or NewChannelReq. "fixed": every channel is predefined and the
   * network only switches them on and off (CFList type 1, ChMaskCntl blocks).
   */
  channelPlan: 'dynamic' | 'fixed';
  /**
   * The channels a device knows at boot, by channel number: the join channels
   * of a dynamic plan, or all 72 upstream channels of a fixed plan.
   */
  defaultChannels: UplinkChannel[];
  /** The channels Maverick's network uses (see each region file for the plan). */
  uplinkChannels: UplinkChannel[];
  /** Whether a frequency may carry downlinks (RXParamSetupReq / DlChannelReq checks). */
  isDownlinkFrequency(frequencyHz: number): boolean;
  rx1Frequency(uplinkFrequencyHz: number): number;
  rx1DataRate(uplinkDr: number, rx1DrOffset: number): number;
  rx2: { frequencyHz: number; dr: number };
  /** The uplink DR index of a received frame's data rate, or undefined. */
  dataRateIndex(dr: DataRate): number | undefined;
  /** Device TX power in dBm (EIRP) for a LinkADRReq TXPower index, or undefined when the index is not defined. */
  txPowerDbm(txPowerIndex: number): number | undefined;
  /** Default gateway TX power for downlinks. */
  downlinkTxPowerDbm: number;
  /** The CFList Maverick sends in join-accepts, or undefined. */
  joinAcceptCfList(): Uint8Array | undefined;
  /** LinkADRReq ChMask/ChMaskCntl blocks (in order) that enable exactly uplinkChannels. */
  linkAdrChannelMask(): { chMask: number; chMaskCntl: number }[];
  /**
   * Devices boot with more channels on than the gateway hears (fixed plans), and
   * LoRaWAN 1.0.2 devices ignore a type-1 CFList: the channel mask then goes out
   * in a LinkADRReq after the join until a device accepts one.
   */
  maskAfterJoin: boolean;
  dutyCycle?: { subBands: DutyCycleBand[] };
  listenBeforeTalk?: ListenBeforeTalk;
  /** The TxParamSetupReq the network sends until a device answers it; absent where the plan has none. */
  txParams?: TxParams;
  receiveDelay1Ms: 1000;
  receiveDelay2Ms: 2000;
  joinAcceptDelay1Ms: 5000;
  joinAcceptDelay2Ms: 6000;
  /** Default device MaxEIRP in dBm. */
  maxEirpDbm: number;
  /** Allowed RX1DROffset values are 0..maxRx1DrOffset. */
  maxRx1DrOffset: number;
  /** The DR data rate, or undefined when not defined in the region. */
  dataRate(dr: number): RegionDataRate | undefined;
}

/** RP002-1.0.4 §2.3 "Default Settings" (LoRaWAN 1.0.4 §3.3.1 and §6.2.5): RECEIVE_DELAY1/2 and JOIN_ACCEPT_DELAY1/2 defaults. */
export const CLASS_A_DELAYS = {
  receiveDelay1Ms: 1000,
  receiveDelay2Ms: 2000,
  joinAcceptDelay1Ms: 5000,
  joinAcceptDelay2Ms: 6000,
} as const;

/** LoRaWAN 1.0.4 §5.12 Table "TxParamSetup EIRP encoding": MaxEIRP index -> dBm. */
export const MAX_EIRP_TABLE_DBM: readonly number[] = [
  8, 10, 12, 13, 14, 16, 18, 20, 21, 24, 26, 27, 29, 30, 33, 36,
];
