/** Region parameters as data (LoRaWAN Regional Parameters RP002-1.0.3). */
import type { DataRate } from '../radio.js';

export type RegionId = 'EU868' | 'US915';
export const REGION_IDS: readonly RegionId[] = ['EU868', 'US915'];

export interface RegionDataRate {
  dr: number;
  dataRate: DataRate;
  /**
   * N from the region's "maximum payload size" table: the largest FRMPayload
   * (application payload) when FOpts is empty. M = N + 8 is maxMacPayload.
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

export interface Region {
  id: RegionId;
  dataRates: RegionDataRate[];
  /** The channels Maverick's devices use (see each region file for the plan). */
  uplinkChannels: UplinkChannel[];
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
  dutyCycle?: { subBands: DutyCycleBand[] };
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

/** RP002-1.0.3 §2.3 "Default Settings" (LoRaWAN 1.0.3 §3.3.1 and §6.2.5): RECEIVE_DELAY1/2 and JOIN_ACCEPT_DELAY1/2 defaults. */
export const CLASS_A_DELAYS = {
  receiveDelay1Ms: 1000,
  receiveDelay2Ms: 2000,
  joinAcceptDelay1Ms: 5000,
  joinAcceptDelay2Ms: 6000,
} as const;
