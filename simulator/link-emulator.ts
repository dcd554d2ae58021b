/**
 * Poor links on loopback, for tests, benchmarks and the demo:
 *   - TcpLinkProxy: a TCP proxy for the MQTT link that can cut and restore
 *     connections (refusing new ones while cut), throttle bandwidth and add latency;
 *   - MessagePipe: a message transport (the MessageTransport contract) with an
 *     MTU, bandwidth (e.g. 2400 bit/s), latency, loss and satellite pass windows,
 *     answers queued for the next session the way Iridium queues MT messages;
 *   - VirtualClock and PassSchedule, so a day of outages runs in milliseconds.
 */
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { MessageTransport } from '../proto/link/transport.js';

/** A clock tests move by hand. */
export class VirtualClock {
  constructor(private t = 0) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Windows [start, end) in clock ms when a link is usable (satellite passes, scheduled outages inverted). */
export class PassSchedule {
  constructor(readonly windows: readonly { start: number; end: number }[]) {}

  /** `passMs` of every `periodMs`, starting at `firstMs`, for `days` days. */
  static periodic(periodMs: number, passMs: number, firstMs = 0, days = 1): PassSchedule {
    const windows: { start: number; end: number }[] = [];
    for (let t = firstMs; t < firstMs + days * 86_400_000; t += periodMs)
      windows.push({ start: t, end: t + passMs });
    return new PassSchedule(windows);
  }

  isOpen(t: number): boolean {
    return this.windows.some((w) => t >= w.start && t < w.end);
  }

  /** The next time the link opens at or after `t`, or undefined. */
  nextOpen(t: number): number | undefined {
    if (this.isOpen(t)) return t;
    return this.windows.find((w) => w.start >= t)?.start;
  }
}

export interface TcpLinkProxyOptions {
  target: { host: string; port: number };
  /** Bandwidth cap per direction; unlimited when absent. */
  bytesPerSecond?: number;
  latencyMs?: number;
}

export class TcpLinkProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private up = true;
  cuts = 0;
  bytesForwarded = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: TcpLinkProxyOptions,
  ) {}

  static async start(options: TcpLinkProxyOptions): Promise<TcpLinkProxy> {
    let proxy: TcpLinkProxy | undefined;
    const server = createServer((client) => proxy?.accept(client));
    proxy = new TcpLinkProxy(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get isUp(): boolean {
    return this.up;
  }

  private accept(client: Socket): void {
    if (!this.up) {
      client.destroy();
      return;
    }
    const upstream = createConnection(this.options.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    const { bytesPerSecond, latencyMs = 0 } = this.options;
    if (!bytesPerSecond && !latencyMs) {
      from.on('data', (chunk: Buffer) => {
        this.bytesForwarded += chunk.length;
        if (!to.destroyed) to.write(chunk);
      });
      return;
    }
    let freeAt = 0;
    from.on('data', (chunk: Buffer) => {
      const now = Date.now();
      freeAt = Math.max(now, freeAt) + (bytesPerSecond ? (chunk.length * 1000) / bytesPerSecond : 0);
      setTimeout(
        () => {
          this.bytesForwarded += chunk.length;
          if (!to.destroyed) to.write(chunk);
        },
        freeAt - now + latencyMs,
      );
    });
  }

  /** Drops every connection and refuses new ones until `restore()`. */
  cut(): void {
    this.up = false;
    this.cuts++;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  restore(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface MessagePipeOptions {
  /** The far end: takes an MO message, returns MT messages to queue. */
  deliver: (message: Uint8Array) => Promise<Uint8Array[] | undefined>;
  mtu?: number;
  /** Link rate for timing (default 2400 bit/s). */
  bitsPerSecond?: number;
  latencyMs?: number;
  /** Fraction of messages lost silently, each direction. */
  lossRate?: number;
  random?: () => number;
  /** With a VirtualClock the pipe advances it instead of sleeping. */
  clock?: VirtualClock;
  /** When given, the pipe is usable only inside these windows. */
  schedule?: PassSchedule;
  bytesPerCredit?: number;
}

export interface MessagePipeCounters {
  sessions: number;
  moMessages: number;
  moBytes: number;
  mtMessages: number;
  mtBytes: number;
  lost: number;
  /** Time the link spent carrying or waiting for messages. */
  busyMs: number;
  /** Billing units: per message each way, ceil(bytes / bytesPerCredit) (RockBLOCK: 50), lost messages included. */
  credits: number;
}

export class MessagePipe implements MessageTransport {
  readonly moMtu: number;
  readonly counters: MessagePipeCounters = {
    sessions: 0,
    moMessages: 0,
    moBytes: 0,
    mtMessages: 0,
    mtBytes: 0,
    lost: 0,
    busyMs: 0,
    credits: 0,
  };
  /** Manual switch, on top of the schedule. */
  up = true;
  private readonly queue: Uint8Array[] = [];
  private readonly handlers = new Set<(m: Uint8Array) => void>();
  private readonly random: () => number;

  constructor(private readonly options: MessagePipeOptions) {
    this.moMtu = options.mtu ?? 340;
    this.random = options.random ?? Math.random;
  }

  private now(): number {
    return this.options.clock ? this.options.clock.now() : Date.now();
  }

  async isUsable(): Promise<boolean> {
    return this.up && (this.options.schedule?.isOpen(this.now()) ?? true);
  }

  private async spend(bytes: number): Promise<void> {
    const ms = (this.options.latencyMs ?? 0) + (bytes * 8 * 1000) / (this.options.bitsPerSecond ?? 2400);
    this.counters.busyMs += ms;
    if (this.options.clock) this.options.clock.advance(ms);
    else if (ms >= 1) await new Promise((r) => setTimeout(r, ms));
  }

  private async open(): Promise<void> {
    if (!(await this.isUsable()))
      throw new MaverickError(ErrorCode.LinkDown, 'the message link is outside a pass window or cut');
    this.counters.sessions++;
  }

  async send(message: Uint8Array): Promise<void> {
    if (message.length < 1 || message.length > this.moMtu) {
      throw new MaverickError(
        ErrorCode.LinkModem,
        `a message is 1..${this.moMtu} bytes, got ${message.length}`,
      );
    }
    await this.open();
    await this.spend(message.length);
    this.counters.moMessages++;
    this.counters.moBytes += message.length;
    this.counters.credits += Math.ceil(message.length / (this.options.bytesPerCredit ?? 50));
    if (this.random() < (this.options.lossRate ?? 0)) {
      this.counters.lost++;
    } else {
      for (const mt of (await this.options.deliver(message.slice())) ?? []) this.queue.push(mt);
    }
    await this.deliverOne();
  }

  async poll(): Promise<void> {
    await this.open();
    await this.spend(0);
    await this.deliverOne();
  }

  private async deliverOne(): Promise<void> {
    const mt = this.queue.shift();
    if (!mt) return;
    await this.spend(mt.length);
    this.counters.mtMessages++;
    this.counters.mtBytes += mt.length;
    this.counters.credits += Math.ceil(mt.length / (this.options.bytesPerCredit ?? 50));
    if (this.random() < (this.options.lossRate ?? 0)) {
      this.counters.lost++;
      return;
    }
    for (const h of this.handlers) h(mt);
  }

  onMessage(handler: (message: Uint8Array) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}
