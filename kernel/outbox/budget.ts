/**
 * Spending limits of one link: a token bucket caps the bandwidth (bytes per
 * second with a burst), a window budget caps one link-up period (a satellite
 * pass, one IP connection) and a daily budget caps a UTC day. The daily count
 * is persisted, so a restart does not reset what the farm already paid for.
 */
import type { OutboxStore, SpendGate, SpendPurpose } from './types.js';

export interface LinkBudgetOptions {
  /** Bandwidth cap in bytes per second (token refill rate); unlimited when absent. */
  bytesPerSecond?: number;
  /** Bucket size in bytes (default: one second of bandwidth, at least 1 KiB). */
  burstBytes?: number;
  /** Bytes per link-up window; unlimited when absent. */
  windowBytes?: number;
  /** Bytes per UTC day; unlimited when absent. */
  dailyBytes?: number;
  /**
   * The share of `dailyBytes` that resends without a reply ('repeat' spends:
   * probes for a lost status) may take per UTC day (default 0.25): a
   * regional node that stays silent cannot eat the day's credit.
   */
  repeatShare?: number;
}

export const DEFAULT_REPEAT_SHARE = 0.25;

const DAY_MS = 86_400_000;

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.updatedAt) * this.ratePerSecond) / 1000);
    this.updatedAt = t;
  }

  /** Takes `n` tokens if there are enough; a request larger than the bucket is allowed from a full bucket. */
  tryTake(n: number): boolean {
    this.refill();
    if (this.tokens >= Math.min(n, this.capacity)) {
      this.tokens -= n;
      return true;
    }
    return false;
  }

  /** Milliseconds until `n` tokens are there. */
  waitMs(n: number): number {
    this.refill();
    const missing = Math.min(n, this.capacity) - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }
}

export class LinkBudget implements SpendGate {
  private readonly bucket: TokenBucket | undefined;
  private windowSpent = 0;
  private day = -1;
  private daySpent = 0;
  private dayRepeats = 0;

  constructor(
    readonly link: string,
    private readonly options: LinkBudgetOptions,
    private readonly store: OutboxStore,
    private readonly now: () => number,
  ) {
    if (options.bytesPerSecond !== undefined) {
      const burst = options.burstBytes ?? Math.max(1024, options.bytesPerSecond);
      this.bucket = new TokenBucket(options.bytesPerSecond, burst, now);
    }
  }

  /** A new link-up window starts: the window budget is available again. */
  startWindow(): void {
    this.windowSpent = 0;
  }

  private counterKey(day: number): string {
    return `outbox:spent:${this.link}:${day}`;
  }

  private repeatKey(day: number): string {
    return `outbox:repeats:${this.link}:${day}`;
  }

  private async loadDay(): Promise<void> {
    const day = Math.floor(this.now() / DAY_MS);
    if (day === this.day) return;
    this.day = day;
    this.daySpent = await this.store.getCounter(this.counterKey(day));
    this.dayRepeats = await this.store.getCounter(this.repeatKey(day));
  }

  /** Bytes per UTC day that repeats may take, or undefined when the day is not capped. */
  get repeatBytesPerDay(): number | undefined {
    const { dailyBytes, repeatShare = DEFAULT_REPEAT_SHARE } = this.options;
    return dailyBytes === undefined ? undefined : Math.floor(dailyBytes * repeatShare);
  }

  async trySpend(bytes: number, purpose: SpendPurpose = 'data'): Promise<boolean> {
    await this.loadDay();
    const { windowBytes, dailyBytes } = this.options;
    if (windowBytes !== undefined && this.windowSpent + bytes > windowBytes) return false;
    if (dailyBytes !== undefined && this.daySpent + bytes > dailyBytes) return false;
    const repeatCap = this.repeatBytesPerDay;
    if (purpose === 'repeat' && repeatCap !== undefined && this.dayRepeats + bytes > repeatCap) return false;
    if (this.bucket && !this.bucket.tryTake(bytes)) return false;
    this.windowSpent += bytes;
    this.daySpent += bytes;
    await this.store.setCounter(this.counterKey(this.day), this.daySpent);
    if (purpose === 'repeat') {
      this.dayRepeats += bytes;
      await this.store.setCounter(this.repeatKey(this.day), this.dayRepeats);
    }
    return true;
  }

  get repeatsToday(): number {
    return this.dayRepeats;
  }

  /** When spending `bytes` could next succeed: 0 now, a delay for the bandwidth cap, Infinity when only a new window or day helps. */
  retryInMs(bytes: number): number {
    const { windowBytes, dailyBytes } = this.options;
    if (windowBytes !== undefined && this.windowSpent + bytes > windowBytes) return Number.POSITIVE_INFINITY;
    if (dailyBytes !== undefined && this.daySpent + bytes > dailyBytes) {
      return DAY_MS - (this.now() % DAY_MS);
    }
    return this.bucket ? this.bucket.waitMs(bytes) : 0;
  }

  get spentToday(): number {
    return this.daySpent;
  }
}
