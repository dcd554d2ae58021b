/**
 * A write of "the latest state" that many callers ask for: at most one runs at a
 * time and at most one more waits behind it, which every caller that came
 * meanwhile shares; it reads the state when it starts, so it carries all of
 * their changes. A state that changes at every event (a gateway's duty-cycle
 * history at every transmission) is then written as often as the store can
 * take it, not once per event with a copy of the whole state each.
 */
export class CoalescingWrite {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  /** `write` reads the state itself when it runs; it must not reject (log instead). */
  constructor(private readonly write: () => Promise<void>) {}

  /** Resolves once a write that started after this call has finished. */
  request(): Promise<void> {
    if (!this.running) {
      this.running = this.write().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.request();
    });
    return this.queued;
  }
}
