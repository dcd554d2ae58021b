/**
 * The thread that owns the Semtech UDP socket (started by semtech-udp-thread.ts).
 * It runs the in-process backend (semtech-udp.ts) unchanged: reads every
 * datagram as soon as the kernel has it, answers PUSH_ACK and PULL_ACK,
 * parses the JSON and base64, keeps the routes and the downlinks waiting for
 * TX_ACK. The event loop, however busy it is with the network server and the
 * store, can then never let the socket's receive buffer overflow (a forwarder
 * never resends a PUSH_DATA: a datagram the kernel drops is an uplink lost).
 *
 * Uplinks go to the event loop in batches, one batch at a time: the next is
 * posted when the event loop says it took the last one, so a busy event loop
 * takes in what arrived meanwhile in one piece instead of a message per
 * datagram, and what waits here is bounded (MAX_WAITING_UPLINKS).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type LogFn, type Logger, type LogLevel, loggerOf } from '../../proto/log.js';
import type { RadioUplink } from '../../proto/radio.js';
import { CompactQueue } from './compact-queue.js';
import { SemtechUdpBackend } from './semtech-udp.js';
import { flattenRadioError } from './semtech-udp-thread-errors.js';
import {
  type FromUdpThread,
  SNAPSHOT_MS,
  type ThreadSettings,
  type ThreadSnapshot,
  type ToUdpThread,
  UDP_THREAD_MAX_BATCH,
} from './semtech-udp-thread-protocol.js';

/**
 * Uplinks waiting for the event loop at most (20 s at 5,000 uplinks/s); more are dropped and
 * counted. A forwarder never resends, so this is sized for a whole burst on a machine whose event
 * loop drains slower than the burst arrives, not for the usual few hundred.
 */
const MAX_WAITING_UPLINKS = 100_000;
const MAX_BATCH = UDP_THREAD_MAX_BATCH;
/**
 * Uplinks waiting as objects at most (the next two batches); the rest wait serialised
 * (CompactQueue: a few hundred bytes each instead of ~1.4 KB of heap) and are read back here,
 * on this thread, as batches leave. A 1,000-device burst the event loop drained at ~2,000/s left
 * ~40,000 uplinks here and this thread's heap at ~60 MB.
 */
const WAITING_AS_OBJECTS = 2 * MAX_BATCH;

const port = parentPort;
if (!port) throw new Error('semtech-udp-thread-worker runs as a worker thread only');
const settings = workerData as ThreadSettings;

/** Log lines go to the event loop's logger (pino is not shared between threads). */
function forwardingLogger(bindings: Record<string, unknown>): Logger {
  const at =
    (level: LogLevel): LogFn =>
    (first: Record<string, unknown> | string, message?: string) => {
      const fields = typeof first === 'string' ? bindings : { ...bindings, ...first };
      post({ kind: 'log', level, fields, message: typeof first === 'string' ? first : (message ?? '') });
    };
  return loggerOf(at, (more) => forwardingLogger({ ...bindings, ...more }));
}

const backend = new SemtechUdpBackend({ ...settings, logger: forwardingLogger({}) });
let waiting: RadioUplink[] = [];
/** Uplinks that arrived while `WAITING_AS_OBJECTS` were waiting, in order after `waiting`. */
const overflow = new CompactQueue<RadioUplink>();
let droppedWaiting = 0;
/** Whether the event loop has taken the last batch posted. */
let taken = true;
let flushQueued = false;

/** The snapshot the event loop saw last, serialised: a timer sends a new one only when it differs. */
let lastSnapshot = '';

function snapshot(): ThreadSnapshot {
  return {
    counters: { ...backend.counters(), uplinksDroppedThreadQueue: droppedWaiting },
    gateways: backend.gateways(),
  };
}

function post(
  message: DistributiveOmit<FromUdpThread, keyof ThreadSnapshot>,
  transfer: ArrayBuffer[] = [],
): void {
  const current = snapshot();
  lastSnapshot = JSON.stringify(current);
  port?.postMessage({ ...message, ...current } as FromUdpThread, transfer);
}

/**
 * Copies the batch's PHYPayloads into one buffer of exactly their size, to be transferred
 * (not copied) with the batch. Each payload is a view of a larger buffer here (an 8 KiB pool
 * slab of a base64 decode, or a 1 MiB chunk of the compact queue), and the structured clone of
 * a view copies the whole buffer under it: a batch read back from the queue arrived on the event
 * loop as a 1 MiB copy, kept alive until the last of its uplinks was stored (4 MiB of one
 * commit's 15 MiB in a heap snapshot of the 1,000-device burst).
 */
function packPayloads(batch: RadioUplink[]): ArrayBuffer {
  let total = 0;
  for (const uplink of batch) total += uplink.phyPayload.byteLength;
  const packed = new Uint8Array(total);
  let at = 0;
  for (const uplink of batch) {
    const length = uplink.phyPayload.byteLength;
    packed.set(uplink.phyPayload, at);
    uplink.phyPayload = packed.subarray(at, at + length);
    at += length;
  }
  return packed.buffer;
}

// Counters also move without a message to carry them (a PUSH_ACK's send completing).
setInterval(() => {
  if (JSON.stringify(snapshot()) !== lastSnapshot) post({ kind: 'snapshot' });
}, SNAPSHOT_MS).unref();

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Moves uplinks from the serialised overflow to the objects waiting, up to `WAITING_AS_OBJECTS`. */
function refill(): void {
  while (waiting.length < WAITING_AS_OBJECTS && overflow.size > 0)
    waiting.push(overflow.shift() as RadioUplink);
}

function flush(): void {
  flushQueued = false;
  refill();
  if (!taken || waiting.length === 0) return;
  taken = false;
  let batch = waiting;
  if (waiting.length <= MAX_BATCH) waiting = [];
  else batch = waiting.splice(0, MAX_BATCH);
  post({ kind: 'uplinks', uplinks: batch }, [packPayloads(batch)]);
  refill();
}

backend.on('uplink', (uplink) => {
  if (waiting.length + overflow.size >= MAX_WAITING_UPLINKS) {
    droppedWaiting++;
    return;
  }
  // Once any wait serialised, later ones do too: they leave in the order they came.
  if (overflow.size > 0 || waiting.length >= WAITING_AS_OBJECTS) overflow.push(uplink);
  else waiting.push(uplink);
  // After this round of datagrams: the batch carries all that the socket held.
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
});
backend.on('stats', (stats) => post({ kind: 'stats', stats }));
backend.on('state', (change) => post({ kind: 'state', change }));

port.on('message', (message: ToUdpThread) => {
  switch (message.kind) {
    case 'start':
      backend.start().then(
        () => {
          const { host, port: boundPort } = backend.address();
          post({ kind: 'started', host, port: boundPort, receiveBufferBytes: backend.receiveBufferSize() });
        },
        (err: unknown) => post({ kind: 'failed', error: flattenRadioError(err) }),
      );
      break;
    case 'stop':
      void backend.stop().then(() => {
        post({ kind: 'stopped' });
        port.close();
      });
      break;
    case 'schedule':
      backend.schedule(message.tx).then(
        (ack) => post({ kind: 'scheduled', id: message.id, ack }),
        (err: unknown) => post({ kind: 'schedule-failed', id: message.id, error: flattenRadioError(err) }),
      );
      break;
    case 'taken':
      taken = true;
      flush();
      break;
  }
});
