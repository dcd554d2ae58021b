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
 * datagram. What waits here is bounded by memory (MAX_WAITING_BYTES): when
 * the bound is reached while the event loop still has the last batch (it is
 * behind, or holds uplinks back), the thread stops reading the socket until
 * the event loop takes it, and the datagrams wait in the kernel's receive
 * buffer (SO_RCVBUF, 8 MiB asked). Waiting uplinks are kept packed as bytes
 * (packed-uplinks.ts), not as objects on this thread's heap. The
 * thread blocks for that (Atomics.wait on a counter the event loop raises
 * with every batch it takes): a forwarder's datagram is then dropped only if
 * the kernel's buffer fills too, and the kernel counts it (RcvbufErrors).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type LogFn, type Logger, type LogLevel, loggerOf } from '../../proto/log.js';
import { packedCost, UplinkPacker } from './packed-uplinks.js';
import { SemtechUdpBackend } from './semtech-udp.js';
import { flattenRadioError } from './semtech-udp-thread-errors.js';
import {
  DEFAULT_MAX_WAITING_BYTES,
  type FromUdpThread,
  SNAPSHOT_MS,
  type ThreadSnapshot,
  type ThreadStart,
  type ToUdpThread,
} from './semtech-udp-thread-protocol.js';

/** Uplinks per batch at most: after a hold, the event loop takes the backlog in bites, not at once. */
const MAX_BATCH = 512;

const port = parentPort;
if (!port) throw new Error('semtech-udp-thread-worker runs as a worker thread only');
const {
  settings,
  taken: takenCount,
  maxWaitingBytes = DEFAULT_MAX_WAITING_BYTES,
} = workerData as ThreadStart;
/** Batches the event loop has taken so far (it adds one per batch; see ThreadStart.taken). */
const batchesTaken = new Int32Array(takenCount);

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
/** Uplinks waiting for the event loop, packed in batches of MAX_BATCH at most; the last one fills. */
const waiting: UplinkPacker[] = [new UplinkPacker()];
/** What the waiting uplinks take, as packedCost() estimates it. */
let waitingBytes = 0;
let waitingCount = 0;
/** Batches posted to the event loop so far; the last is taken once batchesTaken reaches it. */
let batchesPosted = 0;
/** Times the thread stopped reading the socket because the event loop had not taken the last batch. */
let readPauses = 0;
let flushQueued = false;

function lastBatchTaken(): boolean {
  return Atomics.load(batchesTaken, 0) === batchesPosted;
}

/** The snapshot the event loop saw last, serialised: a timer sends a new one only when it differs. */
let lastSnapshot = '';

function snapshot(): ThreadSnapshot {
  return {
    counters: { ...backend.counters(), readPauses, waitingUplinks: waitingCount },
    gateways: backend.gateways(),
  };
}

function post(message: DistributiveOmit<FromUdpThread, keyof ThreadSnapshot>): void {
  const current = snapshot();
  lastSnapshot = JSON.stringify(current);
  port?.postMessage({ ...message, ...current } as FromUdpThread);
}

// Counters also move without a message to carry them (a PUSH_ACK's send completing).
setInterval(() => {
  if (JSON.stringify(snapshot()) !== lastSnapshot) post({ kind: 'snapshot' });
}, SNAPSHOT_MS).unref();

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function flush(): void {
  flushQueued = false;
  const first = waiting[0] as UplinkPacker;
  if (!lastBatchTaken() || first.count === 0) return;
  if (waiting.length > 1) waiting.shift();
  waitingBytes -= first.bytes;
  waitingCount -= first.count;
  const { packed, count } = first.take();
  batchesPosted++;
  post({ kind: 'uplinks', packed, count });
}

/**
 * The waiting uplinks fill their budget: post a batch if the event loop took the last one, else
 * stop reading (block this thread) until it does. Datagrams meanwhile wait in the kernel.
 */
function makeRoom(): void {
  if (!lastBatchTaken()) {
    readPauses++;
    // Returns at once if the count moved on between the check and the wait.
    while (!lastBatchTaken()) Atomics.wait(batchesTaken, 0, batchesPosted - 1);
  }
  flush();
}

backend.on('uplink', (uplink) => {
  let last = waiting[waiting.length - 1] as UplinkPacker;
  if (last.count >= MAX_BATCH) {
    last = new UplinkPacker();
    waiting.push(last);
  }
  last.add(uplink);
  waitingBytes += packedCost(uplink);
  waitingCount++;
  if (waitingBytes >= maxWaitingBytes) return makeRoom();
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
      // The count in shared memory says which batch; this message only wakes an idle thread.
      flush();
      break;
  }
});
