/** Options and results of the simulated LoRaWAN 1.0.x end device. */
import type { MacCommand, SessionKeys } from '../proto/lorawan/index.js';
import type { DataRate } from '../proto/radio.js';

export type DeviceIdentity =
  | { activation: 'otaa'; devEui: string; joinEui: string; appKey: Uint8Array }
  | { activation: 'abp'; devAddr: string; nwkSKey: Uint8Array; appSKey: Uint8Array; devEui?: string };

export interface SimulatedDeviceOptions {
  identity: DeviceIdentity;
  /** A region id in any case, e.g. 'EU868', 'AU915-SB1', 'AS923-2'. */
  region: string;
  /** Seeds DevNonces and channel choice; the same seed replays the same device. */
  seed?: number;
  /** Initial uplink DR (default: the fastest 125 kHz LoRa DR, e.g. EU868 DR5, US915 DR3). */
  dataRate?: number;
  /** Sets the ADR bit in uplinks (default true). */
  adr?: boolean;
  /** DevStatusAns battery level (0 external, 1..254, 255 unknown); default 254. */
  battery?: number;
  /**
   * Fixed plans (US915/AU915): the device comes from the factory with all 72
   * channels on and, like a LoRaWAN 1.0.2 device, ignores a type-1 CFList, so
   * only the network's LinkADRReq channel mask brings it to the gateway's sub-band.
   */
  factoryChannels?: boolean;
  /** ABP only: the FCntUp to resume from (ABP devices keep counters across reboots); default 0. */
  fCntUp?: number;
}

export interface DownlinkRx {
  /** SNR of the received downlink in dB: the DevStatusAns margin. */
  snr?: number;
}

export type DeviceDownlinkResult =
  | { kind: 'join-accept'; devAddr: string; rxDelaySeconds: number; cfListApplied: boolean }
  | {
      kind: 'data';
      fCnt32: number;
      confirmed: boolean;
      /** The downlink acknowledged our pending confirmed uplink. */
      acked: boolean;
      fPending: boolean;
      fPort?: number;
      /** Decrypted FRMPayload for fPort > 0. */
      payload?: Uint8Array;
      /** MAC commands from FOpts or FPort 0. */
      macCommands: MacCommand[];
      macError?: string;
      /** Answers queued for the next uplink. */
      answers: MacCommand[];
    }
  /** Dropped, as a real device would silently drop it; `reason` says why. */
  | { kind: 'ignored'; reason: string };

export interface UplinkRequest {
  fPort: number;
  payload: Uint8Array;
  confirmed?: boolean;
}

export interface UplinkRadio {
  channel: number;
  frequencyHz: number;
  dr: number;
  dataRate: DataRate;
  txPowerDbm: number;
}

export interface ReceiveWindows {
  rx1: { delayMs: number; frequencyHz: number; dr: number };
  rx2: { delayMs: number; frequencyHz: number; dr: number };
}

export interface DeviceSession extends SessionKeys {
  devAddr: string;
}
