/** The six packet types of the protocol as one discriminated union (PROTOCOL.TXT §3, §5). */
import type { TxAckError } from '../radio.js';
import type { ProtocolVersion } from './constants.js';
import type { RxpkOutcome } from './rxpk.js';
import type { SemtechStat } from './stat.js';
import type { Txpk } from './txpk.js';

interface PacketBase {
  version: ProtocolVersion;
  /** The 16-bit token of bytes 1-2 (random from the sender; echoed by acknowledgements). */
  token: number;
}

/** Gateway -> server: received frames and/or status. */
export interface PushDataPacket extends PacketBase {
  type: 'PUSH_DATA';
  gatewayEui: string;
  /** One outcome per `rxpk` entry, in order: good frames and the reason each bad one was dropped. */
  rxpk: RxpkOutcome[];
  stat?: SemtechStat;
  /** Why `stat` was present but unusable (the frames of the datagram are still delivered). */
  statError?: string;
}

/** Server -> gateway: PUSH_DATA received. */
export interface PushAckPacket extends PacketBase {
  type: 'PUSH_ACK';
}

/** Gateway -> server: keep-alive that opens the downlink route. */
export interface PullDataPacket extends PacketBase {
  type: 'PULL_DATA';
  gatewayEui: string;
}

/** Server -> gateway: transmit this (`txpk`). The token correlates the TX_ACK (v2). */
export interface PullRespPacket extends PacketBase {
  type: 'PULL_RESP';
  txpk: Txpk;
}

/** Server -> gateway: PULL_DATA received, route open. */
export interface PullAckPacket extends PacketBase {
  type: 'PULL_ACK';
}

/** `txpk_ack.error`: NONE means accepted. */
export type TxAckErrorName = 'NONE' | TxAckError;

/** Gateway -> server: result of a PULL_RESP, same token (v2 only). */
export interface TxAckPacket extends PacketBase {
  type: 'TX_ACK';
  gatewayEui: string;
  /** Absent when the forwarder sent no JSON, which PROTOCOL.TXT §5.5 defines as "no error". */
  error?: TxAckErrorName;
}

export type SemtechPacket =
  | PushDataPacket
  | PushAckPacket
  | PullDataPacket
  | PullRespPacket
  | PullAckPacket
  | TxAckPacket;

/** TX_ACK outcome as a RadioBackend status: NONE or no JSON at all is OK, anything else is that error. */
export function txAckStatus(error: TxAckErrorName | undefined): 'OK' | TxAckError {
  return error === undefined || error === 'NONE' ? 'OK' : error;
}
