/** The decoded shape of every message of the Maverick serial concentrator protocol. */
import type { DataRate } from '../radio.js';
import type { SerialCapability, SerialCrcStatus, SerialRegion, SerialTxAckStatus } from './constants.js';

interface Base {
  /** u16 sequence number; a response echoes the sequence number of its request. */
  seq: number;
}

/** Host → MCU: "who are you?" (also sent again whenever the host reopens the port). */
export interface HelloRequestMessage extends Base {
  type: 'hello-request';
}

/** MCU → host: firmware identity and capabilities. */
export interface HelloMessage extends Base {
  type: 'hello';
  firmware: { major: number; minor: number; patch: number };
  /** Highest protocol version the firmware speaks. */
  protocolVersion: number;
  capabilities: Record<SerialCapability, boolean>;
  /** Number of IF channels the concentrator demodulates. */
  channels: number;
  rfChains: number;
  regions: SerialRegion[];
  /** Largest PHY payload the MCU accepts in a TXPK. */
  maxPayload: number;
}

/** Host → MCU heartbeat. */
export interface PingMessage extends Base {
  type: 'ping';
}

/** MCU → host heartbeat answer, with the MCU counter at the moment of replying. */
export interface PongMessage extends Base {
  type: 'pong';
  tmst: number;
}

/** MCU → host: one received LoRa/FSK packet (Semtech rxpk). */
export interface RxpkMessage extends Base {
  type: 'rxpk';
  /** MCU µs counter at end of reception, wrapping u32. */
  tmst: number;
  frequencyHz: number;
  channel: number;
  rfChain: number;
  dataRate: DataRate;
  /** "4/5".."4/8"; absent for FSK. */
  codingRate?: string;
  rssi: number;
  /** SNR in dB, a multiple of 0.25 (sent as a quarter-dB integer). */
  snr: number;
  crc: SerialCrcStatus;
  /** Milliseconds since the GPS epoch, when the MCU has a GPS fix. */
  tmms?: number;
  payload: Uint8Array;
}

/** Host → MCU: transmit a packet (Semtech txpk). */
export interface TxpkMessage extends Base {
  type: 'txpk';
  /** u16 correlating the TXPK_ACK. */
  id: number;
  /** Send now rather than at `tmst`. */
  immediate: boolean;
  tmst: number;
  frequencyHz: number;
  rfChain: number;
  powerDbm: number;
  dataRate: DataRate;
  codingRate?: string;
  invertPolarity: boolean;
  preamble: number;
  payload: Uint8Array;
}

/** MCU → host: outcome of a TXPK. */
export interface TxpkAckMessage extends Base {
  type: 'txpk-ack';
  id: number;
  status: SerialTxAckStatus;
}

/** MCU → host: counters since MCU boot (Semtech stat). */
export interface StatMessage extends Base {
  type: 'stat';
  rxReceived: number;
  rxOk: number;
  rxForwarded: number;
  txReceived: number;
  txEmitted: number;
  /** Frames from the host the MCU dropped (bad CRC, bad COBS, oversize). */
  hostFramesBad: number;
  uptimeS: number;
}

export type SerialMessage =
  | HelloRequestMessage
  | HelloMessage
  | PingMessage
  | PongMessage
  | RxpkMessage
  | TxpkMessage
  | TxpkAckMessage
  | StatMessage;

export type SerialMessageType = SerialMessage['type'];
