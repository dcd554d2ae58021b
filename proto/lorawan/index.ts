/** LoRaWAN 1.0.x protocol layer: PHY codec, crypto, OTAA, frame counters, MAC commands. */
export * from './bytes.js';
export * from './crypto.js';
export * from './fcnt.js';
export * from './join.js';
export * from './mac.js';
export * from './phy.js';
export * from './types.js';
