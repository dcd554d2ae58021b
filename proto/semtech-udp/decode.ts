/**
 * decodeDatagram: bytes off the socket -> one SemtechPacket, or a MaverickError in the wire range
 * (WireTruncated, WireBadVersion, WireBadIdentifier, WireBadJson, WireBadField, WireOversize).
 * Nothing else is ever thrown; bad rxpk entries are reported per entry inside PUSH_DATA.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { TX_ACK_ERRORS } from '../radio.js';
import {
  HEADER_BYTES,
  HEADER_WITH_EUI_BYTES,
  MAX_RXPK_PER_DATAGRAM,
  type PacketTypeName,
} from './constants.js';
import { type Header, readEui, readHeader } from './header.js';
import { isJsonObject, type JsonObject, own, parseJsonObject } from './json-payload.js';
import type { PushDataPacket, SemtechPacket, TxAckErrorName } from './packets.js';
import { decodeRxpk } from './rxpk.js';
import { decodeStat } from './stat.js';
import { decodeTxpk } from './txpk.js';
import { badField, wireError } from './wire-error.js';

export function decodeDatagram(bytes: Uint8Array): SemtechPacket {
  const header = readHeader(bytes);
  const { version, token } = header;
  switch (header.type) {
    case 'PUSH_ACK':
    case 'PULL_ACK':
      expectLength(bytes, header, HEADER_BYTES);
      return { type: header.type, version, token };
    case 'PULL_DATA':
      expectLength(bytes, header, HEADER_WITH_EUI_BYTES);
      return { type: 'PULL_DATA', version, token, gatewayEui: readEui(bytes, 4) };
    case 'PUSH_DATA':
      expectAtLeast(bytes, header, HEADER_WITH_EUI_BYTES + 2);
      return decodePushData(header, readEui(bytes, 4), parseJsonObject(bytes, 12, 'PUSH_DATA'));
    case 'PULL_RESP': {
      expectAtLeast(bytes, header, HEADER_BYTES + 2);
      const json = parseJsonObject(bytes, HEADER_BYTES, 'PULL_RESP');
      return { type: 'PULL_RESP', version, token, txpk: decodeTxpk(own(json, 'txpk')) };
    }
    case 'TX_ACK': {
      expectAtLeast(bytes, header, HEADER_WITH_EUI_BYTES);
      const gatewayEui = readEui(bytes, 4);
      const error = decodeTxAckError(bytes);
      return error === undefined
        ? { type: 'TX_ACK', version, token, gatewayEui }
        : { type: 'TX_ACK', version, token, gatewayEui, error };
    }
  }
}

function decodePushData(header: Header, gatewayEui: string, json: JsonObject): PushDataPacket {
  const packet: PushDataPacket = {
    type: 'PUSH_DATA',
    version: header.version,
    token: header.token,
    gatewayEui,
    rxpk: [],
  };
  const rxpk = own(json, 'rxpk');
  if (rxpk !== undefined) {
    if (!Array.isArray(rxpk)) throw badField('rxpk', 'must be an array', rxpk);
    if (rxpk.length > MAX_RXPK_PER_DATAGRAM) {
      throw wireError(
        ErrorCode.WireOversize,
        `rxpk has ${rxpk.length} entries, more than ${MAX_RXPK_PER_DATAGRAM}`,
      );
    }
    packet.rxpk = rxpk.map((entry: unknown, i) => decodeRxpk(entry, i, gatewayEui));
  }
  const stat = own(json, 'stat');
  if (stat !== undefined) {
    try {
      packet.stat = decodeStat(stat, gatewayEui);
    } catch (err) {
      if (!(err instanceof MaverickError)) throw err;
      packet.statError = err.message;
    }
  }
  return packet;
}

/** PROTOCOL.TXT §5.5: bytes 12-end are an optional JSON object; empty means no error. */
function decodeTxAckError(bytes: Uint8Array): TxAckErrorName | undefined {
  let start = HEADER_WITH_EUI_BYTES;
  while (start < bytes.length && isBlank(bytes[start]!)) start++;
  let end = bytes.length;
  while (end > start && isBlank(bytes[end - 1]!)) end--;
  if (start === end) return undefined;
  const json = parseJsonObject(bytes.subarray(0, end), start, 'TX_ACK');
  const ack = own(json, 'txpk_ack');
  if (ack === undefined) return undefined;
  if (!isJsonObject(ack)) throw badField('txpk_ack', 'must be an object', ack);
  const error = own(ack, 'error');
  if (error === undefined) return undefined;
  if (
    error === 'NONE' ||
    (typeof error === 'string' && (TX_ACK_ERRORS as readonly string[]).includes(error))
  ) {
    return error as TxAckErrorName;
  }
  throw badField('txpk_ack.error', `must be NONE or one of ${TX_ACK_ERRORS.join(', ')}`, error);
}

function isBlank(byte: number): boolean {
  return byte === 0 || byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function expectLength(bytes: Uint8Array, header: Header, length: number): void {
  if (bytes.length < length) throw truncated(header.type, bytes.length, length);
  if (bytes.length > length) {
    throw wireError(ErrorCode.WireOversize, `${header.type} must be ${length} bytes, got ${bytes.length}`, {
      length: bytes.length,
    });
  }
}

function expectAtLeast(bytes: Uint8Array, header: Header, length: number): void {
  if (bytes.length < length) throw truncated(header.type, bytes.length, length);
}

function truncated(type: PacketTypeName, got: number, need: number): MaverickError {
  return wireError(ErrorCode.WireTruncated, `${type} of ${got} bytes is truncated (needs at least ${need})`, {
    length: got,
  });
}
