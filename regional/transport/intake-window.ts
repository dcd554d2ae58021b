/**
 * A worker's bounded in-flight window over all of its MQTT sessions: at most
 * `size` items are being settled at once, and the items of one gateway run
 * one after another, in arrival order. The store serialises a gateway inside
 * PostgreSQL too (advisory lock), but an item queued here waits without
 * holding a pooled connection, so the pool sized to the window never runs dry
 * on lock waits.
 */
export class IntakeWindow {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** The last task queued per gateway; removed when it finishes and nothing follows it. */
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size must be ≥ 1, got ${size}`);
  }

  /** Items holding a slot now. */
  get inFlight(): number {
    return this.active;
  }

  /** Resolves once a slot is free (first come, first served); the caller must pass it to `run`. */
  async slot(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /**
   * Runs `task` in the slot just taken, after every earlier task of the same lane; frees the slot
   * when it settles. The returned promise never rejects: the task's own failure is its outcome.
   */
  run(lane: string, task: () => Promise<void>): Promise<void> {
    const previous = this.lanes.get(lane);
    const settled = (previous ? previous.then(task) : task()).then(
      () => undefined,
      () => undefined,
    );
    const done = settled.then(() => {
      if (this.lanes.get(lane) === done) this.lanes.delete(lane);
      this.running.delete(done);
      this.free();
    });
    this.lanes.set(lane, done);
    this.running.add(done);
    return done;
  }

  /** Resolves when every task started so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private free(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
