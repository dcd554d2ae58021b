/** What a NetworkServer is built with, and the events it emits (network-server.ts). */
import type { Logger } from '../../proto/log.js';
import type { RadioBackend, TimeSource } from '../../proto/radio.js';
import type { DownlinkStateStore } from './downlink-queue.js';
import type { Rejection } from './rejection.js';
import type { NetworkRepository } from './repository.js';
import type { SessionParameters } from './session.js';
import type { RegionId } from './types.js';
import type {
  AckEvent,
  DecodePayload,
  JoinEvent,
  LogEvent,
  ProcessedUplink,
  StatusEvent,
  TxAckEvent,
} from './uplink-types.js';

export interface NetworkServerOptions {
  repository: NetworkRepository;
  radios: RadioBackend[];
  /** Region of devices registered without one (default EU868). */
  regionId?: RegionId;
  /** NetID, 6 hex characters (default 000000). */
  netId?: string;
  /** How long to collect copies of one frame (default 200 ms); see Deduplicator for a sole receiver. */
  dedupWindowMs?: number;
  soleReceiverAfterMs?: number;
  decodePayload?: DecodePayload;
  /** Whether the host clock is NTP-synchronised; default 'host-unsynced'. */
  hostTimeSource?: () => TimeSource;
  logger?: Logger;
  /** Durably stores an uplink; the `up` event waits for it, and a failure withholds it. */
  beforePublish?: (uplink: ProcessedUplink) => Promise<void>;
  /** Receive-window settings the network wants per region (defaults: the region's). */
  sessionParameters?: Partial<Record<RegionId, Partial<SessionParameters>>>;
  /** DevStatusReq period in ms (default 24 h; 0 disables). */
  devStatusIntervalMs?: number;
  installationMarginDb?: number;
  /** Clock for duty-cycle bookkeeping (tests). */
  now?: () => number;
  /**
   * Memory that data frames between their MIC check and their publication may hold, over all
   * devices (default 32 MiB, each frame charged as backlog-budget.ts estimates); a frame beyond
   * it is dropped and counted (`uplinks_dropped_backlog`). Only a store that cannot keep up
   * fills it: a device's frames never wait for each other's commits.
   */
  maxBacklogBytes?: number;
  /**
   * Frame cost in flight past which radios that can hold uplinks back (the Semtech UDP thread)
   * are asked to, released below half of it; at most half of maxBacklogBytes. Default
   * DEFAULT_HOLD_BACKLOG_BYTES.
   */
  holdBacklogBytes?: number;
  /** Join requests waiting for their device's earlier ones, at most (default 32 per DevEUI). */
  maxPendingJoinsPerDevice?: number;
  /** Keeps the downlink queues and each gateway's duty-cycle use across restarts (kernel/db). */
  downlinkState?: DownlinkStateStore;
}

export interface NetworkServerEvents {
  up: [ProcessedUplink];
  join: [JoinEvent];
  ack: [AckEvent];
  txack: [TxAckEvent];
  status: [StatusEvent];
  log: [LogEvent];
  rejected: [Rejection];
}
