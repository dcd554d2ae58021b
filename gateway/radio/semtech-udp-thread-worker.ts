/**
 * The thread that owns the Semtech UDP socket (started by semtech-udp-thread.ts).
 * It runs the in-process backend (semtech-udp.ts): reads every datagram as
 * soon as the kernel has it, answers PUSH_ACK and PULL_ACK, checks and counts
 * each PUSH_DATA, keeps the routes and the downlinks waiting for TX_ACK. The
 * event loop, however busy it is with the network server and the store, can
 * then never let the socket's receive buffer overflow (a forwarder never
 * resends a PUSH_DATA: a datagram the kernel drops is an uplink lost).
 *
 * A PUSH_DATA that carries uplinks or a stat goes on to the event loop as its
 * bytes (semtech-udp-forwarded.ts decodes it there), in batches, one batch at
 * a time: the next is posted when the event loop says it took the last one,
 * so a busy event loop takes in what arrived meanwhile in one piece instead of
 * a message per datagram. What waits here waits as bytes (DatagramQueue), so
 * a backlog of tens of thousands leaves this thread's heap as it was, and it
 * is bounded (MAX_WAITING_DATAGRAMS, MAX_WAITING_BYTES).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type LogFn, type Logger, type LogLevel, loggerOf } from '../../proto/log.js';
import { DatagramQueue } from './datagram-queue.js';
import { SemtechUdpBackend } from './semtech-udp.js';
import { SEMTECH_UDP_COUNTER_NAMES } from './semtech-udp-counters.js';
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
 * PUSH_DATA waiting for the event loop at most (20 s at 5,000 uplinks/s), and their bytes at most;
 * more are dropped and their uplinks counted. A forwarder never resends, so this is sized for a
 * whole burst on a machine whose event loop drains slower than the burst arrives, not for the
 * usual few hundred.
 */
const MAX_WAITING_DATAGRAMS = 100_000;
const MAX_WAITING_BYTES = 64 * 1024 * 1024;
const MAX_BATCH = UDP_THREAD_MAX_BATCH;

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

/** PUSH_DATA answered and checked here, waiting as bytes for the event loop to take them. */
const waiting = new DatagramQueue();
let droppedWaiting = 0;
/** Whether the event loop has taken the last batch posted. */
let taken = true;
let flushQueued = false;

const backend = new SemtechUdpBackend({
  ...settings,
  logger: forwardingLogger({}),
  forwardPushData(datagram, receivedAtMs, uplinks) {
    if (waiting.size >= MAX_WAITING_DATAGRAMS || waiting.byteLength >= MAX_WAITING_BYTES) {
      droppedWaiting += uplinks;
      return;
    }
    waiting.push(datagram, receivedAtMs);
    // After this round of datagrams: the batch carries all that the socket held.
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  },
});

/**
 * The counters the event loop saw last (THREAD_COUNTER_NAMES order), overwritten in place as they
 * are read, and the routes' version it saw last: a message carries only what changed since.
 */
const counterValues: number[] = [];
let routesVersionSent = -1;

function snapshotChanges(): ThreadSnapshot {
  const changes: ThreadSnapshot = {};
  let changed = backend.readCounters(counterValues);
  const droppedAt = SEMTECH_UDP_COUNTER_NAMES.length;
  if (counterValues[droppedAt] !== droppedWaiting) {
    counterValues[droppedAt] = droppedWaiting;
    changed = true;
  }
  if (changed) changes.counters = counterValues;
  if (backend.routesVersion !== routesVersionSent) {
    routesVersionSent = backend.routesVersion;
    changes.gateways = backend.gateways();
  }
  return changes;
}

function post(
  message: DistributiveOmit<FromUdpThread, keyof ThreadSnapshot>,
  transfer: ArrayBuffer[] = [],
): void {
  // postMessage copies counterValues before it returns, so the array is reused.
  port?.postMessage({ ...message, ...snapshotChanges() } as FromUdpThread, transfer);
}

// Counters also move without a message to carry them (a PUSH_ACK's send completing).
setInterval(() => {
  const changes = snapshotChanges();
  if (changes.counters || changes.gateways)
    port?.postMessage({ kind: 'snapshot', ...changes } as FromUdpThread);
}, SNAPSHOT_MS).unref();

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function flush(): void {
  flushQueued = false;
  if (!taken || waiting.size === 0) return;
  taken = false;
  const batch = waiting.take(MAX_BATCH);
  post({ kind: 'push-data', batch }, [batch]);
}

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
