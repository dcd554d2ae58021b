/**
 * The regional end of the IP link: subscribes to every gateway's up topic on
 * a broker (the embedded aedes by default, or any broker by URL, e.g.
 * mosquitto), feeds items to the regional node and publishes the ack on the
 * gateway's ack topic (QoS 1). The subscription is a persistent session, so
 * items published while the regional node was down arrive when it returns.
 *
 * Horizontal intake: with `sharedGroup`, the subscription is the shared
 * `$share/<group>/…` one (MQTT 5, and mosquitto ≥ 2 / EMQX / HiveMQ / VerneMQ
 * on 3.1.1 too), so any number of workers split the items. A worker opens
 * `connections` sessions to have that many items in flight.
 *
 * Ack after commit: an item's MQTT PUBACK leaves only after the item's store
 * transaction committed and its ack was published. mqtt.js sends the PUBACK
 * when `handleMessage` calls back, and takes the next message of that
 * session only then; while the store fails (e.g. PostgreSQL restarting) the
 * item is retried with back-off and nothing is acked. A worker killed
 * mid-item never PUBACKed it, so the broker delivers it again on the
 * session's return, and the gateway resends anything never acked; the store
 * de-duplicates by digest. Brokers route a share to offline persistent
 * sessions too, so a worker killed hard gets its items when it comes back
 * under the same client id (systemd restarts it), and a worker stopped on
 * purpose unsubscribes first. Acks go out on a session of their own: the
 * broker's PUBACK for an ack could not reach an intake session that is
 * waiting for it before it takes its next packet.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { ackTopic, type ItemAck, parseUpTopic, UP_FILTER } from '../../proto/link/topics.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { redactUrl } from '../../proto/net.js';
import { type AckSigner, regionalAck } from '../ack.js';
import type { RegionalNode } from '../intake.js';
import { type EmbeddedBrokerOptions, EmbeddedRegionalBroker } from './embedded-broker.js';
import { ingestItem, type OtherItemHandler, sha256Hex } from './ingest-item.js';
import { type FragmentReassembly, Reassembler } from './reassembly.js';

export interface RegionalTransportOptions {
  node: RegionalNode;
  /** Signs every ack with the regional node's key (regional/ack.ts). */
  acks: AckSigner;
  /** An existing broker, e.g. mqtt://127.0.0.1:1883 (mosquitto). */
  brokerUrl?: string;
  /** Start an embedded aedes broker instead (port 0 picks a free one). Used when brokerUrl is absent. */
  embedded?: Omit<EmbeddedBrokerOptions, 'credentials' | 'logger'>;
  credentials?: { username: string; password: string };
  clientId?: string;
  /** Share the intake with other workers in this group ($share/<group>/…). */
  sharedGroup?: string;
  /** MQTT sessions this worker opens (items in flight at once; default 1). Client ids get -1, -2, … */
  connections?: number;
  /** MQTT 5 session expiry (default 7 days). */
  sessionExpirySeconds?: number;
  /** 5 (default; falls back to 4 against an MQTT 3.1.1 broker) or 4. */
  protocolVersion?: 4 | 5;
  /** Satellite reassembly to tell when an item settles over MQTT (serve.ts passes the store-backed one). */
  reassembler?: FragmentReassembly;
  onOther?: OtherItemHandler;
  /** Largest item taken over MQTT (default 1 MiB). */
  maxItemBytes?: number;
  logger?: Logger;
}

export interface RegionalTransport {
  /** The broker the gateways should use. */
  readonly brokerUrl: string;
  readonly reassembler: FragmentReassembly;
  close(): Promise<void>;
}

async function connect(
  url: string,
  options: RegionalTransportOptions,
  version: 4 | 5,
  clientId: string,
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId,
    protocolVersion: version,
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(version === 5
      ? { properties: { sessionExpiryInterval: options.sessionExpirySeconds ?? 7 * 86_400 } }
      : {}),
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
        port: 0,
        ...options.embedded,
        credentials: options.credentials,
        logger: log,
      });
  const brokerUrl = options.brokerUrl ?? (broker as EmbeddedRegionalBroker).url;
  const reassembler: FragmentReassembly = options.reassembler ?? new Reassembler();
  const filter = options.sharedGroup ? `$share/${options.sharedGroup}/${UP_FILTER}` : UP_FILTER;
  const count = options.connections ?? 1;
  const baseId = options.clientId ?? 'maverick-regional';
  const clients: MqttClient[] = [];
  let acks: MqttClient | undefined;
  let closing = false;
  const maxItemBytes = options.maxItemBytes ?? 1024 * 1024;

  /** Ingests one item and publishes its ack; retried with back-off while the store or broker fails. */
  async function settle(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseUpTopic(topic);
    if (!parsed) return;
    if (payload.length > maxItemBytes) {
      log.warn({ topic, bytes: payload.length }, 'item over the size cap dropped');
      return;
    }
    const bytes = new Uint8Array(payload);
    for (let attempt = 0; !closing; attempt++) {
      try {
        const ack = await ingestItem(options.node, parsed.kind, bytes, `mqtt:${topic}`, options.onOther);
        // Fragments are identified by the hash of the transported bytes, not the item's digest.
        await reassembler.settle(sha256Hex(bytes), ack.status);
        await publishAck(acks as MqttClient, options.acks, parsed.gatewayId, ack);
        return;
      } catch (err) {
        const delay = Math.min(100 * 2 ** attempt, 5000);
        log.warn(
          { topic, err: describeError(err), retryInMs: delay },
          'could not settle an item; not acked, retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  try {
    const wanted = options.protocolVersion ?? 5;
    let version: 4 | 5 = wanted;
    const open = async (clientId: string): Promise<MqttClient> => {
      try {
        return await connect(brokerUrl, options, version, clientId);
      } catch (err) {
        if (version !== 5 || !/protocol version/i.test(describeError(err))) throw err;
        log.info(
          { brokerUrl: redactUrl(brokerUrl) },
          'broker refused MQTT 5; using MQTT 3.1.1 with a persistent session',
        );
        version = 4;
        return connect(brokerUrl, options, 4, clientId);
      }
    };
    acks = await open(`${baseId}-acks`);
    for (let i = 0; i < count; i++) {
      const client = await open(count === 1 ? baseId : `${baseId}-${i + 1}`);
      // The PUBACK follows this callback: only after the item committed and was acked.
      client.handleMessage = (packet, callback) => {
        if (packet.cmd !== 'publish') return callback();
        settle(packet.topic, packet.payload as Buffer).then(
          () => callback(),
          () => callback(),
        );
      };
      clients.push(client);
      await client.subscribeAsync(filter, { qos: 1 });
    }
  } catch (err) {
    await Promise.all([...clients, ...(acks ? [acks] : [])].map((c) => c.endAsync(true)));
    await broker?.close();
    throw new MaverickError(
      ErrorCode.MqttConnect,
      `regional transport cannot use the broker at ${brokerUrl}: ${describeError(err)}`,
      {
        hint: 'check the broker URL and the broker credentials',
        cause: err,
      },
    );
  }
  log.info(
    { brokerUrl: redactUrl(brokerUrl), embedded: Boolean(broker), filter, connections: count },
    'regional transport listening',
  );
  return {
    brokerUrl,
    reassembler,
    async close() {
      closing = true;
      // A stopped worker leaves the share: brokers keep routing a share to an offline persistent
      // session, and a worker that is gone for good would otherwise hold items until its session expires.
      if (options.sharedGroup)
        await Promise.all(clients.map((c) => c.unsubscribeAsync(filter).catch(() => undefined)));
      await Promise.all(clients.map((c) => c.endAsync()));
      await acks?.endAsync();
      await broker?.close();
    },
  };
}

/** The one place an ack leaves the regional node over MQTT: signed with the node's key. */
async function publishAck(
  client: MqttClient,
  signer: AckSigner,
  gatewayId: string,
  ack: ItemAck,
): Promise<void> {
  await client.publishAsync(ackTopic(gatewayId), Buffer.from(regionalAck(signer, gatewayId, ack)), {
    qos: 1,
  });
}
