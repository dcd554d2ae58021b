/** The offline LoRaWAN 1.0.x Class A network server (see network-server.ts). */
export { type AdrDecision, adrDecision } from './adr.js';
export { type CollectedUplink, Deduplicator } from './dedup.js';
export { DownlinkQueue, type DownlinkRequest, type QueuedDownlink } from './downlink-queue.js';
export { FileNetworkRepository } from './file-repository.js';
export { JoinServer } from './join-server.js';
export { NetworkServer, type NetworkServerEvents, type NetworkServerOptions } from './network-server.js';
export { type AddDeviceInput, addDevice, listDevices, removeDevice, validateDevice } from './registry.js';
export type { Rejection, RejectionReason } from './rejection.js';
export type { ActiveDevice, NetworkRepository } from './repository.js';
export { defaultDeviceSession, type SessionParameters, sessionParameters } from './session.js';
export * from './types.js';
export { UplinkProcessor } from './uplink.js';
export type * from './uplink-types.js';
