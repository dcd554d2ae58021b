/**
 * Messages between the event loop (semtech-udp-thread.ts) and the thread that
 * owns the Semtech UDP socket (semtech-udp-thread-worker.ts). Every message
 * from the thread carries a snapshot of its counters and routes, so the
 * event loop answers counters() and gateways() without asking.
 */
import type { LogLevel } from '../../proto/log.js';
import type { RadioStateChange, TxAck, TxRequest } from '../../proto/radio.js';
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
    /** PUSH_DATA packed by DatagramQueue.take: read with readDatagramBatch, decode with readForwardedPushData. */
    | { kind: 'push-data'; batch: ArrayBuffer }
    | { kind: 'state'; change: RadioStateChange }
    | { kind: 'scheduled'; id: number; ack: TxAck }
    | { kind: 'schedule-failed'; id: number; error: FlatRadioError }
    | { kind: 'log'; level: LogLevel; fields: Record<string, unknown>; message: string }
    /** Counters or routes changed since the last message (sent at most every SNAPSHOT_MS). */
    | { kind: 'snapshot' }
  );
