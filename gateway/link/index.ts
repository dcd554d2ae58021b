/** The gateway's links to the regional node: MQTT when IP is up, Iridium SBD messages otherwise. */
export { createMessageLink, MessageLink, type MessageLinkOptions } from './message-link.js';
export { createMqttLink, MqttLink, type MqttLinkOptions } from './mqtt-link.js';
export { openSbdModem, SbdModem, type SbdModemCounters, type SbdModemOptions } from './sbd-modem.js';
