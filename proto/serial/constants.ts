/**
 * Numeric codes of the Maverick serial concentrator protocol (PROTOCOL.md is the
 * normative description; this file is its machine-readable twin).
 */
import type { TxAckError } from '../radio.js';

/** Protocol version carried in byte 0 of every frame. */
export const SERIAL_PROTOCOL_VERSION = 1;

/** Header: version u8, type u8, seq u16 LE. */
export const HEADER_BYTES = 4;
/** Trailer: CRC-16/CCITT-FALSE, u16 LE. */
export const CRC_BYTES = 2;
/** Longest LoRa PHY payload a concentrator can report (SX1301/SX1302 limit). */
export const MAX_PHY_PAYLOAD = 255;
/** Largest unstuffed frame (header + body + CRC): an RXPK with a 255-byte payload is 292. */
export const MAX_FRAME_BYTES = 300;
/** Largest COBS-encoded frame between two delimiters (MAX_FRAME_BYTES after stuffing). */
export const MAX_ENCODED_FRAME_BYTES = MAX_FRAME_BYTES + Math.ceil(MAX_FRAME_BYTES / 254) + 1;

export const MessageType = {
  helloRequest: 0x01,
  hello: 0x02,
  ping: 0x03,
  pong: 0x04,
  rxpk: 0x10,
  txpk: 0x20,
  txpkAck: 0x21,
  stat: 0x30,
} as const;

export const Modulation = { lora: 1, fsk: 2 } as const;

/** LoRa bandwidth codes (byte 1 of the datr field), in kHz. Index = code. */
export const BANDWIDTH_KHZ = [125, 250, 500, 7.8, 10.4, 15.6, 20.8, 31.25, 41.7, 62.5, 812.5] as const;

/** Coding-rate codes. Index = code; 0 means none (FSK). */
export const CODING_RATES = [undefined, '4/5', '4/6', '4/7', '4/8'] as const;

export const CrcStatus = { ok: 0, bad: 1, none: 2 } as const;
export type SerialCrcStatus = keyof typeof CrcStatus;

/** TXPK_ACK status codes. Index = code; mirrors Semtech txpk_ack.error (PROTOCOL.TXT §6). */
export const TX_ACK_STATUS_CODES = [
  'OK',
  'TOO_LATE',
  'TOO_EARLY',
  'COLLISION_PACKET',
  'COLLISION_BEACON',
  'TX_FREQ',
  'TX_POWER',
  'GPS_UNLOCKED',
] as const satisfies readonly ('OK' | TxAckError)[];
export type SerialTxAckStatus = (typeof TX_ACK_STATUS_CODES)[number];

/** HELLO capability bits. */
export const CapabilityBit = { timedTx: 0, gps: 1, fsk: 2, lbt: 3 } as const;
export type SerialCapability = keyof typeof CapabilityBit;

/** HELLO region bits (LoRaWAN Regional Parameters RP002 region names). */
export const REGION_BITS = [
  'EU868',
  'US915',
  'AU915',
  'AS923',
  'KR920',
  'IN865',
  'CN470',
  'RU864',
  'EU433',
  'CN779',
] as const;
export type SerialRegion = (typeof REGION_BITS)[number];

/** TXPK flag bits. */
export const TxFlag = { immediate: 0x01, invertPolarity: 0x02 } as const;
/** RXPK flag bits. */
export const RxFlag = { gpsTimeValid: 0x01 } as const;
