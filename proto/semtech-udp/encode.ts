/** Encoders for all six packet types: the server side uses the ACKs and PULL_RESP, the simulator the rest. */
import type { TxAckError } from '../radio.js';
import {
  HEADER_BYTES,
  HEADER_WITH_EUI_BYTES,
  PacketId,
  PROTOCOL_VERSION,
  type ProtocolVersion,
} from './constants.js';
import { writeEui, writeHeader } from './header.js';
import { encodeJson, type JsonObject } from './json-payload.js';
import type { TxAckErrorName } from './packets.js';
import { encodeRxpk, type RxpkInput } from './rxpk.js';
import { encodeStat, type SemtechStat } from './stat.js';
import { encodeTxpk, type Txpk } from './txpk.js';

export interface EncodeBase {
  token: number;
  /** Defaults to 2; answer a v1 forwarder with 1. */
  version?: ProtocolVersion;
}

export interface EncodePushDataInput extends EncodeBase {
  gatewayEui: string;
  rxpk?: RxpkInput[];
  stat?: Omit<SemtechStat, 'gatewayEui'>;
}

export function encodePushData(input: EncodePushDataInput): Uint8Array {
  const json: JsonObject = {};
  if (input.rxpk && input.rxpk.length > 0) json.rxpk = input.rxpk.map(encodeRxpk);
  if (input.stat) json.stat = encodeStat(input.stat);
  return withEuiAndJson(input, PacketId.PUSH_DATA, input.gatewayEui, json);
}

export function encodePushAck(input: EncodeBase): Uint8Array {
  return headerOnly(input, PacketId.PUSH_ACK);
}

export function encodePullData(input: EncodeBase & { gatewayEui: string }): Uint8Array {
  return withEuiAndJson(input, PacketId.PULL_DATA, input.gatewayEui, undefined);
}

export function encodePullResp(input: EncodeBase & { txpk: Txpk }): Uint8Array {
  const body = encodeJson({ txpk: encodeTxpk(input.txpk) });
  const out = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(out, input.version ?? PROTOCOL_VERSION, input.token, PacketId.PULL_RESP);
  out.set(body, HEADER_BYTES);
  return out;
}

export function encodePullAck(input: EncodeBase): Uint8Array {
  return headerOnly(input, PacketId.PULL_ACK);
}

export interface EncodeTxAckInput extends EncodeBase {
  gatewayEui: string;
  /** Omitted: an empty TX_ACK (no JSON), which means success. */
  error?: TxAckErrorName | TxAckError;
}

export function encodeTxAck(input: EncodeTxAckInput): Uint8Array {
  const json = input.error === undefined ? undefined : { txpk_ack: { error: input.error } };
  return withEuiAndJson(input, PacketId.TX_ACK, input.gatewayEui, json);
}

function headerOnly(input: EncodeBase, id: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeHeader(out, input.version ?? PROTOCOL_VERSION, input.token, id);
  return out;
}

function withEuiAndJson(
  input: EncodeBase,
  id: number,
  eui: string,
  json: JsonObject | undefined,
): Uint8Array {
  const body = json === undefined ? undefined : encodeJson(json);
  const out = new Uint8Array(HEADER_WITH_EUI_BYTES + (body?.length ?? 0));
  writeHeader(out, input.version ?? PROTOCOL_VERSION, input.token, id);
  writeEui(out, 4, eui);
  if (body) out.set(body, HEADER_WITH_EUI_BYTES);
  return out;
}
