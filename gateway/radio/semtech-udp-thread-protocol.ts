/**
 * Messages between the event loop (semtech-udp-thread.ts) and the thread that
 * owns the Semtech UDP socket (semtech-udp-thread-worker.ts). Every message
 * from the thread carries a snapshot of its counters and routes, so the
 * event loop answers counters() and gateways() without asking.
 */
import type { LogLevel } from '../../proto/log.js';
import type { GatewayStats, RadioStateChange, TxAck, TxRequest } from '../../proto/radio.js';
import type { SemtechUdpBackendOptions } from './semtech-udp-options.js';
import type { GatewayRoute } from './semtech-udp-routes.js';

/** What crosses to the thread at start: everything but the logger and the clock (functions). */
export type ThreadSettings = Omit<SemtechUdpBackendOptions, 'logger' | 'now'>;

/** The thread's workerData. */
export interface ThreadStart {
  settings: ThreadSettings;
  /**
   * One Int32: batches of uplinks the event loop has taken so far. The event loop adds one per
   * batch (and wakes the thread, which may be blocked waiting for it: see the worker).
   */
  taken: SharedArrayBuffer;
  /** Memory the uplinks waiting for the event loop may take in the thread (default DEFAULT_MAX_WAITING_BYTES). */
  maxWaitingBytes?: number;
}

/**
 * What uplinks waiting in the thread may take (packedCost(): ~440 bytes each, so ~19,000 of them,
 * about 4 s at 5,000 uplinks/s); the kernel's receive buffer holds ~6,500 more (8 MiB of SO_RCVBUF
 * counts 1,280 bytes per small datagram on Linux) while the thread waits for the event loop.
 */
export const DEFAULT_MAX_WAITING_BYTES = 8 * 1024 * 1024;

export interface ThreadSnapshot {
  counters: Record<string, number>;
  gateways: GatewayRoute[];
}

/** A MaverickError's parts, to rebuild it on the other side. */
export interface FlatRadioError {
  code: number;
  message: string;
  hint?: string;
}

export type ToUdpThread =
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'schedule'; id: number; tx: TxRequest }
  /** The event loop has handed the last batch to its listeners: the next may come. */
  | { kind: 'taken' };

/** How often the thread sends its counters and routes when nothing else carried them. */
export const SNAPSHOT_MS = 500;

export type FromUdpThread = ThreadSnapshot &
  (
    | { kind: 'started'; host: string; port: number; receiveBufferBytes: number }
    | { kind: 'failed'; error: FlatRadioError }
    | { kind: 'stopped' }
    /** A batch of uplinks, packed (packed-uplinks.ts). */
    | { kind: 'uplinks'; packed: Uint8Array; count: number }
    | { kind: 'stats'; stats: GatewayStats }
    | { kind: 'state'; change: RadioStateChange }
    | { kind: 'scheduled'; id: number; ack: TxAck }
    | { kind: 'schedule-failed'; id: number; error: FlatRadioError }
    | { kind: 'log'; level: LogLevel; fields: Record<string, unknown>; message: string }
    /** Counters or routes changed since the last message (sent at most every SNAPSHOT_MS). */
    | { kind: 'snapshot' }
  );
