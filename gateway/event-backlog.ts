/**
 * Events handed to the MQTT publisher and not yet through it. The embedded
 * broker delivers each event to every subscriber; a subscriber that reads
 * slowly (or a burst faster than the broker) left tens of thousands of events
 * waiting in memory (a heap snapshot of `maverick run` at 5,000 uplinks/s
 * held 14,000 aedes publish states and their JSON). Past `high` events in
 * flight the network server is asked to hold uplinks back at the radios (the
 * Semtech UDP thread keeps them in its bounded queue), below `low` it lets
 * them come again: the whole pipeline runs at the pace of its slowest part
 * instead of growing.
 */
import { describeError } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import type { OutgoingEvent } from './events.js';
import type { EventPublisher } from './mqtt/index.js';

/**
 * Events in flight before uplinks are held back, and below which they come again. An event in
 * flight (its JSON, its payload Buffer, aedes' packet and delivery state) is live heap, and it
 * outlives the young generation's collections, so it is also copied into the old generation.
 * 512 is a tenth of a second at 5,000 events/s, longer than the embedded broker takes to hand
 * an event to a local subscriber.
 */
const DEFAULT_HIGH = 512;
const DEFAULT_LOW = 128;

export interface EventBacklogOptions {
  publisher: Pick<EventPublisher, 'publishEvent'>;
  logger: Logger;
  /** Called when events in flight pass `high` (true) and fall below `low` again (false). */
  hold: (held: boolean) => void;
  high?: number;
  low?: number;
}

export class EventBacklog {
  private inFlight = 0;
  private held = false;
  private readonly high: number;
  private readonly low: number;

  constructor(private readonly options: EventBacklogOptions) {
    this.high = options.high ?? DEFAULT_HIGH;
    this.low = options.low ?? DEFAULT_LOW;
  }

  /** Publishes `event` (nothing for undefined); a failure is logged, never thrown. */
  publish(event: OutgoingEvent | undefined): void {
    if (!event) return;
    this.inFlight++;
    if (!this.held && this.inFlight > this.high) this.setHeld(true);
    this.options.publisher
      .publishEvent(event.topic, event.json)
      .catch((err: unknown) => {
        this.options.logger.warn({ err: describeError(err), topic: event.topic }, 'event not published');
      })
      .finally(() => {
        this.inFlight--;
        if (this.held && this.inFlight < this.low) this.setHeld(false);
      });
  }

  /** Events handed over and not yet through the publisher. */
  pending(): number {
    return this.inFlight;
  }

  private setHeld(held: boolean): void {
    this.held = held;
    this.options.hold(held);
  }
}
