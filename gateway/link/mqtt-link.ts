/**
 * The IP link to the regional node: an MQTT 5 client (mqtt.js), QoS 1, a
 * persistent session (clean start off, session expiry set) so that acks sent
 * while the gateway was away are delivered when it returns, TLS and
 * credentials configurable. Items go out as binary payloads on
 * `maverick/v1/gw/{gatewayId}/up/{kind}`; acks come back on
 * `maverick/v1/gw/{gatewayId}/ack` (proto/link/topics.ts).
 *
 * A broker that refuses MQTT 5 (aedes answers CONNACK "unacceptable protocol
 * version", MQTT 3.1.1 §3.2.2.3) gets MQTT 3.1.1 with clean session off, the
 * 3.1.1 form of a persistent session; the switch is logged.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { LinkAck, OutboxItem, SpendGate, SyncLink, TransmitOutcome } from '../../kernel/outbox/types.js';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { verifyAck } from '../../proto/link/signed-ack.js';
import { ackTopic, upTopic } from '../../proto/link/topics.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { redactUrl } from '../../proto/net.js';

export interface MqttLinkOptions {
  /** mqtt://host:port or mqtts://host:port. */
  url: string;
  gatewayId: string;
  /**
   * The regional node's Ed25519 public key: every ack must be signed with it
   * (proto/link/ACK.md); anything else is refused and logged.
   */
  regionalPublicKey: Uint8Array;
  credentials?: { username: string; password: string };
  tls?: { caPath?: string; certPath?: string; keyPath?: string; rejectUnauthorized?: boolean };
  /** 5 (default) or 4 (MQTT 3.1.1). */
  protocolVersion?: 4 | 5;
  /** MQTT 5 session expiry (default 7 days): how long the broker keeps acks for an absent gateway. */
  sessionExpirySeconds?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** Give up waiting for a PUBACK after this long (the client still resends it later). Default 30 s. */
  publishTimeoutMs?: number;
  logger?: Logger;
}

/** Fixed header, remaining length, topic length, packet id and properties: an upper bound per PUBLISH. */
const PUBLISH_OVERHEAD = 12;

function readTls(
  tls: NonNullable<MqttLinkOptions['tls']>,
): Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'> {
  try {
    return {
      ...(tls.caPath ? { ca: readFileSync(tls.caPath) } : {}),
      ...(tls.certPath ? { cert: readFileSync(tls.certPath) } : {}),
      ...(tls.keyPath ? { key: readFileSync(tls.keyPath) } : {}),
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    };
  } catch (err) {
    throw new MaverickError(ErrorCode.MqttTls, 'regional link: cannot read the TLS files', {
      hint: 'check the regional link tls caPath / certPath / keyPath',
      cause: err,
    });
  }
}

export class MqttLink implements SyncLink {
  readonly name = 'mqtt';
  private client: MqttClient | undefined;
  private protocolVersion: 4 | 5;
  private up = false;
  private closed = false;
  private readonly ackHandlers = new Set<(ack: LinkAck) => void>();
  private readonly stateHandlers = new Set<(up: boolean) => void>();
  private readonly log: Logger;
  /** Acks refused because they were not signed by the regional node (forged, stale key, malformed). */
  refused = 0;

  constructor(private readonly options: MqttLinkOptions) {
    this.protocolVersion = options.protocolVersion ?? 5;
    this.log = (options.logger ?? silentLogger).child({ component: 'mqtt-link' });
    upTopic(options.gatewayId, 'bundle'); // validates the id early
  }

  /** Starts connecting (and reconnecting) in the background. */
  start(): this {
    this.connect();
    return this;
  }

  private clientOptions(): IClientOptions {
    const o = this.options;
    return {
      clientId: `maverick-gw-${o.gatewayId}`,
      protocolVersion: this.protocolVersion,
      clean: false,
      reconnectPeriod: o.reconnectPeriodMs ?? 5000,
      connectTimeout: o.connectTimeoutMs ?? 30_000,
      ...(this.protocolVersion === 5
        ? { properties: { sessionExpiryInterval: o.sessionExpirySeconds ?? 7 * 86_400 } }
        : {}),
      ...(o.credentials ? { username: o.credentials.username, password: o.credentials.password } : {}),
      ...(o.tls ? readTls(o.tls) : {}),
    };
  }

  private connect(): void {
    const client = mqtt.connect(this.options.url, this.clientOptions());
    this.client = client;
    const topic = ackTopic(this.options.gatewayId);
    client.on('connect', () => {
      client.subscribe(topic, { qos: 1 }, (err) => {
        if (err) this.log.warn({ err: err.message }, 'could not subscribe to the ack topic');
      });
      this.setUp(true);
    });
    client.on('close', () => this.setUp(false));
    client.on('offline', () => this.setUp(false));
    client.on('error', (err: Error & { code?: number }) => {
      if (
        this.protocolVersion === 5 &&
        (err.code === 1 || err.code === 0x84 || /protocol version/i.test(err.message))
      ) {
        this.log.info(
          { url: redactUrl(this.options.url) },
          'broker refused MQTT 5; using MQTT 3.1.1 with a persistent session',
        );
        this.protocolVersion = 4;
        client.end(true);
        if (!this.closed) this.connect();
        return;
      }
      this.log.warn({ err: err.message, code: err.code }, 'regional MQTT error');
    });
    client.on('message', (t, payload) => {
      if (t !== topic) return;
      let ack: LinkAck;
      try {
        const verified = verifyAck(
          new Uint8Array(payload),
          this.options.regionalPublicKey,
          this.options.gatewayId,
        );
        ack = {
          digest: verified.digest,
          status: verified.status,
          ...(verified.reason !== undefined ? { reason: verified.reason } : {}),
          ...(verified.transient !== undefined ? { transient: verified.transient } : {}),
        };
      } catch (err) {
        // Anyone with the broker login can publish here; only the regional node's signature counts.
        this.refused++;
        this.log.warn(
          { err: describeError(err), bytes: payload.length },
          'refused an ack that does not verify',
        );
        return;
      }
      for (const h of this.ackHandlers) h(ack);
    });
  }

  private setUp(up: boolean): void {
    const next = up && !this.closed;
    if (next === this.up) return;
    this.up = next;
    for (const h of this.stateHandlers) h(next);
  }

  /** The MQTT version in use (5 unless the broker refused it). */
  get protocol(): 4 | 5 {
    return this.protocolVersion;
  }

  isUp(): boolean {
    return this.up && Boolean(this.client?.connected);
  }

  async transmit(item: OutboxItem, gate: SpendGate): Promise<TransmitOutcome> {
    const client = this.client;
    if (!client || !this.isUp()) return 'down';
    const topic = upTopic(this.options.gatewayId, item.kind);
    if (!(await gate.trySpend(item.bytes.length + topic.length + PUBLISH_OVERHEAD))) return 'budget';
    const timeoutMs = this.options.publishTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'down'>((resolve) => {
      timer = setTimeout(() => resolve('down'), timeoutMs);
    });
    // Never rejects: a failure after the timeout won the race must not surface as an unhandled rejection.
    const publishing = client.publishAsync(topic, Buffer.from(item.bytes), { qos: 1 }).then(
      () => 'sent' as const,
      (err: unknown) => {
        this.log.debug({ err: describeError(err), seq: item.seq }, 'publish did not complete');
        return 'down' as const;
      },
    );
    try {
      return await Promise.race([publishing, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  onAck(handler: (ack: LinkAck) => void): () => void {
    this.ackHandlers.add(handler);
    return () => this.ackHandlers.delete(handler);
  }

  onState(handler: (up: boolean) => void): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setUp(false);
    const client = this.client;
    this.client = undefined;
    // Forced: a graceful end waits for in-flight QoS 1 messages that may never get a PUBACK on a dead link.
    if (client) await client.endAsync(true);
  }
}

/** Creates and starts the regional MQTT link. */
export function createMqttLink(options: MqttLinkOptions): MqttLink {
  return new MqttLink(options).start();
}
