/**
 * A warning that may happen for every frame (a window skipped for duty cycle, a downlink that found
 * no window) logged once per interval at most, with how many times it happened since the last line:
 * under a burst a line per frame floods the log of a gateway that is already behind, and the
 * application still hears of each one (tx-ack events).
 */
import type { Logger } from '../../proto/log.js';

export class ThrottledWarning {
  private lastMs = Number.NEGATIVE_INFINITY;
  private since = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one occurrence; logs it (with `occurrences` since the last line) when the interval has passed. */
  warn(fields: Record<string, unknown>): void {
    this.since++;
    const now = this.now();
    if (now - this.lastMs < this.everyMs) return;
    this.logger.warn({ ...fields, occurrences: this.since }, this.message);
    this.lastMs = now;
    this.since = 0;
  }
}
