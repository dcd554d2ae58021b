/** Wire formats of the regional link: MQTT topics and acks, message-link frames, Iridium SBD AT responses. */
export * from './fragment.js';
export * from './sbd-at.js';
export * from './status.js';
export * from './topics.js';
export type { MessageTransport } from './transport.js';
