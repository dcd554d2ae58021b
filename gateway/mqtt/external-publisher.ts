/**
 * EventPublisher over an mqtt.js client to any broker (mosquitto, EMQX, a
 * farm's existing ChirpStack broker): QoS 1, credentials, a retained
 * `gateway/{id}/state/conn` ONLINE on connect and OFFLINE as the last will
 * (and explicitly on a clean close). mqtt.js reconnects by itself and keeps
 * unacknowledged QoS 1 publishes queued in memory meanwhile.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { silentLogger } from '../../proto/log.js';
import { gatewayStateJson } from '../../proto/mqtt/events.js';
import { COMMAND_DOWN_FILTER, gatewayStateTopic } from '../../proto/mqtt/topics.js';
import { redactUrl } from '../../proto/net.js';
import {
  CommandDispatcher,
  type CommandHandler,
  type EventPublisher,
  type InvalidCommandHandler,
  type PublisherCounters,
} from './publisher.js';

export interface ExternalPublisherOptions {
  /** e.g. mqtt://127.0.0.1:1883 or mqtts://broker.farm:8883 */
  url: string;
  username?: string;
  password?: string;
  gatewayEui: string;
  clientId?: string;
  /** PEM CA certificate(s) for mqtts:// with a private CA. */
  ca?: string | Buffer;
  /** Give up the first connection after this long (default 10 s). */
  connectTimeoutMs?: number;
  logger?: Logger;
}

export class ExternalPublisher implements EventPublisher {
  private readonly dispatcher: CommandDispatcher;
  private closed = false;

  private constructor(
    private readonly client: MqttClient,
    private readonly gatewayEui: string,
    dispatcher: CommandDispatcher,
  ) {
    this.dispatcher = dispatcher;
  }

  static async connect(options: ExternalPublisherOptions): Promise<ExternalPublisher> {
    const log = (options.logger ?? silentLogger).child({ component: 'mqtt-publisher', kind: 'external' });
    const stateTopic = gatewayStateTopic(options.gatewayEui);
    const offline = JSON.stringify(gatewayStateJson(options.gatewayEui, 'OFFLINE'));
    const clientOptions: IClientOptions = {
      clientId: options.clientId ?? `maverick-${options.gatewayEui.toLowerCase()}`,
      username: options.username,
      password: options.password,
      clean: true,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 2_000,
      will: { topic: stateTopic, payload: Buffer.from(offline), qos: 1, retain: true },
      ca: options.ca,
    };
    const dispatcher = new CommandDispatcher(log);
    let client: MqttClient;
    try {
      client = await mqtt.connectAsync(options.url, clientOptions, false);
    } catch (err) {
      throw new MaverickError(
        ErrorCode.MqttConnect,
        `mqtt: cannot connect to ${options.url}: ${String((err as Error).message ?? err)}`,
        {
          hint: 'check the broker URL, that it is running, and the username/password',
          context: { url: options.url },
          cause: err,
        },
      );
    }
    client.on('message', (topic, payload) => dispatcher.dispatch(topic, payload));
    client.on('error', (err) => log.warn({ error: err.message }, 'mqtt client error'));
    client.on('reconnect', () => log.info({ url: redactUrl(options.url) }, 'mqtt reconnecting'));
    // Re-announce ONLINE after every (re)connect: the broker may have published our will meanwhile.
    client.on('connect', () => {
      client.publish(stateTopic, JSON.stringify(gatewayStateJson(options.gatewayEui, 'ONLINE')), {
        qos: 1,
        retain: true,
      });
    });
    const publisher = new ExternalPublisher(client, options.gatewayEui, dispatcher);
    try {
      const granted = await client.subscribeAsync(COMMAND_DOWN_FILTER, { qos: 1 });
      if (granted.some((g) => g.qos === 128)) {
        throw new MaverickError(
          ErrorCode.MqttConnect,
          `the broker refused the subscription to ${COMMAND_DOWN_FILTER}`,
          { hint: "allow this gateway's MQTT user to subscribe to it in the broker's ACL" },
        );
      }
      await client.publishAsync(stateTopic, JSON.stringify(gatewayStateJson(options.gatewayEui, 'ONLINE')), {
        qos: 1,
        retain: true,
      });
    } catch (err) {
      await client.endAsync(true);
      throw new MaverickError(
        ErrorCode.MqttPublish,
        `mqtt: ${options.url} refused the gateway: ${String((err as Error).message ?? err)}`,
        {
          hint: 'the broker ACL must let this user publish application/# and gateway/# and subscribe to command topics',
          cause: err,
        },
      );
    }
    log.info({ url: redactUrl(options.url) }, 'mqtt publisher connected');
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
      await this.client.publishAsync(topic, text, { qos: 1 });
      this.dispatcher.counters.published++;
    } catch (err) {
      this.dispatcher.counters.publishFailures++;
      throw new MaverickError(ErrorCode.MqttPublish, `mqtt: publish to ${topic} failed`, { cause: err });
    }
  }

  onCommand(handler: CommandHandler, onInvalid?: InvalidCommandHandler): void {
    this.dispatcher.add(handler, onInvalid);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.connected) {
      try {
        await this.client.publishAsync(
          gatewayStateTopic(this.gatewayEui),
          JSON.stringify(gatewayStateJson(this.gatewayEui, 'OFFLINE')),
          { qos: 1, retain: true },
        );
      } catch {
        // The last will says OFFLINE for us when this fails.
      }
    }
    await this.client.endAsync(!this.client.connected);
  }
}
