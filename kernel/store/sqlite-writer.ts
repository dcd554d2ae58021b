/**
 * The event loop's side of the SQLite writer thread (sqlite-writer-worker.ts):
 * sends a write transaction as a list of statements and resolves when it has
 * committed, so a COMMIT's fsync never blocks the event loop. Reads stay on
 * the event loop's own connection (WAL: readers never wait for the writer,
 * and see every transaction that has committed).
 *
 * One thread serves every database file of the process (one V8 isolate, not
 * one per file); it is started at the first write, so read-only users (the
 * `maverick uplinks` CLI) never start one.
 */
import type { Worker } from 'node:worker_threads';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { HELPER_THREAD_LIMITS, startModuleWorker } from '../worker-module.js';
import {
  type FromWriter,
  rebuildError,
  type StepGroup,
  type ToWriter,
  type WriterSettings,
} from './sqlite-writer-protocol.js';

export type WriteOutcome = { kind: 'committed' } | { kind: 'stale'; step: number };

interface Waiting {
  resolve: (outcome: WriteOutcome) => void;
  reject: (err: unknown) => void;
}

/** How long release() waits for the writer thread to close a file's connection. */
const CLOSE_WAIT_MS = 10_000;

/** The process's writer thread; replaced by a new one if it ever dies. */
class WriterThread {
  private static current: WriterThread | undefined;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private failure: MaverickError | undefined;

  static shared(): WriterThread {
    if (!WriterThread.current || WriterThread.current.failure) WriterThread.current = new WriterThread();
    return WriterThread.current;
  }

  private constructor() {
    this.worker = startModuleWorker('./sqlite-writer-worker', import.meta.url, {
      resourceLimits: HELPER_THREAD_LIMITS,
    });
    this.worker.on('message', (message: FromWriter) => this.onMessage(message));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread exited (code ${code})`)));
    // The thread keeps the process alive only while a request waits for its answer (see `request`).
    // After the listeners: adding a 'message' listener refs the thread's port again.
    this.worker.unref();
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  request(make: (id: number) => ToWriter): Promise<WriteOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<WriteOutcome>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage(make(id));
    });
  }

  post(message: ToWriter): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  private onMessage(message: FromWriter): void {
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (message.kind === 'committed') waiting.resolve({ kind: 'committed' });
    else if (message.kind === 'stale') waiting.resolve({ kind: 'stale', step: message.step });
    else waiting.reject(rebuildError(message.error));
  }

  /** The thread is gone: every request waiting fails with the reason; the next user starts a new thread. */
  private fail(err: unknown): void {
    this.failure ??=
      err instanceof MaverickError
        ? err
        : new MaverickError(ErrorCode.StoreIo, `The SQLite writer thread failed: ${String(err)}`, {
            hint: 'restart the gateway; if it keeps happening, run maverick doctor',
            cause: err,
          });
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
  }
}

/** One database file's write connection on the writer thread. */
export class SqliteWriter {
  private readonly thread = WriterThread.shared();
  private readonly closedFlag = new Int32Array(new SharedArrayBuffer(4));
  private isClosed = false;

  constructor(private readonly settings: WriterSettings) {
    // A failed open is answered to every write sent to the file, with the reason.
    this.thread.request((id) => ({ kind: 'open', id, ...settings })).catch(() => {});
  }

  /** Runs the groups' steps in one transaction on the writer thread; resolves after COMMIT (or `stale`, rolled back). */
  write(operation: string, groups: StepGroup[]): Promise<WriteOutcome> {
    if (this.isClosed) return Promise.reject(this.closedError());
    const file = this.settings.file;
    return this.thread.request((id) => ({ kind: 'write', id, file, operation, groups }));
  }

  /** Applies a connection setting (e.g. `max_page_count = N`) on the writer's connection too. */
  pragma(statement: string): Promise<WriteOutcome> {
    if (this.isClosed) return Promise.reject(this.closedError());
    const file = this.settings.file;
    return this.thread.request((id) => ({ kind: 'pragma', id, file, statement }));
  }

  /**
   * Closes the writer's connection to the file after the writes already sent,
   * and waits (blocking, bounded) until it is closed, so the file can be
   * deleted or re-opened right after.
   */
  closeSync(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.thread.failed) return;
    this.thread.post({ kind: 'close', file: this.settings.file, closed: this.closedFlag });
    Atomics.wait(this.closedFlag, 0, 0, CLOSE_WAIT_MS);
  }

  private closedError(): MaverickError {
    return new MaverickError(ErrorCode.StoreClosed, `The database ${this.settings.file} is already closed`, {
      hint: 'open the store again before writing',
    });
  }
}
