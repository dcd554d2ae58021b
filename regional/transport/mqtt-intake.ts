/**
 * The regional end of the IP link: subscribes to every gateway's up topic on
 * a broker (the embedded aedes by default, or any broker by URL, e.g.
 * mosquitto), feeds items to the regional node and publishes the ack on the
 * gateway's ack topic (QoS 1). The subscription is a persistent session, so
 * items published while the regional node was down arrive when it returns.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { ackTopic, parseUpTopic, UP_FILTER } from '../../proto/link/topics.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { type AckSigner, regionalAck } from '../ack.js';
import type { RegionalNode } from '../intake.js';
import { EmbeddedRegionalBroker } from './embedded-broker.js';
import { ingestItem, type OtherItemHandler, storeUnavailableAck } from './ingest-item.js';
import { Reassembler } from './reassembly.js';

export interface RegionalTransportOptions {
  node: RegionalNode;
  /** Signs every ack with the regional node's key (regional/ack.ts). */
  acks: AckSigner;
  /** An existing broker, e.g. mqtt://127.0.0.1:1883 (mosquitto). */
  brokerUrl?: string;
  /** Start an embedded aedes broker instead (port 0 picks a free one). Used when brokerUrl is absent. */
  embedded?: { port: number; host?: string };
  credentials?: { username: string; password: string };
  clientId?: string;
  /** 5 (default; falls back to 4 against an MQTT 3.1.1 broker) or 4. */
  protocolVersion?: 4 | 5;
  reassembler?: Reassembler;
  onOther?: OtherItemHandler;
  /** Largest item taken over MQTT (default 1 MiB). */
  maxItemBytes?: number;
  logger?: Logger;
}

export interface RegionalTransport {
  /** The broker the gateways should use. */
  readonly brokerUrl: string;
  readonly reassembler: Reassembler;
  close(): Promise<void>;
}

async function connect(url: string, options: RegionalTransportOptions, version: 4 | 5): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: options.clientId ?? 'maverick-regional',
    protocolVersion: version,
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(version === 5 ? { properties: { sessionExpiryInterval: 7 * 86_400 } } : {}),
    ...(options.credentials
      ? { username: options.credentials.username, password: options.credentials.password }
      : {}),
  });
}

export async function startRegionalTransport(options: RegionalTransportOptions): Promise<RegionalTransport> {
  const log = (options.logger ?? silentLogger).child({ component: 'regional-transport' });
  const broker = options.brokerUrl
    ? undefined
    : await EmbeddedRegionalBroker.start({
        port: options.embedded?.port ?? 0,
        host: options.embedded?.host,
        credentials: options.credentials,
      });
  const brokerUrl = options.brokerUrl ?? (broker as EmbeddedRegionalBroker).url;
  const reassembler = options.reassembler ?? new Reassembler();
  let client: MqttClient;
  try {
    const wanted = options.protocolVersion ?? 5;
    try {
      client = await connect(brokerUrl, options, wanted);
    } catch (err) {
      if (wanted !== 5 || !/protocol version/i.test(describeError(err))) throw err;
      log.warn({ brokerUrl }, 'broker refused MQTT 5; using MQTT 3.1.1 with a persistent session');
      client = await connect(brokerUrl, options, 4);
    }
    await client.subscribeAsync(UP_FILTER, { qos: 1 });
  } catch (err) {
    await broker?.close();
    throw new MaverickError(
      ErrorCode.MqttConnect,
      `regional transport cannot use the broker at ${brokerUrl}: ${describeError(err)}`,
      {
        hint: 'check --broker-url and the broker credentials',
        cause: err,
      },
    );
  }
  const maxItemBytes = options.maxItemBytes ?? 1024 * 1024;
  // Serialised so acks leave in the order items arrived.
  let queue: Promise<unknown> = Promise.resolve();
  client.on('message', (topic, payload) => {
    const parsed = parseUpTopic(topic);
    if (!parsed) return;
    if (payload.length > maxItemBytes) {
      log.warn({ topic, bytes: payload.length }, 'item over the size cap dropped');
      return;
    }
    const bytes = new Uint8Array(payload);
    queue = queue
      .then(async () => {
        const ack = await ingestItem(
          options.node,
          parsed.kind,
          bytes,
          `mqtt:${topic}`,
          options.onOther,
        ).catch((err: unknown) => storeUnavailableAck(bytes, err, log));
        reassembler.settle(ack.digest, ack.status);
        const signed = regionalAck(options.acks, parsed.gatewayId, ack);
        await client.publishAsync(ackTopic(parsed.gatewayId), Buffer.from(signed), { qos: 1 });
      })
      .catch((err: unknown) =>
        log.warn({ topic, err: describeError(err) }, 'could not settle an item; the gateway will resend'),
      );
  });
  log.info({ brokerUrl, embedded: Boolean(broker) }, 'regional transport listening');
  return {
    brokerUrl,
    reassembler,
    async close() {
      await queue;
      await client.endAsync(true);
      await broker?.close();
    },
  };
}
