/**
 * The network server's records: a registered device and its LoRaWAN session.
 * Both are plain JSON (keys and addresses as lower-case hex) so any repository
 * — the JSON state file here, RxDB later — can store them as they are.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { RegionId } from '../../proto/regions/types.js';

export type { RegionId };

/** How the payload of this device is turned into an object (kernel/codec). */
export type CodecRef = { kind: 'none' } | { kind: 'cayenne-lpp' } | { kind: 'js'; path: string };

export type Activation =
  | { mode: 'otaa'; joinEui: string; appKey: string }
  | { mode: 'abp'; devAddr: string; nwkSKey: string; appSKey: string };

export interface Device {
  /** 16 lower-case hex characters. */
  devEui: string;
  name: string;
  applicationId: string;
  regionId: RegionId;
  codec: CodecRef;
  activation: Activation;
  /** ABP devices that reset their counter on power loss: accept a smaller FCnt (not replay-safe). */
  skipFCntCheck: boolean;
  plotId?: string;
}

/**
 * One entry of the ADR history (ChirpStack keeps the last 20 uplinks).
 * Read-only: an update replaces the entry (recordAdrHistory), so session
 * copies can share entries instead of copying twenty objects per uplink.
 */
export interface AdrHistoryEntry {
  readonly fCnt: number;
  /** Best SNR among the receivers of this uplink. */
  readonly maxSnr: number;
  readonly gwCnt: number;
}

/** A MAC request the server sent and whose answer it waits for (LoRaWAN 1.0.4 §5). */
export type PendingMacRequest =
  | { cid: 'LinkADRReq'; dr: number; txPowerIndex: number; nbTrans: number }
  | { cid: 'RXParamSetupReq'; rx1DrOffset: number; rx2Dr: number; rx2FrequencyHz: number }
  | { cid: 'RXTimingSetupReq'; rxDelay: number }
  | { cid: 'NewChannelReq'; chIndex: number; frequencyHz: number; minDr: number; maxDr: number }
  | { cid: 'DevStatusReq' }
  | { cid: 'TxParamSetupReq' };

export interface DevStatus {
  /** 0 = external power, 1..254 = level, 255 = unknown (LoRaWAN 1.0.4 §5.5). */
  battery: number;
  /** Demodulation SNR margin of the last DevStatusReq, in dB (-32..31). */
  margin: number;
  at: string;
}

export interface DeviceSession {
  devEui: string;
  devAddr: string;
  nwkSKey: string;
  appSKey: string;
  /** Last accepted 32-bit uplink frame counter; absent before the first uplink. */
  fCntUp?: number;
  /** Frame counter the next downlink will use. */
  nFCntDown: number;
  rx1DrOffset: number;
  rx2Dr: number;
  rx2FrequencyHz: number;
  /** RX1 delay in seconds (1..15). */
  rxDelay: number;
  /** The data rate the device uses now (as seen on its last uplink or set by ADR). */
  dr: number;
  txPowerIndex: number;
  nbTrans: number;
  /** Read-only: an uplink replaces it (recordAdrHistory), so session copies share it. */
  adrHistory: readonly AdrHistoryEntry[];
  pendingMac: PendingMacRequest[];
  /** The device accepted a LinkADRReq, and with it the region's channel mask (the US915/AU915 sub-band). */
  channelMaskAcked?: boolean;
  /** The device answered the region's TxParamSetupReq (AS923 dwell time, AU915 MaxEIRP). */
  txParamsAcked?: boolean;
  /**
   * Uplink channels beyond the plan's defaults (dynamic plans) the device knows, by channel
   * index. Read-only: a change replaces the record, so session copies share it.
   */
  extraChannels: Readonly<Record<string, number>>;
  lastDevStatus?: DevStatus;
  /** When the last DevStatusReq went out (ISO), to pace them. */
  devStatusRequestedAt?: string;
  /** A confirmed application downlink waiting for the ACK bit in the next uplink. */
  pendingAck?: { downlinkId: string; fCntDown: number };
  joinedAt: string;
  /**
   * Which session of this device this is: 0 for the first, +1 at every join and at every
   * counter reset of a device allowed one (ABP with skipFCntCheck). It is part of every
   * stored uplink's identity, so FCnt 0 of a new session is a new uplink, not a duplicate.
   * Absent in sessions written before it existed: those are session 0.
   */
  generation?: number;
}

const HEX = /^[0-9a-fA-F]*$/;

/** Separators people type between hex bytes, as printed on labels: 70-B3-D5…, 70:b3:d5…, 70 B3 D5…. */
const HEX_SEPARATORS = /[\s:-]/g;

/**
 * Hex of exactly `bytes` bytes in lower case. Dashes, colons and spaces
 * between the digits and either case are accepted, as a label prints them.
 */
export function normalizeHex(input: unknown, bytes: number, field: string): string {
  const value = typeof input === 'string' ? input.replace(HEX_SEPARATORS, '') : input;
  if (typeof value !== 'string' || value.length !== bytes * 2 || !HEX.test(value)) {
    throw new MaverickError(
      ErrorCode.LorawanDeviceInvalid,
      `${field} must be ${bytes * 2} hex characters (${bytes} bytes), got ${JSON.stringify(input)}`,
      { hint: `give ${field} as hex, e.g. ${'0'.repeat(bytes * 2)}`, context: { field } },
    );
  }
  return value.toLowerCase();
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !HEX.test(hex)) {
    throw new MaverickError(
      ErrorCode.LorawanMalformed,
      `not an even-length hex string: ${JSON.stringify(hex)}`,
    );
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  // Native: the de-duplication key is the hex of every frame, a per-uplink cost.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A deep copy of a device record (hand-written: structuredClone costs ~70 µs per uplink here). */
export function cloneDevice(device: Device): Device {
  return { ...device, codec: { ...device.codec }, activation: { ...device.activation } };
}

/** A copy of a session record that shares nothing mutable with it. */
export function cloneSession(session: DeviceSession): DeviceSession {
  const copy: DeviceSession = {
    ...session,
    // The ADR history and the extra channels are read-only (replaced on change): shared.
    pendingMac: session.pendingMac.map((p) => ({ ...p })),
  };
  if (session.lastDevStatus) copy.lastDevStatus = { ...session.lastDevStatus };
  if (session.pendingAck) copy.pendingAck = { ...session.pendingAck };
  return copy;
}
