/**
 * The local MQTT broker farm applications connect to: embedded aedes (MQTT
 * 3.1.1) on TCP or TLS, credentials required by default, and the ACL of
 * acl.ts. The gateway publishes its own events straight into aedes
 * (`publish`), which bypasses client authorisation by design.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { silentLogger, WarnLimiter } from '../../proto/log.js';
import { assertSafeBind, BrokerGuard, type BrokerLimits } from '../../proto/mqtt/broker-guard.js';
import { mayPublish, maySubscribe } from './acl.js';

export interface MqttBrokerOptions {
  /** Bind address; loopback unless the farm network must reach it. */
  host?: string;
  /** 1883 by default (8883 is customary with TLS); 0 picks a free port. */
  port?: number;
  username?: string;
  password?: string;
  /** Refuse clients without the configured username/password (default true). */
  requireCredentials?: boolean;
  tls?: { keyPath: string; certPath: string };
  /** Listen beyond loopback without TLS (mqtt.allow_plaintext_lan): only for a closed network. */
  allowPlaintextBeyondLoopback?: boolean;
  /** Packet sizes, connection count, login back-off (defaults in proto/mqtt/broker-guard.ts). */
  limits?: BrokerLimits;
  logger?: Logger;
}

/**
 * mqtt-packet (aedes's encoder) by default fills a table of 65,536 two-byte Buffers, one per
 * 16-bit number, the first time it writes a packet: about 8 MB that stays for the life of the
 * process, an eighth of the 64 MB heap a Pi gateway runs in (a heap snapshot of `maverick run`
 * showed it as its largest single object). Without it each packet id or length is written into
 * a fresh 2-byte Buffer, which costs nothing measurable at a gateway's packet rates. Process-wide,
 * as the mqtt client does for itself (its `writeCache: false`); set before aedes writes anything.
 */
export function disableMqttNumberCache(): void {
  mqttPacket.writeToStream.cacheNumbers = false;
}

/** MQTT 3.1.1 §3.2.2.3 CONNACK return code 5: "Connection Refused, not authorized". */
const NOT_AUTHORIZED = 5;

/** Hash first so that the comparison takes the same time whatever the lengths. */
function sameSecret(given: Buffer, expected: Buffer): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export type InternalHandler = (topic: string, payload: Buffer) => void;

export class MqttBroker {
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly aedes: Aedes,
    private readonly server: Server,
    private readonly log: Logger,
    readonly tls: boolean,
    readonly guard: BrokerGuard,
  ) {}

  static async start(options: MqttBrokerOptions = {}): Promise<MqttBroker> {
    const log = (options.logger ?? silentLogger).child({ component: 'mqtt-broker' });
    const requireCredentials = options.requireCredentials ?? true;
    if (requireCredentials && (!options.username || !options.password)) {
      throw new MaverickError(ErrorCode.ConfigInvalid, 'mqtt: username and password are required', {
        hint: 'set mqtt.username and mqtt.password, or mqtt.requireCredentials = false for a closed test network',
        context: { field: 'mqtt.password' },
      });
    }
    const host = options.host ?? '127.0.0.1';
    assertSafeBind({
      host,
      tls: options.tls !== undefined,
      allowPlaintextBeyondLoopback: options.allowPlaintextBeyondLoopback ?? false,
      field: 'mqtt.host',
      optIn: 'mqtt.allow_plaintext_lan = true',
    });
    const guard = new BrokerGuard(options.limits ?? {}, log);
    const expectedUser = Buffer.from(options.username ?? '');
    const expectedPassword = Buffer.from(options.password ?? '');

    let tlsMaterial: { key: Buffer; cert: Buffer } | undefined;
    if (options.tls) {
      try {
        tlsMaterial = { key: readFileSync(options.tls.keyPath), cert: readFileSync(options.tls.certPath) };
      } catch (err) {
        throw new MaverickError(ErrorCode.MqttTls, `mqtt: cannot read the TLS key or certificate`, {
          hint: 'check mqtt.tls.keyPath and mqtt.tls.certPath',
          context: { keyPath: options.tls.keyPath, certPath: options.tls.certPath },
          cause: err,
        });
      }
    }

    disableMqttNumberCache();
    const aedes = await Aedes.createBroker({
      connectTimeout: guard.connectTimeoutMs,
      // No cap on messages routed at once (aedes' default is 100). Past the cap mqemitter queues
      // them and starts each queued one from inside the previous one's completion, so a burst of
      // events queued behind a slow subscriber drained as one recursion per event: "Maximum call
      // stack size exceeded" took the gateway down. What bounds the gateway's events in flight is
      // its event backlog (gateway/event-backlog.ts); a client's publishes are taken one after
      // another as aedes reads its socket, capped in size by the broker guard.
      concurrency: 0,
      authenticate(client, username, password, done) {
        if (!requireCredentials) return done(null, true);
        const remote = (client.conn as { remoteAddress?: string }).remoteAddress;
        const verdict = guard.login(
          remote,
          () =>
            username !== undefined &&
            password !== undefined &&
            // Evaluate both comparisons so a wrong username costs the same as a wrong password.
            [sameSecret(Buffer.from(username), expectedUser), sameSecret(password, expectedPassword)].every(
              Boolean,
            ),
        );
        if (verdict === 'accepted') return done(null, true);
        const error = new Error('not authorized') as AuthenticateError;
        error.returnCode = NOT_AUTHORIZED;
        done(error, false);
      },
      authorizePublish(client, packet, done) {
        if (client && !mayPublish(packet.topic)) {
          log.warn({ clientId: client.id, topic: packet.topic }, 'mqtt publish refused by ACL');
          return done(new Error(`publishing to ${packet.topic} is not allowed`));
        }
        // A retained command would be replayed as a fresh downlink after every restart.
        packet.retain = false;
        done(null);
      },
      authorizeSubscribe(client, subscription, done) {
        if (maySubscribe(subscription.topic)) return done(null, subscription);
        log.warn({ clientId: client.id, topic: subscription.topic }, 'mqtt subscription refused by ACL');
        // null grants nothing: the client gets SUBACK 0x80 for this filter and stays connected.
        done(null, null);
      },
    });
    aedes.on('client', (client: Client) => {
      guard.loggedIn(client.conn);
      log.info({ clientId: client.id }, 'mqtt client connected');
    });
    aedes.on('clientDisconnect', (client: Client) =>
      log.info({ clientId: client.id }, 'mqtt client disconnected'),
    );
    // Rate-limited: a flood of broken connections must not become a flood of log lines.
    const clientErrors = new WarnLimiter(log);
    aedes.on('clientError', (client: Client, err: Error) =>
      clientErrors.warn({ clientId: client.id, error: err.message }, 'mqtt client error'),
    );

    const handle = (conn: Socket) => {
      aedes.handle(conn);
      guard.watch(conn);
    };
    const server = tlsMaterial ? createTlsServer(tlsMaterial, handle) : createServer(handle);
    guard.limitConnections(server);
    const broker = new MqttBroker(aedes, server, log, Boolean(tlsMaterial), guard);
    server.on(tlsMaterial ? 'secureConnection' : 'connection', (socket: Socket) => broker.track(socket));
    if (tlsMaterial) server.on('connection', (socket: Socket) => broker.track(socket));
    const port = options.port ?? 1883;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        aedes.close();
        reject(
          new MaverickError(
            ErrorCode.MqttBind,
            `mqtt: cannot listen on ${host}:${port} (${err.code ?? err.message})`,
            {
              hint: 'choose another mqtt.port or stop the program using it',
              context: { host, port },
              cause: err,
            },
          ),
        );
      });
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => log.error({ error: err.message }, 'mqtt server error'));
    log.info(
      { host, port: broker.address().port, tls: broker.tls, requireCredentials },
      'mqtt broker listening',
    );
    return broker;
  }

  private track(socket: Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  address(): { host: string; port: number } {
    const info = this.server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  /**
   * Publishes as the gateway itself (QoS 1), bypassing the client ACL. A string payload goes in as
   * it is: mqtt-packet writes it to each subscriber's socket as UTF-8 and in-broker subscribers get
   * a Buffer (subscribe()), so no copy per event is made here (at 5,000 events/s those copies were
   * ~7 % of what the event loop promoted to its old generation).
   */
  publish(topic: string, payload: Buffer | string, options: { retain?: boolean } = {}): Promise<void> {
    if (this.closing) {
      return Promise.reject(
        new MaverickError(ErrorCode.MqttClosed, `mqtt: broker closed, cannot publish ${topic}`),
      );
    }
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        {
          cmd: 'publish',
          topic,
          payload,
          qos: 1,
          retain: options.retain ?? false,
          dup: false,
        },
        (err) =>
          err
            ? reject(
                new MaverickError(ErrorCode.MqttPublish, `mqtt: publish to ${topic} failed`, { cause: err }),
              )
            : resolve(),
      );
    });
  }

  /** Receives what clients publish on `filter`, inside the broker (no network hop). Returns the unsubscribe. */
  subscribe(filter: string, handler: InternalHandler): Promise<() => Promise<void>> {
    const deliver = (packet: AedesPublishPacket, done: () => void) => {
      try {
        handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      } catch (err) {
        this.log.error({ topic: packet.topic, error: String(err) }, 'internal mqtt subscriber threw');
      }
      done();
    };
    return new Promise((resolve) => {
      this.aedes.subscribe(filter, deliver, () =>
        resolve(() => new Promise<void>((done) => this.aedes.unsubscribe(filter, deliver, () => done()))),
      );
    });
  }

  /** Disconnects every client and stops listening. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.log.info('mqtt broker closed');
    })();
    return this.closing;
  }
}
