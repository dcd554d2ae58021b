/**
 * Runs tasks one after another per key (a device), and in parallel across
 * keys: two uplinks of one device must see each other's frame counters.
 * Each key holds at most `maxPendingPerKey` tasks (running or waiting); beyond
 * that `run` refuses the task, so a flood for one key cannot grow memory.
 */
export class KeyedSerialExecutor {
  private readonly lanes = new Map<string, { tail: Promise<void>; pending: number }>();

  constructor(
    private readonly onError: (err: unknown, key: string) => void,
    private readonly maxPendingPerKey = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * Queues `task` behind the key's earlier tasks; false (and nothing queued) when the key is full.
   */
  run(key: string, task: () => Promise<void>): boolean {
    let lane = this.lanes.get(key);
    if (lane && lane.pending >= this.maxPendingPerKey) return false;
    if (!lane) {
      lane = { tail: Promise.resolve(), pending: 0 };
      this.lanes.set(key, lane);
    }
    const own = lane;
    own.pending++;
    own.tail = own.tail
      .then(task)
      .catch((err: unknown) => this.onError(err, key))
      .finally(() => {
        own.pending--;
        if (own.pending === 0 && this.lanes.get(key) === own) this.lanes.delete(key);
      });
    return true;
  }

  /** Tasks running or waiting, over all keys. */
  pending(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.pending;
    return n;
  }

  /** Resolves when every task queued so far has finished. */
  async idle(): Promise<void> {
    while (this.lanes.size > 0) await Promise.all([...this.lanes.values()].map((l) => l.tail));
  }
}
