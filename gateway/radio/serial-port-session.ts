/**
 * Keeps one serial port open for a radio backend: opens it through
 * @serialport/stream (default binding: the native one `serialport` ships,
 * @serialport/bindings-cpp; tests pass @serialport/binding-mock), and when the
 * device goes away (unplugged, pty closed, read error) reopens it by itself with
 * exponential backoff. All I/O is asynchronous: nothing here blocks the event loop.
 */
import { EventEmitter } from 'node:events';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { describeError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import type { BindingInterface } from './serial-binding-types.cjs';

export interface ReconnectOptions {
  /** First retry delay (ms); doubles on every failure. */
  initialMs: number;
  /** Ceiling of the retry delay (ms). */
  maxMs: number;
}

export interface SerialPortSessionOptions {
  path: string;
  baudRate: number;
  binding?: BindingInterface;
  reconnect: ReconnectOptions;
  logger: Logger;
}

/** What a serial backend's options say about its port; defaults filled in by `sessionOptions`. */
export interface SerialPortConfig {
  path: string;
  baudRate?: number;
  binding?: BindingInterface;
  reconnect?: Partial<ReconnectOptions>;
}

/** One place for the serial defaults every backend shares: 115200 baud, reconnect 0.5 s doubling to 30 s. */
export function sessionOptions(config: SerialPortConfig, logger: Logger): SerialPortSessionOptions {
  return {
    path: config.path,
    baudRate: config.baudRate ?? 115_200,
    logger,
    reconnect: {
      initialMs: config.reconnect?.initialMs ?? 500,
      maxMs: config.reconnect?.maxMs ?? 30_000,
    },
    ...(config.binding ? { binding: config.binding } : {}),
  };
}

export interface SerialPortSessionEvents {
  open: [];
  data: [Buffer];
  /** The open port went away; a reopen is scheduled. */
  lost: [string];
  /** An open attempt failed; a retry is scheduled. */
  'open-failed': [string];
}

export class SerialPortSession extends EventEmitter<SerialPortSessionEvents> {
  private port: SerialPortStream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private stopped = true;
  private readonly binding: BindingInterface;
  readonly stats = { opens: 0, openFailures: 0, disconnects: 0, writeErrors: 0 };

  constructor(private readonly options: SerialPortSessionOptions) {
    super();
    this.delayMs = options.reconnect.initialMs;
    this.binding = options.binding ?? (SerialPort.binding as BindingInterface);
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Makes the first open attempt; resolves once it has succeeded or a retry is scheduled. */
  start(): Promise<void> {
    this.stopped = false;
    return this.attempt();
  }

  /** Queues bytes for the device; false when the port is not open (the bytes are dropped). */
  write(bytes: Uint8Array): boolean {
    const port = this.port;
    if (!port?.isOpen) return false;
    port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    port?.removeAllListeners('data');
    port?.removeAllListeners('close');
  }

  private attempt(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return Promise.resolve();
    const port = new SerialPortStream({
      binding: this.binding,
      path: this.options.path,
      baudRate: this.options.baudRate,
      autoOpen: false,
    });
    // Late errors (a write racing an unplug) must never become an unhandled 'error' event.
    port.on('error', (err) => {
      this.stats.writeErrors++;
      this.options.logger.debug({ err: describeError(err), path: this.options.path }, 'serial port error');
    });
    return new Promise<void>((resolve) => {
      port.open((err) => {
        if (err || this.stopped) {
          if (this.stopped && !err) port.close();
          if (err) this.openFailed(describeError(err));
          resolve();
          return;
        }
        this.port = port;
        this.stats.opens++;
        this.delayMs = this.options.reconnect.initialMs;
        port.on('data', (chunk: Buffer) => this.emit('data', chunk));
        port.on('close', (closeErr: Error | null) => this.lost(port, closeErr));
        this.emit('open');
        resolve();
      });
    });
  }

  private openFailed(reason: string): void {
    this.stats.openFailures++;
    this.emit('open-failed', reason);
    this.scheduleRetry();
  }

  private lost(port: SerialPortStream, err: Error | null): void {
    if (this.port !== port) return; // closed by stop()
    this.port = undefined;
    port.removeAllListeners('data');
    this.stats.disconnects++;
    this.emit('lost', err ? describeError(err) : 'port closed');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.options.reconnect.maxMs);
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
  }
}
