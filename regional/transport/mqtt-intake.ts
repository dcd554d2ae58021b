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
 * `connections` sessions and settles up to `inFlight` items at once over all
 * of them (intake-window.ts: items of one gateway one after another).
 *
 * Ack after commit: an item's MQTT PUBACK leaves only after the item's store
 * transaction committed and its ack was published. mqtt.js would send the
 * PUBACK when `handleMessage` calls back and takes the session's next message
 * only then, which allows one item per session; so `handleMessage` calls back
 * with a marker error as soon as the item has a slot in the window (mqtt.js
 * then sends no PUBACK) and the PUBACK is written by hand once the item
 * settled, on the same connection only: after a reconnect the broker
 * redelivers the item instead, and the store de-duplicates it. With MQTT 5
 * the session's Receive Maximum lets the broker send a window's worth of
 * items unacknowledged. While the store fails (e.g. PostgreSQL restarting)
 * the item is retried with back-off and nothing is acked. A worker killed
 * mid-item never PUBACKed it, so the broker delivers it again on the
 * session's return, and the gateway resends anything never acked; the store
 * de-duplicates by digest. Brokers route a share to offline persistent
 * sessions too, so a worker killed hard gets its items when it comes back
 * under the same client id (systemd restarts it), and a worker stopped on
 * purpose unsubscribes first. Acks go out on a session of their own: the
 * broker's PUBACK for an ack could not reach an intake session that is
 * waiting for it before it takes its next packet.
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { ackTopic, type ItemAck, parseUpTopic, UP_FILTER } from '../../proto/link/topics.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { redactUrl } from '../../proto/net.js';
import { type AckSigner, regionalAck } from '../ack.js';
import type { RegionalNode } from '../intake.js';
import { type EmbeddedBrokerOptions, EmbeddedRegionalBroker } from './embedded-broker.js';
import { ingestItem, type OtherItemHandler, sha256Hex } from './ingest-item.js';
import { IntakeWindow } from './intake-window.js';
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
  /** MQTT sessions this worker opens (default 1). Client ids get -1, -2, … */
  connections?: number;
  /** Items this worker settles at once over all its sessions (default 32). */
  inFlight?: number;
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

const DEFAULT_IN_FLIGHT = 32;

/** Passed to mqtt.js's handleMessage callback so it sends no PUBACK: the item is acked later, by hand. */
const ACK_DEFERRED = new Error('PUBACK deferred until the item settles');

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
      ? {
          properties: {
            sessionExpiryInterval: options.sessionExpirySeconds ?? 7 * 86_400,
            // Unacknowledged items the broker may send this session: one window's worth.
            receiveMaximum: Math.min(options.inFlight ?? DEFAULT_IN_FLIGHT, 65_535),
          },
        }
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
  const window = new IntakeWindow(options.inFlight ?? DEFAULT_IN_FLIGHT);
  /** Connections made per session: a PUBACK goes out only on the connection its item came in on. */
  const generations = new Map<MqttClient, number>();

  /**
   * Ingests one item and publishes its ack; retried with back-off while the store or broker fails.
   * True when the item is done with (acked, or dropped for good); false when the worker stopped first.
   */
  async function settle(topic: string, payload: Buffer): Promise<boolean> {
    const parsed = parseUpTopic(topic);
    if (!parsed) return true;
    if (payload.length > maxItemBytes) {
      log.warn({ topic, bytes: payload.length }, 'item over the size cap dropped');
      return true;
    }
    // A view of the packet's bytes, not a copy: the node copies what it stores.
    const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    for (let attempt = 0; !closing; attempt++) {
      try {
        const ack = await ingestItem(options.node, parsed.kind, bytes, `mqtt:${topic}`, options.onOther);
        // Fragments are identified by the hash of the transported bytes, not the item's digest.
        await reassembler.settle(sha256Hex(bytes), ack.status);
        holdWritesThisTurn(acks as MqttClient);
        await publishAck(acks as MqttClient, options.acks, parsed.gatewayId, ack);
        return true;
      } catch (err) {
        const delay = Math.min(100 * 2 ** attempt, 5000);
        log.warn(
          { topic, err: describeError(err), retryInMs: delay },
          'could not settle an item; not acked, retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return false;
  }

  /** Takes one delivered packet: waits for a slot, settles the item in its gateway's lane. */
  function take(client: MqttClient, packet: IPublishPacket, callback: (err?: Error) => void): void {
    const generation = generations.get(client);
    const topic = packet.topic;
    const payload = packet.payload as Buffer;
    void window.slot().then(() => {
      let settled = false;
      const item = window.run(parseUpTopic(topic)?.gatewayId ?? topic, async () => {
        settled = await settle(topic, payload);
      });
      if (packet.qos !== 1) {
        // QoS 0 has no ack to hold back; QoS 2's PUBCOMP follows the callback as before.
        if (packet.qos === 0) callback();
        else void item.then(() => callback());
        return;
      }
      callback(ACK_DEFERRED);
      void item.then(() => {
        if (!settled || !client.connected || generations.get(client) !== generation) return;
        holdWritesThisTurn(client);
        sendPuback(client, packet.messageId as number);
      });
    });
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
      generations.set(client, 1);
      client.on('connect', () => generations.set(client, (generations.get(client) ?? 0) + 1));
      // The PUBACK leaves only after the item committed and was acked (take, sendPuback).
      client.handleMessage = (packet, callback) => {
        if (packet.cmd !== 'publish') return callback();
        take(client, packet, callback);
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
    {
      brokerUrl: redactUrl(brokerUrl),
      embedded: Boolean(broker),
      filter,
      connections: count,
      inFlight: window.size,
    },
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
      // Items being settled finish (and are PUBACKed) before the sessions close.
      await window.drain();
      await Promise.all(clients.map((c) => c.endAsync()));
      await acks?.endAsync();
      await broker?.close();
    },
  };
}

const held = new WeakSet<object>();

/**
 * Holds a session's socket writes until the end of this event-loop turn, so the PUBACKs and acks
 * of items that settle together (their database answers read in one poll) leave in one write
 * instead of one each. Corks nest: mqtt-packet's own per-packet cork still pairs with its uncork.
 */
function holdWritesThisTurn(client: MqttClient): void {
  const stream = client.stream;
  if (held.has(stream) || typeof stream.cork !== 'function') return;
  held.add(stream);
  stream.cork();
  setImmediate(() => {
    held.delete(stream);
    stream.uncork();
  });
}

/**
 * The PUBACK mqtt.js would have sent for a QoS 1 item, sent once the item settled. mqtt.js has no
 * public call for it; `_sendPacket` is the one its own publish handler uses (mqtt 5.x).
 */
function sendPuback(client: MqttClient, messageId: number): void {
  // Private member of MqttClient (typed `private` in its .d.ts): cast to the shape it has.
  const internal = client as unknown as { _sendPacket(packet: { cmd: 'puback'; messageId: number }): void };
  internal._sendPacket({ cmd: 'puback', messageId });
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
