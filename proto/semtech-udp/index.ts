/** Semtech packet-forwarder UDP protocol v2 codec: pure, I/O free. See README.md. */
export * from './constants.js';
export { decodeDatagram } from './decode.js';
export * from './encode.js';
export { hzToMhz, mhzToHz } from './frequency.js';
export * from './packets.js';
export { type CrcStatus, encodeRxpk, type RxpkInput, type RxpkOutcome, type SemtechUplink } from './rxpk.js';
export type { SemtechStat } from './stat.js';
export { decodeTxpk, encodeTxpk, type Txpk, txpkFromTxRequest } from './txpk.js';
