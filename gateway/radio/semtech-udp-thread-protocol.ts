/**
 * Messages between the event loop (semtech-udp-thread.ts) and the thread that
 * owns the Semtech UDP socket (semtech-udp-thread-worker.ts). Every message
 * from the thread carries what changed of its counters and routes, so the
 * event loop answers counters() and gateways() without asking.
 */
import type { LogLevel } from '../../proto/log.js';
import type { RadioStateChange, TxAck, TxRequest } from '../../proto/radio.js';
import { SEMTECH_UDP_COUNTER_NAMES } from './semtech-udp-counters.js';
import type { SemtechUdpBackendOptions } from './semtech-udp-options.js';
import type { GatewayRoute } from './semtech-udp-routes.js';

/**
 * PUSH_DATA per batch at most. Small batches keep the event loop's share small: a batch is decoded
 * into uplinks all at once, and each lives until it is stored. bench/gateway-udp.bench.ts,
 * 1,000 devices at 5,000/s (then one uplink per datagram): peak RSS 177-190 MB with 64, 190-200
 * with 512, every uplink stored, less CPU per uplink (fewer objects promoted). After a hold the
 * event loop takes the backlog in bites of this size.
 */
export const UDP_THREAD_MAX_BATCH = 64;

/** What crosses to the thread at start: everything but the logger and the clock (functions). */
export type ThreadSettings = Omit<SemtechUdpBackendOptions, 'logger' | 'now' | 'forwardPushData'>;

/** The thread's counters: the backend's (SEMTECH_UDP_COUNTER_NAMES), then its own queue's drops. */
export const THREAD_COUNTER_NAMES: readonly string[] = [
  ...SEMTECH_UDP_COUNTER_NAMES,
  'uplinksDroppedThreadQueue',
];

/**
 * Carried by any message, each part only when it changed since the thread's last message: a
 * record of counters and a copy of the routes with every batch was most of what the thread
 * promoted to its old generation in a 5,000/s burst (8.7 of 11.9 MB sampled over 40 s).
 */
export interface ThreadSnapshot {
  /** Values in THREAD_COUNTER_NAMES order. */
  counters?: number[];
  gateways?: GatewayRoute[];
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
    /** PUSH_DATA packed by DatagramQueue.take: read with readDatagramBatch, decode with readForwardedPushData. */
    | { kind: 'push-data'; batch: ArrayBuffer }
    | { kind: 'state'; change: RadioStateChange }
    | { kind: 'scheduled'; id: number; ack: TxAck }
    | { kind: 'schedule-failed'; id: number; error: FlatRadioError }
    | { kind: 'log'; level: LogLevel; fields: Record<string, unknown>; message: string }
    /** Counters or routes changed since the last message (sent at most every SNAPSHOT_MS). */
    | { kind: 'snapshot' }
  );
