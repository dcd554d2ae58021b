/**
 * The fixed binary header of every datagram (PROTOCOL.TXT §3.2-§5.5):
 * byte 0 protocol version, bytes 1-2 random token, byte 3 identifier,
 * bytes 4-11 gateway EUI for PUSH_DATA / PULL_DATA / TX_ACK.
 */
import { ErrorCode } from '../errors.js';
import {
  ACCEPTED_PROTOCOL_VERSIONS,
  HEADER_BYTES,
  MAX_DATAGRAM_BYTES,
  PACKET_TYPE_NAMES,
  type PacketTypeName,
  type ProtocolVersion,
} from './constants.js';
import { badInput, wireError } from './wire-error.js';

export interface Header {
  version: ProtocolVersion;
  token: number;
  type: PacketTypeName;
}

export function readHeader(bytes: Uint8Array): Header {
  if (bytes.length > MAX_DATAGRAM_BYTES) {
    throw wireError(
      ErrorCode.WireOversize,
      `datagram of ${bytes.length} bytes exceeds ${MAX_DATAGRAM_BYTES}`,
      {
        length: bytes.length,
      },
    );
  }
  if (bytes.length < HEADER_BYTES) {
    throw wireError(
      ErrorCode.WireTruncated,
      `datagram of ${bytes.length} bytes is shorter than the 4-byte header`,
      {
        length: bytes.length,
      },
    );
  }
  const version = bytes[0]!;
  if (!ACCEPTED_PROTOCOL_VERSIONS.includes(version)) {
    throw wireError(ErrorCode.WireBadVersion, `protocol version ${version} is not 1 or 2`, { version });
  }
  const id = bytes[3]!;
  const type = PACKET_TYPE_NAMES[id];
  if (type === undefined) {
    throw wireError(ErrorCode.WireBadIdentifier, `unknown packet identifier 0x${hex2(id)}`, {
      identifier: id,
    });
  }
  // Token is two raw bytes; we read it big-endian (the forwarder treats it as opaque).
  return { version: version as ProtocolVersion, token: (bytes[1]! << 8) | bytes[2]!, type };
}

export function writeHeader(out: Uint8Array, version: ProtocolVersion, token: number, id: number): void {
  if (!Number.isInteger(token) || token < 0 || token > 0xffff) {
    throw badInput('token', 'must be a u16', token);
  }
  out[0] = version;
  out[1] = token >>> 8;
  out[2] = token & 0xff;
  out[3] = id;
}

/** Gateway EUI bytes 4-11 as 16 lower-case hex characters (the form RxMetadata uses). */
export function readEui(bytes: Uint8Array, offset: number): string {
  let s = '';
  for (let i = offset; i < offset + 8; i++) s += hex2(bytes[i]!);
  return s;
}

const EUI_PATTERN = /^[0-9a-fA-F]{16}$/;

export function writeEui(out: Uint8Array, offset: number, eui: string): void {
  if (!EUI_PATTERN.test(eui)) {
    throw wireError(ErrorCode.WireBadField, `gateway EUI ${JSON.stringify(eui)} is not 16 hex characters`, {
      eui,
    });
  }
  for (let i = 0; i < 8; i++) out[offset + i] = Number.parseInt(eui.slice(i * 2, i * 2 + 2), 16);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
