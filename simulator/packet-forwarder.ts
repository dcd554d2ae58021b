/**
 * PacketForwarderEmulator: the gateway side of Semtech UDP (what lora_pkt_fwd does), for demos
 * and end-to-end tests. Sends PULL_DATA keep-alives, PUSH_DATA with rxpk/stat, answers PULL_RESP
 * with TX_ACK, and counts PUSH_ACKs that never came. Imports proto/ only (docs/ARCHITECTURE.md).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { describeError, ErrorCode, MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import {
  decodeDatagram,
  encodePullData,
  encodePushData,
  encodeTxAck,
  type RxpkInput,
  type SemtechStat,
  type TxAckErrorName,
  type Txpk,
} from '../proto/semtech-udp/index.js';
import { type EmulatedUplink, rxpkFromMeta, TmstClock } from './packet-forwarder-meta.js';

export type { EmulatedUplink, UplinkMeta } from './packet-forwarder-meta.js';

export interface PacketForwarderEmulatorOptions {
  host?: string;
  port: number;
  /** 16 hex characters. */
  gatewayEui: string;
  /** PULL_DATA keep-alive period (lora_pkt_fwd's keepalive_interval, default 10 s). */
  keepAliveMs?: number;
  /** How long to wait for PUSH_ACK / PULL_ACK before counting it missing. */
  ackTimeoutMs?: number;
  /** Start value of the emulated u32 µs counter (e.g. 2**32 - 1_000_000 to exercise wrap). */
  tmstStart?: number;
  /** Decides the TX_ACK for each downlink; default NONE (accepted). */
  txAckFor?: (txpk: Txpk) => TxAckErrorName;
  logger?: Logger;
}

export interface ForwarderDownlink {
  txpk: Txpk;
  token: number;
  /** What the emulator answered. */
  ack: TxAckErrorName;
}

export interface PacketForwarderEvents {
  downlink: [ForwarderDownlink];
  pushAck: [number];
  pullAck: [number];
}

interface AwaitedAck {
  timer: NodeJS.Timeout;
  resolve: (acked: boolean) => void;
}

export class PacketForwarderEmulator extends EventEmitter<PacketForwarderEvents> {
  readonly gatewayEui: string;
  readonly #host: string;
  readonly #port: number;
  readonly #keepAliveMs: number;
  readonly #ackTimeoutMs: number;
  readonly #txAckFor: (txpk: Txpk) => TxAckErrorName;
  readonly #log: Logger;
  readonly #clock: TmstClock;
  readonly #awaitingPushAck = new Map<number, AwaitedAck>();
  readonly #awaitingPullAck = new Map<number, AwaitedAck>();
  #socket: dgram.Socket | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #nextToken = Math.floor(Math.random() * 0x10000);
  readonly #counters = {
    pushDataSent: 0,
    pushAcksReceived: 0,
    pushAcksMissing: 0,
    pullDataSent: 0,
    pullAcksReceived: 0,
    pullAcksMissing: 0,
    downlinksReceived: 0,
    txAcksSent: 0,
    malformedReceived: 0,
  };

  constructor(options: PacketForwarderEmulatorOptions) {
    super();
    this.gatewayEui = options.gatewayEui.toLowerCase();
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port;
    this.#keepAliveMs = options.keepAliveMs ?? 10_000;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 1000;
    this.#txAckFor = options.txAckFor ?? (() => 'NONE');
    this.#log = (options.logger ?? silentLogger).child({
      emulator: 'packet-forwarder',
      gatewayEui: this.gatewayEui,
    });
    this.#clock = new TmstClock(options.tmstStart ?? 0);
  }

  /** Opens the socket, sends the first PULL_DATA and waits for its PULL_ACK (true if it came). */
  async start(): Promise<boolean> {
    if (this.#socket) return true;
    const socket = dgram.createSocket({ type: isIPv6(this.#host) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('message', (msg) => this.#onDatagram(msg));
    socket.on('error', (err) => this.#log.warn({ err: describeError(err) }, 'emulator socket error'));
    this.#socket = socket;
    this.#keepAlive = setInterval(() => {
      this.pullData().catch((err: unknown) =>
        this.#log.warn({ err: describeError(err) }, 'keep-alive failed'),
      );
    }, this.#keepAliveMs);
    return this.pullData();
  }

  async stop(): Promise<void> {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    for (const waits of [this.#awaitingPushAck, this.#awaitingPullAck]) {
      for (const { timer, resolve } of waits.values()) {
        clearTimeout(timer);
        resolve(false);
      }
      waits.clear();
    }
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** Current value of the emulated concentrator counter (u32 µs, wraps). */
  tmstNow(): number {
    return this.#clock.now();
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.#counters };
  }

  /** Sends one PULL_DATA; resolves true when its PULL_ACK arrives. */
  pullData(): Promise<boolean> {
    const token = this.#token();
    this.#counters.pullDataSent++;
    return this.#sendAwaiting(
      encodePullData({ token, gatewayEui: this.gatewayEui }),
      token,
      this.#awaitingPullAck,
      'pull',
    );
  }

  /** One frame in one PUSH_DATA; resolves with the token and whether PUSH_ACK came. */
  sendUplink(
    phyPayload: Uint8Array,
    meta: EmulatedUplink['meta'],
  ): Promise<{ token: number; acked: boolean }> {
    return this.sendUplinks([{ phyPayload, meta }]);
  }

  /** Several frames in one PUSH_DATA (a concentrator reports what it received since the last poll). */
  async sendUplinks(uplinks: EmulatedUplink[]): Promise<{ token: number; acked: boolean }> {
    const rxpk: RxpkInput[] = uplinks.map((u) => rxpkFromMeta(u, this.#clock));
    return this.#push({ rxpk });
  }

  async sendStat(stat: Omit<SemtechStat, 'gatewayEui'>): Promise<{ token: number; acked: boolean }> {
    return this.#push({ stat });
  }

  async #push(body: { rxpk?: RxpkInput[]; stat?: Omit<SemtechStat, 'gatewayEui'> }) {
    const token = this.#token();
    this.#counters.pushDataSent++;
    const bytes = encodePushData({ token, gatewayEui: this.gatewayEui, ...body });
    const acked = await this.#sendAwaiting(bytes, token, this.#awaitingPushAck, 'push');
    return { token, acked };
  }

  #sendAwaiting(bytes: Uint8Array, token: number, waits: Map<number, AwaitedAck>, kind: 'push' | 'pull') {
    const socket = this.#socket;
    if (!socket) {
      return Promise.reject(
        new MaverickError(ErrorCode.RadioNotStarted, 'packet-forwarder emulator used before start()', {
          hint: 'await emulator.start() first',
        }),
      );
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        waits.delete(token);
        if (kind === 'push') this.#counters.pushAcksMissing++;
        else this.#counters.pullAcksMissing++;
        resolve(false);
      }, this.#ackTimeoutMs);
      waits.set(token, { timer, resolve });
      socket.send(bytes, this.#port, this.#host, (err) => {
        if (err) this.#log.warn({ err: describeError(err) }, 'emulator send failed');
      });
    });
  }

  #onDatagram(msg: Buffer): void {
    let packet: ReturnType<typeof decodeDatagram>;
    try {
      packet = decodeDatagram(msg);
    } catch (err) {
      this.#counters.malformedReceived++;
      this.#log.warn({ err: describeError(err) }, 'emulator received a malformed datagram');
      return;
    }
    if (packet.type === 'PUSH_ACK' || packet.type === 'PULL_ACK') {
      const waits = packet.type === 'PUSH_ACK' ? this.#awaitingPushAck : this.#awaitingPullAck;
      const awaited = waits.get(packet.token);
      if (!awaited) return;
      waits.delete(packet.token);
      clearTimeout(awaited.timer);
      if (packet.type === 'PUSH_ACK') this.#counters.pushAcksReceived++;
      else this.#counters.pullAcksReceived++;
      this.emit(packet.type === 'PUSH_ACK' ? 'pushAck' : 'pullAck', packet.token);
      awaited.resolve(true);
    } else if (packet.type === 'PULL_RESP') {
      this.#counters.downlinksReceived++;
      let ack: TxAckErrorName;
      try {
        ack = this.#txAckFor(packet.txpk);
      } catch (err) {
        // A broken test hook must not crash the socket handler; the server will see a TX timeout.
        this.#log.error({ err: describeError(err) }, 'txAckFor hook threw; no TX_ACK sent');
        return;
      }
      // NONE is sent as an explicit txpk_ack like lora_pkt_fwd v4 does; both forms mean success.
      const reply = encodeTxAck({ token: packet.token, gatewayEui: this.gatewayEui, error: ack });
      this.#socket?.send(reply, this.#port, this.#host, (err) => {
        if (!err) this.#counters.txAcksSent++;
      });
      this.emit('downlink', { txpk: packet.txpk, token: packet.token, ack });
    }
  }

  #token(): number {
    this.#nextToken = (this.#nextToken + 1) & 0xffff;
    return this.#nextToken;
  }
}
