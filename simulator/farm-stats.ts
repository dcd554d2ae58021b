/** What the field simulation counts, and its record of every uplink it sent. */
import type { LppValue } from './payloads.js';

export interface SentUplink {
  devEui: string;
  fCnt: number;
  fPort: number;
  confirmed: boolean;
  /** The plaintext FRMPayload (Cayenne LPP). */
  payload: Uint8Array;
  /** The readings in the payload. */
  values: LppValue[];
  /** Simulated Unix ms of the (first) transmission. */
  atMs: number;
  paths: string[];
  /** Set when the device received the ACK, and in which window. */
  ackedIn?: 'rx1' | 'rx2';
}

export interface FarmStats {
  devices: number;
  joinedDevices: number;
  joinRequests: number;
  joinAccepts: number;
  joinRetries: number;
  joinTimeouts: number;
  devicesGaveUp: number;
  /** New uplinks, unique by devEui + fCnt. */
  uplinksSent: number;
  confirmedSent: number;
  acksReceived: number;
  retransmissions: number;
  confirmedUnacked: number;
  /** Every frame put on the air (joins, uplinks, retransmissions), counted once per device. */
  transmissions: number;
  downlinksHeard: number;
  downlinksRx1: number;
  downlinksRx2: number;
  /** A downlink whose tmst is neither RX1 nor RX2 of the addressed device's uplink. */
  wrongTiming: number;
  /** Right instant, wrong frequency or data rate: the device would not hear it. */
  wrongChannel: number;
  /** Right instant for an earlier transmission the device has already moved on from. */
  lateDownlinks: number;
  /** Addressed to nobody listening (unknown DevAddr, no join outstanding) or refused by the device. */
  unmatchedDownlinks: number;
  undecodableDownlinks: number;
  sendErrors: number;
  pathUplinks: Record<string, number>;
  pathDownlinks: Record<string, number>;
}

export function emptyFarmStats(devices: number, pathNames: readonly string[]): FarmStats {
  const zero = () => Object.fromEntries(pathNames.map((n) => [n, 0]));
  return {
    devices,
    joinedDevices: 0,
    joinRequests: 0,
    joinAccepts: 0,
    joinRetries: 0,
    joinTimeouts: 0,
    devicesGaveUp: 0,
    uplinksSent: 0,
    confirmedSent: 0,
    acksReceived: 0,
    retransmissions: 0,
    confirmedUnacked: 0,
    transmissions: 0,
    downlinksHeard: 0,
    downlinksRx1: 0,
    downlinksRx2: 0,
    wrongTiming: 0,
    wrongChannel: 0,
    lateDownlinks: 0,
    unmatchedDownlinks: 0,
    undecodableDownlinks: 0,
    sendErrors: 0,
    pathUplinks: zero(),
    pathDownlinks: zero(),
  };
}
