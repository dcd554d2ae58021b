/**
 * Per-address back-off on failed MQTT logins: after a few free failures an
 * address is locked out for a doubling time, and while locked every CONNECT
 * from it is refused without looking at the password — so guessing runs at a
 * few tries per lock-out, not thousands per second. Bounded in memory: the
 * least recently failing address is forgotten first.
 */

export interface LoginBackoffOptions {
  /** Failures allowed before the first lock-out (default 3). */
  freeFailures?: number;
  /** First lock-out (default 1 s), doubled per further failure. */
  baseMs?: number;
  /** Longest lock-out (default 60 s). */
  maxMs?: number;
  /** Addresses remembered at once (default 4096). */
  maxAddresses?: number;
  /** Failures older than this are forgotten (default 15 min). */
  forgetAfterMs?: number;
  now?: () => number;
}

interface Record {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
}

export class LoginBackoff {
  readonly #byAddress = new Map<string, Record>();
  readonly #freeFailures: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxAddresses: number;
  readonly #forgetAfterMs: number;
  readonly #now: () => number;

  constructor(options: LoginBackoffOptions = {}) {
    this.#freeFailures = options.freeFailures ?? 3;
    this.#baseMs = options.baseMs ?? 1000;
    this.#maxMs = options.maxMs ?? 60_000;
    this.#maxAddresses = options.maxAddresses ?? 4096;
    this.#forgetAfterMs = options.forgetAfterMs ?? 15 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds this address must still wait, 0 when it may try. */
  lockedForMs(address: string): number {
    const record = this.#current(address);
    return record ? Math.max(0, record.lockedUntilMs - this.#now()) : 0;
  }

  failed(address: string): void {
    const now = this.#now();
    const record = this.#current(address) ?? { failures: 0, lastFailureMs: now, lockedUntilMs: 0 };
    record.failures++;
    record.lastFailureMs = now;
    const over = record.failures - this.#freeFailures;
    if (over > 0) record.lockedUntilMs = now + Math.min(this.#maxMs, this.#baseMs * 2 ** (over - 1));
    this.#byAddress.delete(address);
    if (this.#byAddress.size >= this.#maxAddresses) {
      const oldest = this.#byAddress.keys().next().value;
      if (oldest !== undefined) this.#byAddress.delete(oldest);
    }
    this.#byAddress.set(address, record);
  }

  succeeded(address: string): void {
    this.#byAddress.delete(address);
  }

  get trackedAddresses(): number {
    return this.#byAddress.size;
  }

  #current(address: string): Record | undefined {
    const record = this.#byAddress.get(address);
    if (
      record &&
      this.#now() - record.lastFailureMs > this.#forgetAfterMs &&
      this.#now() >= record.lockedUntilMs
    ) {
      this.#byAddress.delete(address);
      return undefined;
    }
    return record;
  }
}
