/**
 * How busy the event loop is: its utilisation (the share of time it ran
 * callbacks rather than waited for I/O) over the last whole window, sampled
 * by a timer. Background work (sealing) asks `busy()` before it starts and
 * between its steps, and waits while uplinks keep the loop busy.
 *
 * Why utilisation and not a queue length: a 5,000 uplinks/s burst that the
 * pipeline keeps up with leaves almost nothing queued (bench/gateway-udp:
 * under 1,000 uplinks between MIC check and publication), yet a seal started
 * in it took the event loop the burst needed; its documents on top of the
 * burst's raised the peak resident memory by ~15-30 MB and, without the UDP
 * thread, lost datagrams at the socket.
 */
import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/** Reads the loop's utilisation since start-up, or since `previous` (performance.eventLoopUtilization). */
export type UtilizationReader = (
  current?: EventLoopUtilization,
  previous?: EventLoopUtilization,
) => EventLoopUtilization;

export interface LoadGaugeOptions {
  /** Length of a sampling window (default 1 s). */
  windowMs?: number;
  /** Utilisation from which the loop counts as busy (default 0.5: half its time running callbacks). */
  busyFrom?: number;
  /** Injected in tests; performance.eventLoopUtilization by default. */
  read?: UtilizationReader;
}

export class LoadGauge {
  private readonly windowMs: number;
  private readonly busyFrom: number;
  private readonly read: UtilizationReader;
  private timer: NodeJS.Timeout | undefined;
  private windowStart: EventLoopUtilization | undefined;
  private lastWindow = 0;

  constructor(options: LoadGaugeOptions = {}) {
    this.windowMs = options.windowMs ?? 1000;
    this.busyFrom = options.busyFrom ?? 0.5;
    this.read = options.read ?? ((current, previous) => performance.eventLoopUtilization(current, previous));
  }

  start(): void {
    this.stop();
    this.windowStart = this.read();
    this.timer = setInterval(() => this.sample(), this.windowMs);
    // A gauge never keeps the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Utilisation of the last whole window (0 before the first one ends). */
  utilization(): number {
    return this.lastWindow;
  }

  busy(): boolean {
    return this.lastWindow >= this.busyFrom;
  }

  private sample(): void {
    const now = this.read();
    if (this.windowStart) this.lastWindow = this.read(now, this.windowStart).utilization;
    this.windowStart = now;
  }
}
