/**
 * Satellite intake without a broker: an Iridium SBD DirectIP MO receiver.
 * The Iridium gateway opens one TCP connection per mobile-originated message,
 * sends it (proto/link/directip.ts) and, when the receiver is provisioned to
 * confirm, waits for an MO confirmation before closing. Here:
 *   - the modem's IMEI must belong to a registered gateway; messages of
 *     other IMEIs are confirmed (so Iridium stops redelivering) and dropped;
 *   - the payload is one message-link frame, fed to the same intake as every
 *     other satellite path (reassembly state in the store, so any worker may
 *     take any message);
 *   - the confirmation is sent only after the frame is stored: when the store
 *     fails the receiver answers "failure" and Iridium delivers it again;
 *   - the MT status messages the intake answers with go to `onMobileTerminated`
 *     (see regional/DEPLOY.md: they leave by the operator's MT path).
 * Untrusted peer: one message per connection, at most MO_MESSAGE_MAX bytes,
 * a deadline per connection, a cap on connections, and optionally only the
 * addresses of Iridium's gateways. Nothing a peer sends can throw out of here.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import {
  decodeMoMessage,
  encodeMoConfirmation,
  type MoHeader,
  moMessageLength,
  SESSION_STATUS_DELIVERED,
} from '../../proto/link/directip.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { isLoopbackHost } from '../../proto/net.js';

export interface DirectIpReceiverOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The registered gateway a modem belongs to, or undefined. */
  gatewayForImei(imei: string): string | undefined | Promise<string | undefined>;
  /**
   * Takes one MO payload (a message-link frame) of `imei`; resolves once it is
   * stored, with the MT messages to send back. Rejects when it could not be
   * stored (the message is then not confirmed, and Iridium delivers it again).
   */
  onPayload(imei: string, payload: Uint8Array, header: MoHeader): Promise<Uint8Array[]>;
  /** Where the MT status messages go (default: logged only). */
  onMobileTerminated?(imei: string, gatewayId: string, messages: Uint8Array[]): void | Promise<void>;
  /** Send MO confirmations (the Iridium gateway is provisioned to expect them; default true). */
  confirm?: boolean;
  /** Remote addresses allowed to connect (Iridium's gateways); required when listening beyond loopback. */
  allowFrom?: readonly string[];
  /** Connections at once (default 32). */
  maxConnections?: number;
  /** A connection must deliver its message within this time (default 10 s). */
  timeoutMs?: number;
  logger?: Logger;
}

export interface DirectIpStats {
  connections: number;
  messages: number;
  confirmed: number;
  refused: number;
  unknownImei: number;
  failed: number;
}

const normalise = (address: string | undefined) => (address ?? '').replace(/^::ffff:/, '');

export class DirectIpReceiver {
  readonly stats: DirectIpStats = {
    connections: 0,
    messages: 0,
    confirmed: 0,
    refused: 0,
    unknownImei: 0,
    failed: 0,
  };
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;

  private constructor(
    private readonly server: Server,
    private readonly options: DirectIpReceiverOptions,
    readonly host: string,
    log: Logger,
  ) {
    this.log = log;
  }

  static async start(options: DirectIpReceiverOptions): Promise<DirectIpReceiver> {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackHost(host) && (options.allowFrom ?? []).length === 0) {
      throw new MaverickError(
        ErrorCode.ConfigInvalid,
        `directip: refusing to listen on ${host} for anyone; DirectIP has no authentication`,
        {
          hint: "set [directip] allow_from to the Iridium gateway's addresses (or listen on 127.0.0.1 behind a tunnel)",
          context: { field: 'directip.host', host },
        },
      );
    }
    const log = (options.logger ?? silentLogger).child({ component: 'directip' });
    const server = createServer();
    const receiver = new DirectIpReceiver(server, options, host, log);
    server.maxConnections = options.maxConnections ?? 32;
    server.on('connection', (socket) => receiver.take(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new MaverickError(ErrorCode.MqttBind, `directip: cannot listen on ${host}:${options.port}`, {
            hint: 'choose a free port in [directip] port',
            cause: err,
          }),
        ),
      );
      server.listen(options.port, host, () => resolve());
    });
    server.on('error', (err) => log.warn({ err: describeError(err) }, 'DirectIP listener error'));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private take(socket: Socket): void {
    const remote = normalise(socket.remoteAddress);
    const allow = this.options.allowFrom;
    if (allow && allow.length > 0 && !allow.map(normalise).includes(remote)) {
      this.stats.refused++;
      this.log.warn({ remote }, 'DirectIP connection from an address not allowed; closed');
      socket.destroy();
      return;
    }
    this.stats.connections++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.log.debug({ remote, err: describeError(err) }, 'DirectIP socket error'));
    socket.setTimeout(this.options.timeoutMs ?? 10_000, () => {
      this.log.warn({ remote }, 'DirectIP connection timed out before a whole message; closed');
      socket.destroy();
    });
    const chunks: Buffer[] = [];
    let received = 0;
    let total: number | undefined;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      try {
        if (total === undefined) total = moMessageLength(Buffer.concat(chunks).subarray(0, 3));
      } catch (err) {
        return this.reject(socket, remote, err);
      }
      if (total === undefined || received < total) return;
      socket.off('data', onData);
      if (received > total)
        return this.reject(socket, remote, new Error(`${received - total} bytes after the message`));
      void this.process(socket, remote, new Uint8Array(Buffer.concat(chunks, received)));
    };
    socket.on('data', onData);
  }

  private reject(socket: Socket, remote: string, err: unknown): void {
    this.stats.failed++;
    this.log.warn({ remote, err: describeError(err) }, 'malformed DirectIP message; connection closed');
    socket.destroy();
  }

  private async process(socket: Socket, remote: string, bytes: Uint8Array): Promise<void> {
    let message: ReturnType<typeof decodeMoMessage>;
    try {
      message = decodeMoMessage(bytes);
    } catch (err) {
      return this.reject(socket, remote, err);
    }
    this.stats.messages++;
    const { header, payload } = message;
    let success = true;
    try {
      const gatewayId = await this.options.gatewayForImei(header.imei);
      if (!gatewayId) {
        this.stats.unknownImei++;
        this.log.warn(
          { imei: header.imei, cdr: header.cdrReference },
          'DirectIP message from an IMEI no gateway is registered with; dropped (regional gateway add --imei)',
        );
      } else if (!payload || !SESSION_STATUS_DELIVERED.has(header.sessionStatus)) {
        this.log.info(
          { imei: header.imei, sessionStatus: header.sessionStatus },
          'DirectIP message without a delivered payload',
        );
      } else {
        const mt = await this.options.onPayload(header.imei, payload, header);
        if (mt.length > 0) void this.handOn(header.imei, gatewayId, mt);
      }
    } catch (err) {
      success = false;
      this.stats.failed++;
      this.log.warn(
        { imei: header.imei, cdr: header.cdrReference, err: describeError(err) },
        'DirectIP message not stored; confirming failure so Iridium delivers it again',
      );
    }
    if (this.options.confirm === false || socket.destroyed) {
      socket.end();
      return;
    }
    if (success) this.stats.confirmed++;
    socket.end(encodeMoConfirmation(success));
  }

  /** The MO is stored whatever happens to its answer: MT trouble is logged, never a failed MO. */
  private async handOn(imei: string, gatewayId: string, mt: Uint8Array[]): Promise<void> {
    if (!this.options.onMobileTerminated) {
      this.log.info({ imei, messages: mt.length }, 'MT status messages not sent (no MT path configured)');
      return;
    }
    try {
      await this.options.onMobileTerminated(imei, gatewayId, mt);
    } catch (err) {
      this.log.warn({ imei, err: describeError(err) }, 'MT status messages not handed on');
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
