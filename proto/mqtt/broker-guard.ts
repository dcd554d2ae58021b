/**
 * What both embedded brokers (the gateway's local one and the regional node's)
 * put in front of aedes so that nobody who can reach the port can exhaust the
 * process before logging in:
 *  - a packet-size limit read from each fixed header (frame-scanner.ts): small
 *    until the client has logged in, larger after; an oversized declaration
 *    closes the socket before its body is buffered;
 *  - a connection limit (net.Server.maxConnections) and aedes' CONNECT timeout;
 *  - per-address back-off on failed logins (login-backoff.ts);
 *  - no plaintext listener beyond loopback unless the operator opts in.
 * It depends on aedes only by shape, so proto/ stays free of the broker itself.
 */
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, MaverickError } from '../errors.js';
import { type Logger, WarnLimiter } from '../log.js';
import { isLoopbackHost } from '../net.js';
import { MqttFrameScanner } from './frame-scanner.js';
import { LoginBackoff, type LoginBackoffOptions } from './login-backoff.js';

export interface BrokerLimits {
  /** Largest packet before login (CONNECT with its will); default 16 KiB. */
  maxPacketBytesBeforeLogin?: number;
  /** Largest packet after login; default 256 KiB. */
  maxPacketBytes?: number;
  /** Open connections at once, logged in or not; default 256. */
  maxConnections?: number;
  /** A connection must complete CONNECT within this; default 10 s (handed to aedes). */
  connectTimeoutMs?: number;
  backoff?: LoginBackoffOptions;
}

export interface BrokerGuardCounters {
  oversizeRefused: number;
  malformedRefused: number;
  connectionsRefused: number;
  loginsFailed: number;
  loginsLockedOut: number;
}

/** The part of a connection the guard needs: a readable socket with a peer address. */
type GuardedConnection = Duplex & { remoteAddress?: string | undefined };

export type LoginVerdict = 'accepted' | 'refused' | 'locked-out';

export class BrokerGuard {
  readonly counters: BrokerGuardCounters = {
    oversizeRefused: 0,
    malformedRefused: 0,
    connectionsRefused: 0,
    loginsFailed: 0,
    loginsLockedOut: 0,
  };
  readonly connectTimeoutMs: number;
  readonly #beforeLogin: number;
  readonly #afterLogin: number;
  readonly #maxConnections: number;
  readonly #scanners = new WeakMap<object, MqttFrameScanner>();
  readonly #backoff: LoginBackoff;
  readonly #warn: WarnLimiter;

  constructor(limits: BrokerLimits, log: Logger) {
    this.#beforeLogin = limits.maxPacketBytesBeforeLogin ?? 16 * 1024;
    this.#afterLogin = limits.maxPacketBytes ?? 256 * 1024;
    this.#maxConnections = limits.maxConnections ?? 256;
    this.connectTimeoutMs = limits.connectTimeoutMs ?? 10_000;
    this.#backoff = new LoginBackoff(limits.backoff);
    this.#warn = new WarnLimiter(log);
  }

  /** Caps the server's connections; the ones beyond are dropped by Node and counted here. */
  limitConnections(server: Server): void {
    server.maxConnections = this.#maxConnections;
    server.on('drop', (info) => {
      this.counters.connectionsRefused++;
      this.#warn.warn(
        { from: info?.remoteAddress ?? null, maxConnections: this.#maxConnections },
        'mqtt connection refused: connection limit reached',
      );
    });
  }

  /**
   * Call right after aedes.handle(conn). The 'data' listener sees every chunk aedes
   * reads (a 'readable' listener keeps control of the flow, so nothing changes for
   * aedes) and destroys the connection on the first oversized or malformed header.
   */
  watch(conn: GuardedConnection): void {
    const scanner = new MqttFrameScanner(this.#beforeLogin);
    this.#scanners.set(conn, scanner);
    const onData = (chunk: Buffer) => {
      const verdict = scanner.feed(chunk);
      if (verdict.kind === 'ok') return;
      conn.off('data', onData);
      const from = conn.remoteAddress ?? null;
      if (verdict.kind === 'oversize') {
        this.counters.oversizeRefused++;
        this.#warn.warn(
          { from, declaredBytes: verdict.declaredBytes, limitBytes: verdict.limitBytes },
          'mqtt connection closed: packet larger than allowed',
        );
      } else {
        this.counters.malformedRefused++;
        this.#warn.warn({ from, reason: verdict.reason }, 'mqtt connection closed: malformed packet header');
      }
      conn.destroy();
    };
    conn.on('data', onData);
  }

  /** The client on `conn` logged in: it may now send the larger packets. */
  loggedIn(conn: object): void {
    this.#scanners.get(conn)?.setLimit(this.#afterLogin);
  }

  /**
   * Runs `credentialsMatch` unless the address is locked out, and books the
   * outcome. A locked-out address is refused whatever it sends.
   */
  login(address: string | undefined, credentialsMatch: () => boolean): LoginVerdict {
    const key = address ?? 'unknown';
    const waitMs = this.#backoff.lockedForMs(key);
    if (waitMs > 0) {
      this.counters.loginsLockedOut++;
      this.#warn.warn({ from: key, retryAfterMs: waitMs }, 'mqtt login refused: address backing off');
      return 'locked-out';
    }
    if (credentialsMatch()) {
      this.#backoff.succeeded(key);
      return 'accepted';
    }
    this.counters.loginsFailed++;
    this.#backoff.failed(key);
    this.#warn.warn({ from: key }, 'mqtt client refused: bad credentials');
    return 'refused';
  }
}

/**
 * A broker reachable beyond this machine carries passwords: it must use TLS,
 * unless the operator says explicitly that the network is closed.
 */
export function assertSafeBind(options: {
  host: string;
  tls: boolean;
  allowPlaintextBeyondLoopback: boolean;
  field: string;
  optIn: string;
}): void {
  if (options.tls || options.allowPlaintextBeyondLoopback || isLoopbackHost(options.host)) return;
  throw new MaverickError(
    ErrorCode.ConfigInvalid,
    `mqtt: refusing to listen on ${options.host} without TLS (passwords would cross the network in clear)`,
    {
      hint: `configure TLS, bind ${options.field} to 127.0.0.1, or set ${options.optIn} if this network is closed`,
      context: { field: options.field, host: options.host },
    },
  );
}
