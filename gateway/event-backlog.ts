/**
 * Events on their way to the MQTT publisher. The embedded broker delivers each
 * event to every subscriber; a subscriber that reads slowly (or a burst faster
 * than the broker) leaves events waiting in memory.
 *
 * Two limits keep that memory small:
 * - at most `window` events are inside the publisher at once. Each one there
 *   costs the broker's routing state besides its JSON (a heap snapshot of
 *   `maverick run` in a 5,000 uplinks/s burst held 8,000 aedes publishes in
 *   flight: packets, publish states, closures, promises, an immediate each);
 *   the rest wait here in order as their JSON text alone, a third of that;
 * - past `high` events waiting or in flight the network server is asked to
 *   hold uplinks back at the radios (the Semtech UDP thread keeps them as
 *   datagrams in its bounded queue), below `low` it lets them come again: the
 *   whole pipeline runs at the pace of its slowest part instead of growing.
 *
 * Events leave in the order they were handed over, whatever the window.
 */
import { describeError } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import type { OutgoingEvent } from './events.js';
import type { EventPublisher } from './mqtt/index.js';

/**
 * Events waiting or in flight past which the radios hold uplinks back, and below which they let
 * them come again. Waiting events are retained JSON text and, for the window, the broker's routing
 * state: 2,000/500 let ~1,600 pile up in a 5,000 uplinks/s burst; with these and the network
 * server's hold mark (DEFAULT_HOLD_BACKLOG_BYTES) the burst's peak RSS fell ~10 MB.
 */
export const DEFAULT_EVENTS_HIGH = 600;
export const DEFAULT_EVENTS_LOW = 150;

export interface EventBacklogOptions {
  publisher: Pick<EventPublisher, 'publishJson'>;
  logger: Logger;
  /** Called when events waiting or in flight pass `high` (true) and fall below `low` again (false). */
  hold: (held: boolean) => void;
  high?: number;
  low?: number;
  /** Events inside the publisher at once. */
  window?: number;
}

export class EventBacklog {
  /** Waiting events as topic, JSON text pairs: `queue[2i]` the topic, `queue[2i + 1]` the text. */
  private queue: string[] = [];
  private head = 0;
  private inFlight = 0;
  private held = false;
  private readonly high: number;
  private readonly low: number;
  private readonly window: number;

  constructor(private readonly options: EventBacklogOptions) {
    this.high = options.high ?? DEFAULT_EVENTS_HIGH;
    this.low = options.low ?? DEFAULT_EVENTS_LOW;
    this.window = Math.max(1, options.window ?? 256);
  }

  /** Publishes `event` (nothing for undefined); a failure is logged, never thrown. */
  publish(event: OutgoingEvent | undefined): void {
    if (!event) return;
    let text: string;
    try {
      text = JSON.stringify(event.json);
    } catch (err) {
      this.options.logger.warn({ err: describeError(err), topic: event.topic }, 'event not published');
      return;
    }
    if (this.inFlight < this.window && this.waiting() === 0) this.send(event.topic, text);
    else this.queue.push(event.topic, text);
    if (!this.held && this.pending() > this.high) this.setHeld(true);
  }

  /** Events handed over and not yet through the publisher (waiting here or inside it). */
  pending(): number {
    return this.inFlight + this.waiting();
  }

  private waiting(): number {
    return (this.queue.length - this.head) / 2;
  }

  private send(topic: string, text: string): void {
    this.inFlight++;
    this.options.publisher
      .publishJson(topic, text)
      .catch((err: unknown) => {
        this.options.logger.warn({ err: describeError(err), topic }, 'event not published');
      })
      .finally(() => {
        this.inFlight--;
        this.sendWaiting();
        if (this.held && this.pending() < this.low) this.setHeld(false);
      });
  }

  private sendWaiting(): void {
    while (this.inFlight < this.window && this.head < this.queue.length) {
      const topic = this.queue[this.head] as string;
      const text = this.queue[this.head + 1] as string;
      // Let go of the text now: the prefix is dropped only now and then.
      this.queue[this.head] = '';
      this.queue[this.head + 1] = '';
      this.head += 2;
      this.send(topic, text);
    }
    // Drop the sent prefix now and then, so the array does not keep what has left.
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private setHeld(held: boolean): void {
    this.held = held;
    this.options.hold(held);
  }
}
