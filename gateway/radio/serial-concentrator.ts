/**
 * Radio backend for a concentrator or bridge MCU on a serial port speaking the
 * Maverick serial concentrator protocol (proto/serial/PROTOCOL.md).
 *
 * State: `starting` until the MCU answers HELLO, then `up`; `down` while the
 * port is open but the MCU is silent (HELLO/PING unanswered); `reconnecting`
 * while the port is gone (it reopens with exponential backoff and says HELLO
 * again); `stopped` after stop(). The MCU has no EUI of its own, so the gateway
 * EUI comes from configuration.
 */
import { EventEmitter } from 'node:events';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import type {
  RadioBackend,
  RadioBackendEvents,
  RadioBackendState,
  RadioCapabilities,
  RxMetadata,
  TxAck,
  TxAckStatus,
  TxRequest,
} from '../../proto/radio.js';
import {
  encodeMessage,
  type HelloMessage,
  type RxpkMessage,
  SerialFrameDecoder,
  type SerialMessage,
  type StatMessage,
} from '../../proto/serial/index.js';
import type { BindingInterface } from './serial-binding-types.cjs';
import { type ReconnectOptions, SerialPortSession, sessionOptions } from './serial-port-session.js';

export interface SerialConcentratorOptions {
  path: string;
  baudRate?: number;
  /** 16 hex characters; the MCU has no EUI of its own. */
  gatewayEui: string;
  logger?: Logger;
  /** Serial binding; default the native one. Tests pass @serialport/binding-mock. */
  binding?: BindingInterface;
  reconnect?: Partial<ReconnectOptions>;
  /** How long schedule() waits for TXPK_ACK before resolving TIMEOUT. */
  txAckTimeoutMs?: number;
  /** HELLO retry / PING interval; the MCU counts as silent after three intervals without a frame. */
  heartbeatMs?: number;
}

/** GPS epoch (1980-01-06T00:00:00Z) in Unix ms, and GPS−UTC leap seconds since 2017-01-01 (IERS Bulletin C). */
const GPS_EPOCH_UNIX_MS = 315_964_800_000;
const GPS_UTC_LEAP_MS = 18_000;

export function normaliseGatewayEui(eui: string): string {
  if (!/^[0-9a-fA-F]{16}$/.test(eui)) {
    throw new MaverickError(ErrorCode.ConfigInvalid, `gatewayEui "${eui}" is not 16 hex characters`, {
      hint: 'set radio.gatewayEui, e.g. the Pi MAC with fffe inserted in the middle: b827ebfffe123456',
      context: { field: 'gatewayEui' },
    });
  }
  return eui.toLowerCase();
}

interface PendingTx {
  resolve(ack: TxAck): void;
  timer: NodeJS.Timeout;
}

export class SerialConcentratorBackend extends EventEmitter<RadioBackendEvents> implements RadioBackend {
  readonly kind = 'serial' as const;
  readonly capabilities: RadioCapabilities = { downlink: true, timedDownlink: true };
  private currentState: RadioBackendState = 'stopped';
  private readonly gatewayEui: string;
  private readonly logger: Logger;
  private readonly session: SerialPortSession;
  private readonly decoder = new SerialFrameDecoder();
  private readonly txAckTimeoutMs: number;
  private readonly heartbeatMs: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private hello: HelloMessage | undefined;
  private lastHeardAt = 0;
  private unansweredHellos = 0;
  private seq = 0;
  private nextTxId = 0;
  private readonly pending = new Map<number, PendingTx>();
  private readonly stats: Record<string, number> = {
    uplinks: 0,
    uplinksCrcBad: 0,
    stats: 0,
    txSent: 0,
    txAcked: 0,
    txTimeout: 0,
    txNoRoute: 0,
    mcuSilent: 0,
  };

  constructor(options: SerialConcentratorOptions) {
    super();
    this.gatewayEui = normaliseGatewayEui(options.gatewayEui);
    this.logger = (options.logger ?? silentLogger).child({ radio: 'serial', path: options.path });
    this.txAckTimeoutMs = options.txAckTimeoutMs ?? 2_000;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.session = new SerialPortSession(sessionOptions(options, this.logger));
    this.session.on('open', () => this.onOpen());
    this.session.on('data', (chunk) => this.onData(chunk));
    this.session.on('lost', (reason) => this.onLost(reason));
    this.session.on('open-failed', (reason) => {
      if (this.currentState !== 'reconnecting')
        this.logger.warn({ reason }, 'serial port open failed; retrying');
      this.setState('reconnecting', `open failed: ${reason}`);
    });
  }

  get state(): RadioBackendState {
    return this.currentState;
  }

  /** Firmware identity from the last HELLO, for `doctor`. */
  get firmware(): HelloMessage | undefined {
    return this.hello;
  }

  async start(): Promise<void> {
    if (this.currentState !== 'stopped') return;
    this.setState('starting');
    await this.session.start();
  }

  async stop(): Promise<void> {
    this.stopHeartbeat();
    this.failPending('NO_ROUTE');
    await this.session.stop();
    this.setState('stopped');
  }

  async schedule(tx: TxRequest): Promise<TxAck> {
    const ack = (status: TxAckStatus, id = tx.id): TxAck => ({
      gatewayEui: tx.gatewayEui,
      status,
      ...(id === undefined ? {} : { id }),
    });
    if (tx.gatewayEui.toLowerCase() !== this.gatewayEui || this.currentState !== 'up') {
      this.stats.txNoRoute++;
      return ack('NO_ROUTE');
    }
    if (tx.tmst !== undefined && this.hello && !this.hello.capabilities.timedTx) return ack('UNSUPPORTED');
    const id = tx.id ?? this.allocateTxId();
    const bytes = encodeMessage({
      type: 'txpk',
      seq: this.nextSeq(),
      id,
      immediate: tx.tmst === undefined,
      tmst: tx.tmst ?? 0,
      frequencyHz: tx.frequencyHz,
      rfChain: 0,
      powerDbm: tx.powerDbm,
      dataRate: tx.dataRate,
      ...(tx.dataRate.modulation === 'LORA' ? { codingRate: tx.codingRate } : {}),
      invertPolarity: tx.invertPolarity,
      preamble: tx.preamble ?? 8,
      payload: tx.phyPayload,
    });
    if (this.pending.has(id)) this.settle(id, 'TIMEOUT'); // a reused id supersedes the old request
    return new Promise<TxAck>((resolve) => {
      const timer = setTimeout(() => {
        this.stats.txTimeout++;
        this.settle(id, 'TIMEOUT');
      }, this.txAckTimeoutMs);
      this.pending.set(id, { resolve: (a) => resolve({ ...a, gatewayEui: tx.gatewayEui }), timer });
      if (this.session.write(bytes)) this.stats.txSent++;
      else this.settle(id, 'NO_ROUTE');
    });
  }

  counters(): Readonly<Record<string, number>> {
    const decoder = this.decoder.counters();
    return {
      ...this.stats,
      ...this.session.stats,
      framesOk: decoder.frames,
      framesBadChecksum: decoder.badChecksum,
      framesBadFraming: decoder.badFraming,
      framesOversize: decoder.oversize,
      framesTruncated: decoder.truncated,
      messagesBad: decoder.badMessage,
    };
  }

  private setState(state: RadioBackendState, detail?: string): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.logger.info({ state, detail }, 'serial radio state');
    this.emit('state', detail === undefined ? { state } : { state, detail });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  private allocateTxId(): number {
    this.nextTxId = (this.nextTxId + 1) & 0xffff;
    return this.nextTxId;
  }

  private onOpen(): void {
    this.decoder.reset();
    this.hello = undefined;
    this.unansweredHellos = 0;
    // A leading delimiter flushes whatever half frame the MCU's receiver holds.
    this.session.write(Uint8Array.of(0));
    this.sendHello();
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => this.tick(), this.heartbeatMs);
  }

  private onLost(reason: string): void {
    this.stopHeartbeat();
    this.hello = undefined;
    this.failPending('NO_ROUTE');
    this.logger.warn({ reason }, 'serial port lost; reconnecting');
    this.setState('reconnecting', reason);
  }

  private tick(): void {
    if (!this.hello) {
      this.unansweredHellos++;
      if (this.unansweredHellos >= 3) this.setState('down', 'port open but the MCU does not answer HELLO');
      this.sendHello();
      return;
    }
    if (Date.now() - this.lastHeardAt > 3 * this.heartbeatMs) {
      this.stats.mcuSilent++;
      this.hello = undefined;
      this.unansweredHellos = 0;
      this.failPending('NO_ROUTE');
      this.setState('down', 'the MCU stopped answering PING');
      this.sendHello();
      return;
    }
    this.session.write(encodeMessage({ type: 'ping', seq: this.nextSeq() }));
  }

  private sendHello(): void {
    this.session.write(encodeMessage({ type: 'hello-request', seq: this.nextSeq() }));
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.decoder.pushMessages(chunk)) {
      if (ev.kind === 'error') {
        this.logger.debug({ err: ev.error.message, code: ev.error.code }, 'serial frame dropped');
        continue;
      }
      this.lastHeardAt = Date.now();
      this.handle(ev.message);
    }
  }

  private handle(msg: SerialMessage): void {
    switch (msg.type) {
      case 'hello':
        this.hello = msg;
        this.setState('up', `firmware ${msg.firmware.major}.${msg.firmware.minor}.${msg.firmware.patch}`);
        return;
      case 'pong':
        return;
      case 'rxpk':
        this.onRxpk(msg);
        return;
      case 'txpk-ack':
        this.stats.txAcked++;
        this.settle(msg.id, msg.status);
        return;
      case 'stat':
        this.onStat(msg);
        return;
      default:
        this.logger.debug({ type: msg.type }, 'serial: ignored a message only a host sends');
    }
  }

  private onRxpk(msg: RxpkMessage): void {
    if (msg.crc === 'bad') {
      this.stats.uplinksCrcBad++;
      return;
    }
    this.stats.uplinks++;
    const rx: RxMetadata = {
      gatewayEui: this.gatewayEui,
      tmst: msg.tmst,
      frequencyHz: msg.frequencyHz,
      channel: msg.channel,
      rfChain: msg.rfChain,
      dataRate: msg.dataRate,
      rssi: msg.rssi,
      backend: 'serial',
    };
    if (msg.codingRate !== undefined) rx.codingRate = msg.codingRate;
    if (msg.dataRate.modulation === 'LORA') rx.snr = msg.snr;
    if (msg.tmms !== undefined) {
      rx.tmms = msg.tmms;
      rx.time = new Date(GPS_EPOCH_UNIX_MS + msg.tmms - GPS_UTC_LEAP_MS).toISOString();
    }
    this.emit('uplink', { phyPayload: msg.payload, rx, receivedAtMs: Date.now() });
  }

  private onStat(msg: StatMessage): void {
    this.stats.stats++;
    const d = this.decoder.counters();
    const bad = d.badChecksum + d.badFraming + d.oversize + d.truncated;
    this.emit('stats', {
      gatewayEui: this.gatewayEui,
      rxReceived: msg.rxReceived,
      rxOk: msg.rxOk,
      rxForwarded: msg.rxForwarded,
      // A UART has no upstream acknowledgements; the closest figure is the share of frames that arrived intact.
      ackRatio: d.frames + bad === 0 ? 100 : (100 * d.frames) / (d.frames + bad),
      downlinksReceived: msg.txReceived,
      txEmitted: msg.txEmitted,
      receivedAtMs: Date.now(),
    });
  }

  private settle(id: number, status: TxAckStatus): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ gatewayEui: this.gatewayEui, status, id });
  }

  private failPending(status: TxAckStatus): void {
    for (const id of [...this.pending.keys()]) this.settle(id, status);
  }
}
