/**
 * The regional node's own broker when none is given: embedded aedes (MQTT
 * 3.1.1 with persistent sessions in memory) on TCP, optional credentials.
 * regional/ may not import gateway/, hence this small wrapper of its own.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  credentials?: { username: string; password: string };
}

export class EmbeddedRegionalBroker {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly host: string,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedRegionalBroker> {
    const creds = options.credentials;
    const aedes = await Aedes.createBroker({
      authenticate(_client, username, password, done) {
        if (!creds || (username === creds.username && password?.toString() === creds.password))
          return done(null, true);
        const error = new Error('not authorized') as AuthenticateError;
        error.returnCode = 5;
        done(error, false);
      },
    });
    const server = createServer(aedes.handle);
    const host = options.host ?? '127.0.0.1';
    const broker = new EmbeddedRegionalBroker(aedes, server, host);
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
