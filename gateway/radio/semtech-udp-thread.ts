/**
 * The Semtech UDP backend with its socket on a thread of its own
 * (semtech-udp-thread-worker.ts), for `maverick run`: the event loop can be
 * busy for tens of milliseconds (a burst of uplinks, sealing a bundle, a
 * garbage collection) while the thread keeps reading datagrams, so the
 * kernel's receive buffer never overflows. Same protocol, same counters and
 * same RadioBackend contract as the in-process backend (semtech-udp.ts), which
 * runs inside the thread; PUSH_DATA arrive here as bytes in batches and are
 * decoded here (semtech-udp-forwarded.ts).
 *
 * If the thread dies, pending downlinks resolve TIMEOUT, the state goes
 * `down`, and a new thread is started a second later.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { HELPER_THREAD_LIMITS, startModuleWorker } from '../../kernel/worker-module.js';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import type {
  RadioBackend,
  RadioBackendEvents,
  RadioBackendState,
  RadioCapabilities,
  TxAck,
  TxRequest,
} from '../../proto/radio.js';
import { readDatagramBatch } from './datagram-queue.js';
import { ackOf } from './semtech-udp-downlinks.js';
import { type ForwardedPushDataListener, readForwardedPushData } from './semtech-udp-forwarded.js';
import type { SemtechUdpBackendOptions } from './semtech-udp-options.js';
import type { GatewayRoute } from './semtech-udp-routes.js';
import { rebuildRadioError } from './semtech-udp-thread-errors.js';
import {
  type FromUdpThread,
  THREAD_COUNTER_NAMES,
  type ThreadSettings,
  type ToUdpThread,
} from './semtech-udp-thread-protocol.js';

const RESTART_AFTER_MS = 1000;
const LISTENER_ERRORS_AT = THREAD_COUNTER_NAMES.indexOf('listenerErrors');

interface Scheduled {
  resolve: (ack: TxAck) => void;
  reject: (err: unknown) => void;
  gatewayEui: string;
  id: number | undefined;
}

export class SemtechUdpThreadBackend extends EventEmitter<RadioBackendEvents> implements RadioBackend {
  readonly kind = 'semtech-udp' as const;
  readonly capabilities: RadioCapabilities = { downlink: true, timedDownlink: true };

  readonly #settings: ThreadSettings;
  readonly #log: Logger;
  #worker: Worker | undefined;
  #state: RadioBackendState = 'stopped';
  #address: { host: string; port: number; receiveBufferBytes: number } | undefined;
  /** The thread's counters as of its last message that carried them (THREAD_COUNTER_NAMES order). */
  #counterValues: number[] = [];
  #gateways: GatewayRoute[] = [];
  readonly #scheduled = new Map<number, Scheduled>();
  #nextId = 1;
  #listenerErrors = 0;
  /** PUSH_DATA the thread took that did not decode here (a bug: both sides use one decoder). */
  #forwardedUnreadable = 0;
  #threadRestarts = 0;
  #wanted = false;
  #restartTimer: NodeJS.Timeout | undefined;
  /** The consumer asked to hold uplinks back (holdUplinks): the last batch is not acknowledged. */
  #held = false;
  /** A batch was handled but not acknowledged to the thread because uplinks are held. */
  #owesTaken = false;
  #onStarted: ((outcome: FromUdpThread) => void) | undefined;
  #onStopped: (() => void) | undefined;

  constructor(options: SemtechUdpBackendOptions = {}) {
    super();
    const { logger, now: _now, ...settings } = options;
    this.#settings = settings;
    this.#log = logger ?? silentLogger;
  }

  get state(): RadioBackendState {
    return this.#state;
  }

  async start(): Promise<void> {
    if (this.#worker) return;
    this.#wanted = true;
    this.#setState('starting');
    const worker = startModuleWorker('./semtech-udp-thread-worker', import.meta.url, {
      workerData: this.#settings,
      resourceLimits: HELPER_THREAD_LIMITS,
    });
    this.#worker = worker;
    const outcome = new Promise<FromUdpThread>((resolve) => {
      this.#onStarted = resolve;
    });
    worker.on('message', (message: FromUdpThread) => this.#onMessage(message));
    worker.on('error', (err) => this.#log.error({ err: describeError(err) }, 'semtech-udp thread failed'));
    worker.on('exit', (code) => this.#onExit(worker, code));
    this.#post({ kind: 'start' });
    const result = await outcome;
    if (result.kind !== 'started') {
      this.#wanted = false;
      this.#worker = undefined;
      await worker.terminate();
      const error =
        result.kind === 'failed'
          ? rebuildRadioError(result.error)
          : new MaverickError(ErrorCode.RadioBind, 'semtech-udp: the receive thread ended while starting', {
              hint: 'run maverick doctor; the log above names the cause',
            });
      // The thread said `down` already when its own start failed.
      if (this.#state !== 'down') this.#setState('down', error.message);
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.#wanted = false;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const worker = this.#worker;
    if (worker) {
      const stopped = new Promise<void>((resolve) => {
        this.#onStopped = resolve;
      });
      this.#post({ kind: 'stop' });
      await stopped;
      this.#worker = undefined;
      await worker.terminate();
    }
    this.#settleAll('TIMEOUT');
    this.#address = undefined;
    this.#gateways = [];
    if (this.#state !== 'stopped') this.#setState('stopped');
  }

  /** The bound address; valid after start() (tests bind port 0 and read the real one here). */
  address(): { host: string; port: number } {
    const address = this.#started('address()');
    return { host: address.host, port: address.port };
  }

  /** The receive buffer the kernel granted the socket (bytes, as SO_RCVBUF reports it); valid after start(). */
  receiveBufferSize(): number {
    return this.#started('receiveBufferSize()').receiveBufferBytes;
  }

  /** Gateways that have pulled, with where their downlinks go (as of the thread's last message). */
  gateways(): GatewayRoute[] {
    return this.#gateways.map((g) => ({ ...g }));
  }

  counters(): Readonly<Record<string, number>> {
    return {
      ...this.#threadCounters(),
      listenerErrors: (this.#counterValues[LISTENER_ERRORS_AT] ?? 0) + this.#listenerErrors,
      threadRestarts: this.#threadRestarts,
      forwardedUnreadable: this.#forwardedUnreadable,
    };
  }

  schedule(tx: TxRequest): Promise<TxAck> {
    const gatewayEui = tx.gatewayEui.toLowerCase();
    if (!this.#worker || this.#state !== 'up') {
      return Promise.resolve(
        tx.id === undefined
          ? { gatewayEui, status: 'UNSUPPORTED' }
          : { gatewayEui, status: 'UNSUPPORTED', id: tx.id },
      );
    }
    const id = this.#nextId++;
    return new Promise<TxAck>((resolve, reject) => {
      this.#scheduled.set(id, { resolve, reject, gatewayEui, id: tx.id });
      this.#post({ kind: 'schedule', id, tx });
    });
  }

  /**
   * While held, the next batch waits in the thread (bounded there; what does not fit is dropped
   * and counted as uplinksDroppedThreadQueue) until released.
   */
  holdUplinks(held: boolean): void {
    this.#held = held;
    if (!held && this.#owesTaken) {
      this.#owesTaken = false;
      this.#post({ kind: 'taken' });
    }
  }

  #threadCounters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [i, name] of THREAD_COUNTER_NAMES.entries()) out[name] = this.#counterValues[i] ?? 0;
    return out;
  }

  #started(what: string): { host: string; port: number; receiveBufferBytes: number } {
    if (!this.#address) {
      throw new MaverickError(ErrorCode.RadioNotStarted, `semtech-udp: ${what} before start()`, {
        hint: 'await backend.start() first',
      });
    }
    return this.#address;
  }

  #post(message: ToUdpThread): void {
    this.#worker?.postMessage(message);
  }

  #onMessage(message: FromUdpThread): void {
    if (message.counters) this.#counterValues = message.counters;
    if (message.gateways) this.#gateways = message.gateways;
    switch (message.kind) {
      case 'push-data':
        readDatagramBatch(message.batch, (datagram, receivedAtMs) => this.#read(datagram, receivedAtMs));
        if (this.#held) this.#owesTaken = true;
        else this.#post({ kind: 'taken' });
        break;
      case 'state':
        // 'stopped' is ours to say once the thread is gone; 'starting' was said already.
        if (message.change.state !== 'stopped' && message.change.state !== 'starting') {
          this.#setState(message.change.state, message.change.detail);
        }
        break;
      case 'started':
        this.#address = {
          host: message.host,
          port: message.port,
          receiveBufferBytes: message.receiveBufferBytes,
        };
        this.#onStarted?.(message);
        this.#onStarted = undefined;
        break;
      case 'failed':
        this.#onStarted?.(message);
        this.#onStarted = undefined;
        break;
      case 'stopped':
        this.#onStopped?.();
        this.#onStopped = undefined;
        break;
      case 'scheduled':
        this.#scheduled.get(message.id)?.resolve(message.ack);
        this.#scheduled.delete(message.id);
        break;
      case 'schedule-failed':
        this.#scheduled.get(message.id)?.reject(rebuildRadioError(message.error));
        this.#scheduled.delete(message.id);
        break;
      case 'log':
        this.#log[message.level](message.fields, message.message);
        break;
      case 'snapshot':
        break;
    }
  }

  /** One PUSH_DATA the thread checked and answered, decoded again here into its events. */
  #read(datagram: Buffer, receivedAtMs: number): void {
    try {
      readForwardedPushData(datagram, receivedAtMs, this.#forwardedListener);
    } catch (err) {
      this.#forwardedUnreadable++;
      this.#log.error(
        { err: describeError(err) },
        'semtech-udp: a PUSH_DATA the thread accepted did not decode',
      );
    }
  }

  readonly #forwardedListener: ForwardedPushDataListener = {
    uplink: (uplink) => this.#emitSafely('uplink', uplink),
    stats: (stats) => this.#emitSafely('stats', stats),
  };

  /** The thread ended: expected after stop(); otherwise downlinks in flight time out and a new thread starts. */
  #onExit(worker: Worker, code: number): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#address = undefined;
    this.#owesTaken = false;
    this.#onStarted?.({ kind: 'stopped' });
    this.#onStarted = undefined;
    this.#onStopped?.();
    this.#onStopped = undefined;
    this.#settleAll('TIMEOUT');
    if (!this.#wanted) return;
    this.#log.error({ code }, 'semtech-udp receive thread ended; restarting it');
    this.#setState('down', `receive thread ended (code ${code})`);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#wanted) return;
      this.#threadRestarts++;
      this.start().catch((err: unknown) =>
        this.#log.error({ err: describeError(err) }, 'semtech-udp receive thread did not restart'),
      );
    }, RESTART_AFTER_MS);
  }

  #settleAll(status: 'TIMEOUT'): void {
    for (const waiting of this.#scheduled.values()) {
      waiting.resolve(ackOf(waiting.gatewayEui, status, waiting.id));
    }
    this.#scheduled.clear();
  }

  /** A throwing listener must not take the message handler (and the process) down with it. */
  #emitSafely<K extends keyof RadioBackendEvents>(event: K, ...args: RadioBackendEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: RadioBackendEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#listenerErrors++;
      this.#log.error({ event, err: describeError(err) }, 'semtech-udp listener threw');
    }
  }

  #setState(state: RadioBackendState, detail?: string): void {
    this.#state = state;
    this.#emitSafely('state', detail === undefined ? { state } : { state, detail });
  }
}
