/**
 * Where uplinks come in and downlinks go out: the network server's
 * subscription to every radio, the last backend that heard each gateway (the
 * route for an answer), and back-pressure. While the uplinks waiting for the
 * store hold more than the hold mark (half the backlog budget, at most
 * `holdAtBytes`), radios that can hold uplinks back in a queue of their own
 * (RadioBackend.holdUplinks: the Semtech UDP thread) are asked to; below half
 * the mark they are released. Uplinks then wait
 * as compact datagrams in the radio's queue, not as objects in the pipeline,
 * and none is dropped for the budget while the radio's queue has room. Parts
 * after the store (the event publisher) may ask for a hold too (holdFor).
 */
import type { RadioBackend, RadioUplink, RxMetadata } from '../../proto/radio.js';

export class RadioIntake {
  private readonly routes = new Map<string, RadioBackend>();
  private readonly listeners = new Map<RadioBackend, (uplink: RadioUplink) => void>();
  private held = false;
  private holds = 0;
  /** Whether the uplink backlog is past its mark; other parts may ask for a hold too (by name). */
  private backlogHigh = false;
  private readonly holders = new Set<string>();

  constructor(
    private readonly radios: readonly RadioBackend[],
    private readonly onUplink: (uplink: RadioUplink) => void,
    /** The hold mark at most, in bytes of frame cost, however large the budget. */
    private readonly holdAtBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Subscribes to every radio's uplinks. Radios are started and stopped by their owner. */
  subscribe(): void {
    for (const radio of this.radios) {
      const listener = (uplink: RadioUplink) => {
        this.routes.set(uplink.rx.gatewayEui, radio);
        this.onUplink(uplink);
      };
      this.listeners.set(radio, listener);
      radio.on('uplink', listener);
    }
  }

  unsubscribe(): void {
    for (const [radio, listener] of this.listeners) radio.off('uplink', listener);
    this.listeners.clear();
    this.backlogHigh = false;
    this.holders.clear();
    this.hold(false);
  }

  /** The best receiver whose backend can transmit at a concentrator timestamp. */
  routeFor(rxInfo: readonly RxMetadata[]): { backend: RadioBackend; rx: RxMetadata } | undefined {
    for (const rx of rxInfo) {
      const backend = this.routes.get(rx.gatewayEui);
      if (backend?.capabilities.downlink && backend.capabilities.timedDownlink) return { backend, rx };
    }
    return undefined;
  }

  /** Called as the backlog changes: `used` of `limit` bytes waiting for the store. */
  backlogChanged(used: number, limit: number): void {
    const mark = Math.min(limit / 2, this.holdAtBytes);
    if (!this.backlogHigh && used > mark) this.backlogHigh = true;
    else if (this.backlogHigh && used < mark / 2) this.backlogHigh = false;
    else return;
    this.hold(this.backlogHigh || this.holders.size > 0);
  }

  /** Another part downstream (e.g. event publishing) asks for a hold, or ends its own. */
  holdFor(holder: string, held: boolean): void {
    if (held) this.holders.add(holder);
    else this.holders.delete(holder);
    this.hold(this.backlogHigh || this.holders.size > 0);
  }

  /** Whether uplinks are held back at every radio (each can hold: nothing new arrives meanwhile). */
  holding(): boolean {
    return (
      this.held && this.radios.length > 0 && this.radios.every((radio) => radio.holdUplinks !== undefined)
    );
  }

  /** Times the radios were asked to hold uplinks back. */
  holdCount(): number {
    return this.holds;
  }

  private hold(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    if (held) this.holds++;
    for (const radio of this.radios) radio.holdUplinks?.(held);
  }
}
