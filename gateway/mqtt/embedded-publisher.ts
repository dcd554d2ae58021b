/**
 * EventPublisher straight into the embedded aedes broker: no socket, no
 * credentials (the gateway is the broker). Commands are received through an
 * internal subscription; the gateway state is ONLINE (retained) while open and
 * set to OFFLINE explicitly on close, since an embedded broker has no last will
 * of its own.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { silentLogger } from '../../proto/log.js';
import { gatewayStateJson } from '../../proto/mqtt/events.js';
import { COMMAND_DOWN_FILTER, gatewayStateTopic } from '../../proto/mqtt/topics.js';
import type { MqttBroker } from './broker.js';
import {
  CommandDispatcher,
  type CommandHandler,
  type EventPublisher,
  type InvalidCommandHandler,
  type PublisherCounters,
} from './publisher.js';

export interface EmbeddedPublisherOptions {
  gatewayEui: string;
  logger?: Logger;
}

export class EmbeddedPublisher implements EventPublisher {
  private readonly dispatcher: CommandDispatcher;
  private closed = false;

  private constructor(
    private readonly broker: MqttBroker,
    private readonly gatewayEui: string,
    private readonly unsubscribe: () => Promise<void>,
    dispatcher: CommandDispatcher,
  ) {
    this.dispatcher = dispatcher;
  }

  static async create(broker: MqttBroker, options: EmbeddedPublisherOptions): Promise<EmbeddedPublisher> {
    const log = (options.logger ?? silentLogger).child({ component: 'mqtt-publisher', kind: 'embedded' });
    const dispatcher = new CommandDispatcher(log);
    const unsubscribe = await broker.subscribe(COMMAND_DOWN_FILTER, (topic, payload) =>
      dispatcher.dispatch(topic, payload),
    );
    const publisher = new EmbeddedPublisher(broker, options.gatewayEui, unsubscribe, dispatcher);
    await broker.publish(
      gatewayStateTopic(options.gatewayEui),
      JSON.stringify(gatewayStateJson(options.gatewayEui, 'ONLINE')),
      { retain: true },
    );
    return publisher;
  }

  get counters(): PublisherCounters {
    return { ...this.dispatcher.counters };
  }

  async publishEvent(topic: string, json: unknown): Promise<void> {
    return this.publishJson(topic, JSON.stringify(json));
  }

  async publishJson(topic: string, text: string): Promise<void> {
    if (this.closed)
      throw new MaverickError(ErrorCode.MqttClosed, `mqtt: publisher closed, cannot publish ${topic}`);
    try {
      await this.broker.publish(topic, text);
      this.dispatcher.counters.published++;
    } catch (err) {
      this.dispatcher.counters.publishFailures++;
      throw err;
    }
  }

  onCommand(handler: CommandHandler, onInvalid?: InvalidCommandHandler): void {
    this.dispatcher.add(handler, onInvalid);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.unsubscribe();
    await this.broker.publish(
      gatewayStateTopic(this.gatewayEui),
      JSON.stringify(gatewayStateJson(this.gatewayEui, 'OFFLINE')),
      { retain: true },
    );
  }
}
