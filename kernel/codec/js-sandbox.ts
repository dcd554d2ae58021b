/**
 * Host side of the QuickJS codec sandbox: one worker thread (started lazily,
 * QuickJS loaded once per worker), requests serialised one at a time, and a
 * watchdog that terminates and replaces the worker when a call overruns its
 * hard deadline. Never rejects for codec misbehaviour: every outcome is a
 * `SandboxReply`.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { silentLogger } from '../../proto/log.js';
import { QUICKJS_WORKER_SOURCE } from './quickjs-worker-source.js';

export type SandboxFailure =
  | 'throw'
  | 'timeout'
  | 'memory'
  | 'stack'
  | 'load'
  | 'missing'
  | 'crash'
  | 'killed';

export type SandboxReply =
  | { ok: true; output?: string; exports?: { decodeUplink: boolean; encodeDownlink: boolean } }
  | { ok: false; kind: SandboxFailure; error: string };

export interface SandboxLimits {
  /** QuickJS heap per codec. */
  memoryBytes: number;
  /** QuickJS stack per codec (well under the WASM stack, so overflow stays a JS error). */
  stackBytes: number;
  /** Interrupt-handler deadline per call. */
  timeLimitMs: number;
  /** Interrupt-handler deadline for loading (compiling and running the file's top level). */
  loadLimitMs: number;
  /** Watchdog: terminate the worker when a call has not answered after this long. */
  hardLimitMs: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  memoryBytes: 16 * 1024 * 1024,
  stackBytes: 256 * 1024,
  timeLimitMs: 100,
  loadLimitMs: 1000,
  hardLimitMs: 1000,
};

type Request =
  | { op: 'load'; codecId: string; source: string; limits: Omit<SandboxLimits, 'hardLimitMs'> }
  | { op: 'call'; codecId: string; fn: 'decodeUplink' | 'encodeDownlink'; input: string }
  | { op: 'unload'; codecId: string };

interface WorkerReply {
  id?: number;
  ready?: boolean;
  ok?: boolean;
  kind?: SandboxFailure;
  error?: string;
  output?: string;
  exports?: { decodeUplink: boolean; encodeDownlink: boolean };
}

const quickjsPath = createRequire(import.meta.url).resolve('quickjs-emscripten');

export class QuickJsSandbox {
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;
  /** Bumped on every worker restart: codecs loaded into an older worker are gone. */
  generation = 0;
  restarts = 0;

  constructor(
    readonly limits: SandboxLimits = DEFAULT_LIMITS,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Loads (or replaces) a codec's source. */
  load(codecId: string, source: string): Promise<SandboxReply> {
    const { memoryBytes, stackBytes, timeLimitMs, loadLimitMs } = this.limits;
    return this.enqueue({
      op: 'load',
      codecId,
      source,
      limits: { memoryBytes, stackBytes, timeLimitMs, loadLimitMs },
    });
  }

  call(codecId: string, fn: 'decodeUplink' | 'encodeDownlink', input: string): Promise<SandboxReply> {
    return this.enqueue({ op: 'call', codecId, fn, input });
  }

  unload(codecId: string): Promise<SandboxReply> {
    return this.enqueue({ op: 'unload', codecId });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker) await worker.terminate();
  }

  private enqueue(request: Request): Promise<SandboxReply> {
    const run = this.queue.then(() => this.send(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private start(): Promise<Worker> {
    if (this.ready) return this.ready;
    const worker = new Worker(QUICKJS_WORKER_SOURCE, {
      eval: true,
      workerData: { quickjsPath },
      // The codec heap lives in WASM memory; this only bounds the worker's own JS.
      resourceLimits: { maxOldGenerationSizeMb: 64 },
      stdout: true,
      stderr: true,
    });
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<Worker>((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', settle);
        worker.off('exit', onExit);
        if (!err) return resolve(worker);
        this.forget(worker);
        void worker.terminate();
        reject(err);
      };
      const onMessage = (msg: WorkerReply) => {
        if (msg.ready) settle();
      };
      const onExit = (code: number) =>
        settle(
          new MaverickError(
            ErrorCode.LorawanCodec,
            `the codec worker exited with code ${code} while starting`,
          ),
        );
      // Loading QuickJS takes ~100 ms; a worker that never says "ready" must not hang every codec call.
      const timer = setTimeout(
        () => settle(new MaverickError(ErrorCode.LorawanCodec, 'the codec worker did not start within 10 s')),
        10_000,
      );
      worker.on('message', onMessage);
      worker.once('error', settle);
      worker.once('exit', onExit);
    });
    worker.on('exit', () => this.forget(worker));
    return this.ready;
  }

  private forget(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.ready = undefined;
    this.generation++;
  }

  private async send(request: Request): Promise<SandboxReply> {
    if (this.closed) return { ok: false, kind: 'crash', error: 'the codec sandbox is closed' };
    let worker: Worker;
    try {
      worker = await this.start();
    } catch (err) {
      return { ok: false, kind: 'crash', error: `the codec sandbox did not start: ${String(err)}` };
    }
    const id = this.nextId++;
    // The watchdog starts after the interrupt deadline has had its chance; loads get their longer budget.
    const hardLimitMs = this.limits.hardLimitMs + (request.op === 'load' ? this.limits.loadLimitMs : 0);
    return new Promise<SandboxReply>((resolve) => {
      const finish = (reply: SandboxReply) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(reply);
      };
      const onMessage = (msg: WorkerReply) => {
        if (msg.id !== id) return;
        if (msg.ok) finish({ ok: true, output: msg.output, exports: msg.exports });
        else finish({ ok: false, kind: msg.kind ?? 'crash', error: msg.error ?? 'unknown failure' });
      };
      const onExit = () =>
        finish({ ok: false, kind: 'crash', error: 'the codec sandbox stopped during the call' });
      const timer = setTimeout(() => {
        this.restarts++;
        this.log.warn(
          { codecId: request.codecId, op: request.op, hardLimitMs },
          'codec overran its hard time limit; restarting the sandbox',
        );
        this.forget(worker);
        finish({
          ok: false,
          kind: 'killed',
          error: `the codec ran past the hard limit of ${hardLimitMs} ms and was stopped`,
        });
        void worker.terminate();
      }, hardLimitMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage({ id, ...request });
    });
  }
}
