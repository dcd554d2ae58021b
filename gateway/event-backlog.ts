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
    this.high = options.high ?? 2000;
    this.low = options.low ?? 500;
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
