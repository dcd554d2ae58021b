/** The Maverick serial concentrator protocol: framing, CRC, messages. See PROTOCOL.md. */
export * from './cobs.js';
export * from './codec.js';
export * from './constants.js';
export * from './crc16.js';
export * from './frame-decoder.js';
export type * from './messages.js';
