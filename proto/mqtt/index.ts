/** ChirpStack v4-compatible MQTT topics, event JSON and downlink commands (pure). */
export * from './command.js';
export * from './events.js';
export * from './metadata.js';
export * from './name-uuid.js';
export * from './topics.js';
