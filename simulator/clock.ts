/**
 * SimClock: simulated time for the field in a box. A farm day must pass in
 * seconds, so devices never look at the host clock: they schedule their next
 * transmission on this clock, and their GPS time and concentrator counters are
 * derived from it.
 *
 * Two modes:
 * - free-running (`speed: N`): simulated time runs N× faster than real time and
 *   due callbacks fire from real timers (the demo);
 * - stepped (no `speed`): time stands still until the test calls `advance()`,
 *   which fires every due callback in time order and awaits each one, so a
 *   test gets back-pressure and a deterministic order of events.
 */
import { ErrorCode, MaverickError } from '../proto/errors.js';

export type ClockCallback = () => void | Promise<void>;

export interface SimClockOptions {
  /** Simulated Unix time (ms) at start; default 2026-06-01T00:00:00Z. */
  startMs?: number;
  /** Free-running speed-up factor (> 0); absent for a stepped clock. */
  speed?: number;
  /** Called when a callback throws or rejects; default: rethrown by the next advance() / kept in `errors`. */
  onError?: (err: unknown) => void;
}

interface Entry {
  atMs: number;
  seq: number;
  fn: ClockCallback;
  cancelled: boolean;
}

export interface ScheduledCallback {
  readonly atMs: number;
  cancel(): void;
}

const DEFAULT_START_MS = Date.UTC(2026, 5, 1);

export class SimClock {
  readonly startMs: number;
  readonly speed: number | undefined;
  /** Errors thrown by callbacks that had no onError to go to. */
  readonly errors: unknown[] = [];
  private readonly onError: ((err: unknown) => void) | undefined;
  private readonly queue: Entry[] = [];
  private seq = 0;
  private steppedNow: number;
  private realStart = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private advancing = false;

  constructor(options: SimClockOptions = {}) {
    this.startMs = options.startMs ?? DEFAULT_START_MS;
    if (options.speed !== undefined && !(options.speed > 0 && Number.isFinite(options.speed))) {
      throw new MaverickError(
        ErrorCode.ConfigInvalid,
        `clock speed must be a positive number, got ${options.speed}`,
        {
          hint: 'e.g. speed: 1000 for a thousand simulated seconds per real second',
          context: { field: 'speed' },
        },
      );
    }
    this.speed = options.speed;
    this.onError = options.onError;
    this.steppedNow = this.startMs;
  }

  get freeRunning(): boolean {
    return this.speed !== undefined;
  }

  /** Simulated Unix time in whole ms. */
  now(): number {
    if (this.speed === undefined || !this.running) return this.steppedNow;
    return this.steppedNow + Math.floor((performance.now() - this.realStart) * this.speed);
  }

  /** Simulated ms since the clock's start. */
  elapsedMs(): number {
    return this.now() - this.startMs;
  }

  /** Starts a free-running clock (a stepped clock needs no start). */
  start(): void {
    if (this.speed === undefined || this.running) return;
    this.realStart = performance.now();
    this.running = true;
    this.arm();
  }

  /** Freezes a free-running clock and drops its timer; scheduled callbacks stay queued. */
  stop(): void {
    if (this.speed !== undefined && this.running) {
      this.steppedNow = this.now();
      this.running = false;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs `fn` when simulated time reaches `atMs` (at once on the next step if it is already past). */
  at(atMs: number, fn: ClockCallback): ScheduledCallback {
    if (!Number.isFinite(atMs)) {
      throw new MaverickError(ErrorCode.ConfigInvalid, `cannot schedule at ${atMs}`, {
        hint: 'pass a finite simulated Unix time in ms',
      });
    }
    // Whole milliseconds: GPS times and counters derived from the clock stay integers.
    const entry: Entry = { atMs: Math.ceil(atMs), seq: this.seq++, fn, cancelled: false };
    // Sorted insert (by time, then by scheduling order): queues stay in the hundreds.
    let i = this.queue.length;
    while (i > 0 && this.compare(this.queue[i - 1] as Entry, entry) > 0) i--;
    this.queue.splice(i, 0, entry);
    if (this.running && i === 0) this.arm();
    return {
      atMs: entry.atMs,
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Runs `fn` after `delayMs` of simulated time. */
  after(delayMs: number, fn: ClockCallback): ScheduledCallback {
    return this.at(this.now() + Math.max(0, delayMs), fn);
  }

  /** Number of callbacks waiting. */
  get pending(): number {
    return this.queue.filter((e) => !e.cancelled).length;
  }

  /** Simulated time of the next callback, if any. */
  nextAt(): number | undefined {
    return this.queue.find((e) => !e.cancelled)?.atMs;
  }

  /**
   * Stepped clock: moves time forward by `ms`, running every callback due on
   * the way in order (time is set to each one's instant while it runs) and
   * awaiting each before the next.
   */
  async advance(ms: number): Promise<void> {
    if (this.speed !== undefined) {
      throw new MaverickError(ErrorCode.ConfigInvalid, 'advance() is for a stepped clock', {
        hint: 'create the SimClock without `speed` to step it from a test',
      });
    }
    if (this.advancing) {
      throw new MaverickError(ErrorCode.ConfigInvalid, 'advance() called while another advance() runs', {
        hint: 'await each advance() before the next; callbacks must not advance the clock',
      });
    }
    this.advancing = true;
    const target = this.steppedNow + Math.round(Math.max(0, ms));
    try {
      for (;;) {
        const entry = this.queue[0];
        if (!entry || entry.atMs > target) break;
        this.queue.shift();
        if (entry.cancelled) continue;
        this.steppedNow = Math.max(this.steppedNow, entry.atMs);
        await this.invoke(entry);
      }
      this.steppedNow = target;
    } finally {
      this.advancing = false;
    }
  }

  /** Waits until callbacks started by a free-running clock have settled. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private compare(a: Entry, b: Entry): number {
    return a.atMs - b.atMs || a.seq - b.seq;
  }

  private async invoke(entry: Entry): Promise<void> {
    try {
      await entry.fn();
    } catch (err) {
      if (this.onError) this.onError(err);
      else this.errors.push(err);
    }
  }

  /** Free-running: one real timer for the earliest callback. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.queue[0];
    if (!this.running || !next || this.speed === undefined) return;
    const delayRealMs = Math.max(0, (next.atMs - this.now()) / this.speed);
    // Node clamps timers above 2^31-1 ms; re-arming on wake-up covers longer waits.
    this.timer = setTimeout(() => this.fireDue(), Math.min(delayRealMs, 2 ** 31 - 1));
  }

  private fireDue(): void {
    this.timer = undefined;
    const now = this.now();
    while (this.queue.length > 0 && (this.queue[0] as Entry).atMs <= now) {
      const entry = this.queue.shift() as Entry;
      if (entry.cancelled) continue;
      // Free-running callbacks overlap like independent radios do; each is tracked for idle().
      const run = this.invoke(entry);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
    this.arm();
  }
}
