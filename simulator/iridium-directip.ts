/**
 * Plays the Iridium gateway towards a DirectIP receiver: every MO message a
 * modem sends is delivered on a TCP connection of its own
 * (proto/link/directip.ts), and redelivered later when the receiver does not
 * confirm it. To exercise the receiver it can lose messages, deliver some
 * twice and deliver them out of order (a random delay each). MT messages the
 * regional node hands back wait in a per-IMEI queue until the modem's next
 * session, as Iridium queues them.
 *
 * `transport(imei)` is the gateway's side: a MessageTransport (the contract
 * the real SBD modem driver meets) whose every send is one SBD session.
 */
import { type AddressInfo, createConnection, createServer, type Server } from 'node:net';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import { decodeMoConfirmation, encodeMoMessage, MO_CONFIRMATION_BYTES } from '../proto/link/directip.js';
import { decodeMtMessage, encodeMtConfirmation, mtMessageLength } from '../proto/link/directip-mt.js';
import { SBD_MO_MTU } from '../proto/link/fragment.js';
import type { MessageTransport } from '../proto/link/transport.js';

export interface IridiumDirectIpEmulatorOptions {
  target: { host: string; port: number };
  /** Share of MO messages never delivered (lost). */
  dropRate?: number;
  /** Share of MO messages delivered twice. */
  duplicateRate?: number;
  /** Each delivery waits a random 0..maxDelayMs first, so deliveries overtake each other. */
  maxDelayMs?: number;
  /** Wait before delivering an unconfirmed message again (default 50 ms). */
  retryMs?: number;
  /** Deliveries of one message before Iridium gives up on it (default 50). */
  maxAttempts?: number;
  /** Deterministic randomness for tests. */
  random?: () => number;
  /** Unix ms, for the time of session. */
  now?: () => number;
}

export interface IridiumEmulatorCounters {
  moAccepted: number;
  dropped: number;
  duplicated: number;
  connections: number;
  confirmed: number;
  unconfirmed: number;
  /** Deliveries that overtook a message sent before them. */
  reordered: number;
  gaveUp: number;
  /** MT messages taken at the MT endpoint. */
  mtQueued: number;
}

interface Pending {
  imei: string;
  bytes: Uint8Array;
  order: number;
  attempts: number;
}

export class IridiumDirectIpEmulator {
  readonly counters: IridiumEmulatorCounters = {
    moAccepted: 0,
    dropped: 0,
    duplicated: 0,
    connections: 0,
    confirmed: 0,
    unconfirmed: 0,
    reordered: 0,
    gaveUp: 0,
    mtQueued: 0,
  };
  private readonly momsn = new Map<string, number>();
  private readonly mt = new Map<string, Uint8Array[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly attempts = new Set<Promise<void>>();
  private cdr = 1000;
  private order = 0;
  private highestDelivered = -1;
  private inFlight = 0;
  private closed = false;
  private target: { host: string; port: number };
  private mtServer: Server | undefined;
  private readonly random: () => number;

  constructor(private readonly options: IridiumDirectIpEmulatorOptions) {
    this.target = options.target;
    this.random = options.random ?? Math.random;
  }

  /** Points deliveries at another receiver (a restarted worker). */
  retarget(target: { host: string; port: number }): void {
    this.target = target;
  }

  /** Messages accepted from modems and not yet confirmed (or given up). */
  get pending(): number {
    return this.inFlight;
  }

  /** The modem's SBD session succeeded: Iridium now owes the receiver this message. */
  mo(imei: string, payload: Uint8Array): void {
    this.counters.moAccepted++;
    const momsn = ((this.momsn.get(imei) ?? 0) + 1) & 0xffff;
    this.momsn.set(imei, momsn);
    const bytes = encodeMoMessage({
      header: {
        cdrReference: this.cdr++,
        imei,
        sessionStatus: 0,
        momsn,
        mtmsn: 0,
        timeOfSession: Math.floor((this.options.now ?? Date.now)() / 1000),
      },
      payload,
    });
    if (this.random() < (this.options.dropRate ?? 0)) {
      this.counters.dropped++;
      return;
    }
    const order = this.order++;
    this.schedule({ imei, bytes, order, attempts: 0 });
    if (this.random() < (this.options.duplicateRate ?? 0)) {
      this.counters.duplicated++;
      this.schedule({ imei, bytes, order, attempts: 0 });
    }
  }

  /** MT messages for a modem (what the regional node submits for it). */
  queueMt(imei: string, messages: readonly Uint8Array[]): void {
    this.mt.set(imei, [...(this.mt.get(imei) ?? []), ...messages]);
  }

  private takeMt(imei: string): Uint8Array[] {
    const queued = this.mt.get(imei) ?? [];
    this.mt.delete(imei);
    return queued;
  }

  private schedule(p: Pending, delayMs = this.random() * (this.options.maxDelayMs ?? 0)): void {
    this.inFlight++;
    const attempt = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.deliver(p).finally(() => {
          this.inFlight--;
          resolve();
        });
      }, delayMs);
      this.timers.add(timer);
    });
    this.attempts.add(attempt);
    void attempt.then(() => this.attempts.delete(attempt));
  }

  /**
   * An SBD session lasts seconds, long enough for Iridium to deliver the
   * messages sent before it and for the receiver to answer: a mailbox check
   * waits for the delivery attempts under way (each ends, confirmed or not).
   */
  private async sessionTime(): Promise<void> {
    await Promise.all([...this.attempts]);
  }

  private async deliver(p: Pending): Promise<void> {
    if (this.closed) return;
    p.attempts++;
    this.counters.connections++;
    if (p.order < this.highestDelivered) this.counters.reordered++;
    this.highestDelivered = Math.max(this.highestDelivered, p.order);
    const confirmed = await this.exchange(p.bytes);
    if (confirmed) {
      this.counters.confirmed++;
      return;
    }
    this.counters.unconfirmed++;
    if (p.attempts >= (this.options.maxAttempts ?? 50)) {
      this.counters.gaveUp++;
      return;
    }
    if (!this.closed) this.schedule(p, this.options.retryMs ?? 50);
  }

  /** One connection: send the message, read the confirmation; false on anything else. */
  private exchange(bytes: Uint8Array): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection(this.target);
      const chunks: Buffer[] = [];
      let settled = false;
      const done = (ok: boolean) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(5000, () => done(false));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.write(bytes));
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        if (chunks.reduce((n, b) => n + b.length, 0) > MO_CONFIRMATION_BYTES) done(false);
      });
      socket.on('end', () => {
        try {
          done(decodeMoConfirmation(new Uint8Array(Buffer.concat(chunks))));
        } catch {
          done(false);
        }
      });
      socket.on('close', () => done(false));
    });
  }

  /** The modem side of one IMEI: each send is an SBD session that also fetches queued MT messages. */
  transport(imei: string, moMtu = SBD_MO_MTU): MessageTransport & { up: boolean } {
    const handlers = new Set<(m: Uint8Array) => void>();
    const fetch = () => {
      for (const m of this.takeMt(imei)) for (const h of handlers) h(m);
    };
    return {
      moMtu,
      up: true,
      async isUsable() {
        return this.up;
      },
      send: async (message) => {
        if (message.length > moMtu)
          throw new MaverickError(
            ErrorCode.LinkModem,
            `an MO message is at most ${moMtu} bytes, got ${message.length}`,
          );
        this.mo(imei, message);
        fetch();
      },
      poll: async () => {
        await this.sessionTime();
        fetch();
      },
      onMessage(handler) {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
    };
  }

  /**
   * Iridium's MT endpoint: takes an MT message per connection, queues its
   * payload for the modem and answers with an MT confirmation (the queue
   * position, or -7 for a malformed message).
   */
  async listenMt(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => {
      const chunks: Buffer[] = [];
      let got = 0;
      socket.on('error', () => undefined);
      socket.setTimeout(5000, () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        got += chunk.length;
        const bytes = new Uint8Array(Buffer.concat(chunks, got));
        let total: number | undefined;
        try {
          total = mtMessageLength(bytes);
        } catch {
          total = got;
        }
        if (total === undefined || got < total) return;
        let answer: Uint8Array;
        try {
          const m = decodeMtMessage(bytes);
          if (m.payload) this.queueMt(m.imei, [m.payload]);
          this.counters.mtQueued++;
          const position = this.mt.get(m.imei)?.length ?? 0;
          answer = encodeMtConfirmation({
            clientMessageId: m.clientMessageId,
            imei: m.imei,
            autoIdReference: this.cdr++,
            status: m.payload ? position : 0,
          });
        } catch {
          answer = encodeMtConfirmation({
            clientMessageId: 0,
            imei: '000000000000000',
            autoIdReference: 0,
            status: -7,
          });
        }
        socket.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.mtServer = server;
    return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  }

  close(): void {
    this.mtServer?.close();
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.attempts.clear();
    this.timers.clear();
  }
}
