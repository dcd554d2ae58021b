/**
 * Constants of the Semtech packet-forwarder UDP protocol ("Basic communication protocol between
 * Lora gateway and server", Semtech PROTOCOL.TXT of Lora-net/packet_forwarder, protocol v2).
 */

/** Packet identifiers, byte 3 of every datagram (PROTOCOL.TXT §3, §5). */
export const PacketId = {
  PUSH_DATA: 0x00,
  PUSH_ACK: 0x01,
  PULL_DATA: 0x02,
  PULL_RESP: 0x03,
  PULL_ACK: 0x04,
  TX_ACK: 0x05,
} as const;

export type PacketTypeName = keyof typeof PacketId;

export const PACKET_TYPE_NAMES: readonly PacketTypeName[] = [
  'PUSH_DATA',
  'PUSH_ACK',
  'PULL_DATA',
  'PULL_RESP',
  'PULL_ACK',
  'TX_ACK',
];

/** Versions accepted on input; v1 forwarders never send TX_ACK but are otherwise identical. */
export const ACCEPTED_PROTOCOL_VERSIONS: readonly number[] = [1, 2];
/** The version we emit unless we are answering a v1 forwarder. */
export const PROTOCOL_VERSION = 2;
export type ProtocolVersion = 1 | 2;

/** Bytes of the common header: version, token (2), identifier. */
export const HEADER_BYTES = 4;
/** Header plus the 8-byte gateway EUI (PUSH_DATA, PULL_DATA, TX_ACK). */
export const HEADER_WITH_EUI_BYTES = 12;

/**
 * Largest datagram we parse: the largest UDP payload over IPv4. Anything bigger cannot have come
 * off a socket and is refused before any JSON work.
 */
export const MAX_DATAGRAM_BYTES = 65_507;

/** More rxpk entries than any concentrator can report in one datagram (the forwarder sends <= 8..16). */
export const MAX_RXPK_PER_DATAGRAM = 255;

/** A LoRa PHYPayload is at most 255 bytes (one length byte on air). */
export const MAX_PHY_PAYLOAD_BYTES = 255;
