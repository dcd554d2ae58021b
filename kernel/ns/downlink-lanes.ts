/**
 * Downlink attempts, one at a time per device and apart from uplink processing:
 * a Class A answer waits for its gateway's TX_ACK (seconds on a dead route),
 * and the device's next uplink must not wait for that. Per device at most one
 * attempt runs and one waits; a newer answer replaces the waiting one (its
 * receive windows are later, the older one's have passed by the time it could
 * run). Replaced answers are counted; queued application payloads stay queued
 * and go out with a later answer.
 */
export class DownlinkLanes {
  private readonly lanes = new Map<string, { running: Promise<void>; next?: () => Promise<void> }>();

  constructor(
    private readonly onError: (err: unknown, key: string) => void,
    private readonly onReplaced: (key: string) => void,
  ) {}

  submit(key: string, attempt: () => Promise<void>): void {
    const lane = this.lanes.get(key);
    if (lane) {
      if (lane.next) this.onReplaced(key);
      lane.next = attempt;
      return;
    }
    const fresh: { running: Promise<void>; next?: () => Promise<void> } = { running: Promise.resolve() };
    this.lanes.set(key, fresh);
    fresh.running = this.drain(key, fresh, attempt);
  }

  private async drain(
    key: string,
    lane: { next?: () => Promise<void> },
    first: () => Promise<void>,
  ): Promise<void> {
    let attempt: (() => Promise<void>) | undefined = first;
    while (attempt) {
      try {
        await attempt();
      } catch (err) {
        this.onError(err, key);
      }
      attempt = lane.next;
      lane.next = undefined;
    }
    this.lanes.delete(key);
  }

  /** Devices with an attempt running. */
  size(): number {
    return this.lanes.size;
  }

  /** Resolves when every attempt submitted so far has finished. */
  async idle(): Promise<void> {
    while (this.lanes.size > 0) await Promise.all([...this.lanes.values()].map((l) => l.running));
  }
}
