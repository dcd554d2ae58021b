/** What the uplink pipeline produces and the events the network server emits. */
import type { DataRate, RxMetadata, TimeSource } from '../../proto/radio.js';
import type { CodecRef, DevStatus, RegionId } from './types.js';

/** The device fields every event carries (ChirpStack's `deviceInfo`). */
export interface DeviceInfo {
  devEui: string;
  name: string;
  applicationId: string;
  regionId: RegionId;
  codec: CodecRef;
  plotId?: string;
}

export interface DecodeResult {
  object?: Record<string, unknown>;
  warnings: string[];
  errors: string[];
}

/** The payload codec hook (kernel/codec provides it). Whatever it throws becomes an entry in `errors`. */
export type DecodePayload = (
  device: DeviceInfo,
  fPort: number,
  bytes: Uint8Array,
  receivedAt: Date,
) => Promise<DecodeResult>;

export interface ProcessedUplink {
  device: DeviceInfo;
  devAddr: string;
  /** Full 32-bit frame counter. */
  fCnt: number;
  /** The device session it belongs to (DeviceSession.generation): with fCnt, the uplink's identity. */
  session: number;
  fPort?: number;
  confirmed: boolean;
  adr: boolean;
  dr: number;
  /** Decrypted FRMPayload (application payload; empty when there is none). */
  data: Uint8Array;
  object?: Record<string, unknown>;
  warnings: string[];
  errors: string[];
  /** Every receiver, best SNR first. */
  rxInfo: RxMetadata[];
  txInfo: { frequencyHz: number; dataRate: DataRate };
  /** ISO 8601 reception time, and where it came from. */
  time: string;
  timeSource: TimeSource;
  phyPayload: Uint8Array;
}

export interface JoinEvent {
  device: DeviceInfo;
  devAddr: string;
  joinNonce: number;
  time: string;
  rxInfo: RxMetadata[];
}

export interface AckEvent {
  device: DeviceInfo;
  downlinkId: string;
  acknowledged: boolean;
  fCntDown: number;
}

export interface TxAckEvent {
  device: DeviceInfo;
  /** The application downlink it carried, if any (absent for MAC-only frames and join accepts). */
  downlinkId?: string;
  fCntDown?: number;
  gatewayEui: string;
  window: 'rx1' | 'rx2';
  status: string;
  frequencyHz: number;
  dr: number;
}

export interface StatusEvent extends DevStatus {
  device: DeviceInfo;
}

export interface LogEvent {
  device?: DeviceInfo;
  level: 'info' | 'warn' | 'error';
  code: string;
  description: string;
  context?: Record<string, unknown>;
}
