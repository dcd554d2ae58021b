/**
 * The regional node's own broker when none is given: embedded aedes (MQTT
 * 3.1.1 with persistent sessions in memory) on TCP, optional credentials, and
 * the limits of proto/mqtt/broker-guard.ts (packet size before and after login,
 * connection count, login back-off, loopback unless the operator opts in).
 * regional/ may not import gateway/, hence this small wrapper of its own.
 *
 * With `gatewayPasswordFile` (the passwd of `regional gateway add
 * --broker-dir`), gateways are confined as on mosquitto (broker-acl.ts): each
 * logs in as itself, publishes only under its own up topics and reads only
 * its own acks; a publish outside them closes the connection, a subscription
 * outside them is refused (SUBACK 0x80). Anyone else is refused at login.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { assertSafeBind, BrokerGuard, type BrokerLimits } from '../../proto/mqtt/broker-guard.js';
import { type BrokerUser, GatewayPasswords, mayPublish, maySubscribe } from './broker-acl.js';

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  credentials?: { username: string; password: string };
  /** Gateways' mosquitto-format password file: confines each gateway to its own topics. */
  gatewayPasswordFile?: string;
  /** Listen beyond loopback in plaintext (--allow-plaintext-lan): only on a closed network. */
  allowPlaintextBeyondLoopback?: boolean;
  /** Defaults: 16 KiB before login, 1 MiB + 4 KiB after (a whole bundle item fits), 1024 connections. */
  limits?: BrokerLimits;
  logger?: Logger;
}

/** The largest bundle item over MQTT is 1 MiB; topic and header fit in the extra 4 KiB. */
const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024 + 4096;

function sameSecret(given: Buffer, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export class EmbeddedRegionalBroker {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly host: string,
    readonly guard: BrokerGuard,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedRegionalBroker> {
    const host = options.host ?? '127.0.0.1';
    assertSafeBind({
      host,
      tls: false,
      allowPlaintextBeyondLoopback: options.allowPlaintextBeyondLoopback ?? false,
      field: '--host',
      optIn: '--allow-plaintext-lan (or put a TLS broker in front and use --broker-url)',
    });
    const log = (options.logger ?? silentLogger).child({ component: 'regional-broker' });
    const guard = new BrokerGuard(
      { maxPacketBytes: DEFAULT_MAX_PACKET_BYTES, maxConnections: 1024, ...options.limits },
      log,
    );
    const creds = options.credentials;
    const gateways = options.gatewayPasswordFile
      ? new GatewayPasswords(options.gatewayPasswordFile, log)
      : undefined;
    const users = new WeakMap<Client, BrokerUser>();
    const isRegional = (username: string | undefined, password: Buffer | undefined) =>
      creds !== undefined &&
      // Both comparisons always run, so a wrong username costs the same as a wrong password.
      [
        sameSecret(Buffer.from(username ?? ''), creds.username),
        sameSecret(password ?? Buffer.alloc(0), creds.password),
      ].every(Boolean);
    const aedes = await Aedes.createBroker({
      connectTimeout: guard.connectTimeoutMs,
      // No cap on messages routed at once: past aedes' default (100) mqemitter queues them and
      // drains the queue as one recursion per message, which overflows the stack under a burst
      // (see gateway/mqtt/broker.ts). Each client's publishes are taken one after another.
      concurrency: 0,
      authenticate(client, username, password, done) {
        if (!creds && !gateways) return done(null, true);
        const remote = (client.conn as { remoteAddress?: string }).remoteAddress;
        let user: BrokerUser | undefined;
        const verdict = guard.login(remote, () => {
          if (isRegional(username, password)) user = { role: 'regional' };
          else if (gateways && username && gateways.verify(username, password ?? Buffer.alloc(0)))
            user = { role: 'gateway', gatewayId: username };
          return user !== undefined;
        });
        if (verdict === 'accepted' && user) {
          users.set(client, user);
          return done(null, true);
        }
        const error = new Error('not authorized') as AuthenticateError;
        error.returnCode = 5;
        done(error, false);
      },
      authorizePublish(client, packet, done) {
        if (!gateways || !client) return done(null);
        const user = users.get(client);
        if (user && mayPublish(user, packet.topic)) return done(null);
        log.warn({ user, topic: packet.topic }, 'publish outside its topics refused; connection closed');
        done(new Error('not authorized'));
      },
      authorizeSubscribe(client, subscription, done) {
        if (!gateways) return done(null, subscription);
        const user = users.get(client);
        if (user && maySubscribe(user, subscription.topic)) return done(null, subscription);
        log.warn({ user, filter: subscription.topic }, 'subscription outside its topics refused');
        done(null, null);
      },
    });
    aedes.on('client', (client) => guard.loggedIn(client.conn));
    const server = createServer((conn) => {
      aedes.handle(conn);
      guard.watch(conn);
    });
    guard.limitConnections(server);
    const broker = new EmbeddedRegionalBroker(aedes, server, host, guard);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new MaverickError(ErrorCode.MqttBind, `regional broker cannot listen on ${host}:${options.port}`, {
            cause: err,
          }),
        ),
      );
      server.listen(options.port, host, () => resolve());
    });
    return broker;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}
