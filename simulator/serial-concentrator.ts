/**
 * The MCU side of the Maverick serial concentrator protocol (proto/serial/PROTOCOL.md),
 * emulated over any duplex byte stream: the far end of a socat pty pair, or the
 * emulator side of a mock serial link. It answers HELLO and PING, sends RXPK for
 * `sendUplink()`, runs its own wrapping u32 microsecond counter, receives TXPK
 * (emits `downlink`, replies TXPK_ACK with a status decided like a concentrator's
 * just-in-time queue, or as configured) and sends STAT.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { MaverickError } from '../proto/errors.js';
import { type Logger, silentLogger } from '../proto/log.js';
import type { DataRate } from '../proto/radio.js';
import { addTmst, diffTmst } from '../proto/radio.js';
import {
  encodeMessage,
  type RxpkMessage,
  SERIAL_PROTOCOL_VERSION,
  type SerialCapability,
  SerialFrameDecoder,
  type SerialMessage,
  type SerialRegion,
  type SerialTxAckStatus,
  type TxpkMessage,
} from '../proto/serial/index.js';

/** Reception details of an emulated uplink; every field has a realistic default. */
export interface EmulatedRxMeta {
  /** Counter value to report; default: the emulator's counter now. */
  tmst?: number;
  frequencyHz?: number;
  channel?: number;
  rfChain?: number;
  dataRate?: DataRate;
  codingRate?: string;
  rssi?: number;
  snr?: number;
  crc?: 'ok' | 'bad' | 'none';
  tmms?: number;
}

export interface SerialConcentratorEmulatorOptions {
  firmware?: { major: number; minor: number; patch: number };
  capabilities?: Partial<Record<SerialCapability, boolean>>;
  regions?: SerialRegion[];
  channels?: number;
  /** Initial counter value (set near 2^32 to exercise wrap-around). */
  tmstStart?: number;
  /**
   * TXPK_ACK status for a TXPK; default: the JIT rule (TOO_LATE when the counter
   * has passed `tmst`, TOO_EARLY when more than 10 s ahead, else OK). 'none' stays silent.
   */
  txAck?: (txpk: TxpkMessage) => SerialTxAckStatus | 'none';
  /** Send STAT every this many ms (0 = only on `sendStat()`). */
  statIntervalMs?: number;
  logger?: Logger;
}

export interface SerialConcentratorEmulatorEvents {
  downlink: [TxpkMessage];
  'hello-request': [];
  'frame-error': [MaverickError];
}

/**
 * How far ahead the emulated MCU accepts a timed TXPK. A network server hands
 * join accepts over right after the join request, 5–6 s before they are due
 * (JOIN_ACCEPT_DELAY1/2), and real concentrator JIT queues take them; 10 s
 * leaves room for RX2 of a join plus scheduling latency.
 */
const MAX_ADVANCE_US = 10_000_000;

export class SerialConcentratorEmulator extends EventEmitter<SerialConcentratorEmulatorEvents> {
  /** When false the MCU is "hung": the port is open but nothing answers. */
  respond = true;
  private stream: Duplex | undefined;
  private readonly decoder = new SerialFrameDecoder();
  private readonly startedAt = process.hrtime.bigint();
  private readonly tmstStart: number;
  private seq = 0;
  private statTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private txAckOverride: SerialTxAckStatus | undefined;
  private readonly oneShotRefusals: SerialTxAckStatus[] = [];
  private readonly stats = {
    rxReceived: 0,
    rxOk: 0,
    rxForwarded: 0,
    txReceived: 0,
    txEmitted: 0,
    hostFramesBad: 0,
  };
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(private readonly options: SerialConcentratorEmulatorOptions = {}) {
    super();
    this.tmstStart = options.tmstStart ?? 0;
    this.logger = options.logger ?? silentLogger;
    if (options.statIntervalMs) {
      this.statTimer = setInterval(() => this.sendStat(), options.statIntervalMs);
      this.statTimer.unref();
    }
  }

  /** Connects to a stream (the MCU's UART). Replaces any previous one. */
  attach(stream: Duplex): void {
    this.detach();
    this.stream = stream;
    this.decoder.reset();
    stream.on('data', this.onData);
  }

  detach(): void {
    this.stream?.off('data', this.onData);
    this.stream = undefined;
  }

  close(): void {
    if (this.statTimer) clearInterval(this.statTimer);
    this.detach();
  }

  /** Forces the status of every following TXPK_ACK (undefined restores the JIT rule). */
  setTxAckStatus(status: SerialTxAckStatus | undefined): void {
    this.txAckOverride = status;
  }

  /** Answers only the next TXPK with `status` (e.g. TOO_LATE), then back to normal. */
  refuseNextTx(status: SerialTxAckStatus): void {
    this.oneShotRefusals.push(status);
  }

  /** The MCU's free-running microsecond counter, a wrapping u32. */
  nowTmst(): number {
    const elapsedUs = Number((process.hrtime.bigint() - this.startedAt) / 1000n);
    return addTmst(this.tmstStart, elapsedUs % 0x1_0000_0000);
  }

  /** Reports a received packet to the host; returns the RXPK as sent. */
  sendUplink(phyPayload: Uint8Array, meta: EmulatedRxMeta = {}): RxpkMessage {
    const crc = meta.crc ?? 'ok';
    this.stats.rxReceived++;
    if (crc !== 'bad') this.stats.rxOk++;
    this.stats.rxForwarded++;
    const msg: RxpkMessage = {
      type: 'rxpk',
      seq: this.nextSeq(),
      tmst: meta.tmst ?? this.nowTmst(),
      frequencyHz: meta.frequencyHz ?? 868_100_000,
      channel: meta.channel ?? 0,
      rfChain: meta.rfChain ?? 0,
      dataRate: meta.dataRate ?? { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
      rssi: meta.rssi ?? -57,
      snr: meta.snr ?? 9.5,
      crc,
      payload: phyPayload,
    };
    if (msg.dataRate.modulation === 'LORA') msg.codingRate = meta.codingRate ?? '4/5';
    if (meta.tmms !== undefined) msg.tmms = meta.tmms;
    this.send(msg);
    return msg;
  }

  sendStat(): void {
    const uptimeS = Number((process.hrtime.bigint() - this.startedAt) / 1_000_000_000n);
    this.send({ type: 'stat', seq: this.nextSeq(), ...this.stats, uptimeS });
  }

  /** Writes raw bytes on the line (for tests injecting noise). */
  writeRaw(bytes: Uint8Array): void {
    this.stream?.write(bytes);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  private send(msg: SerialMessage): void {
    const stream = this.stream;
    if (!stream || stream.destroyed || !stream.writable) return; // nobody on the line: the bytes are lost, as on a real wire
    stream.write(encodeMessage(msg));
  }

  private receive(chunk: Uint8Array): void {
    for (const ev of this.decoder.pushMessages(chunk)) {
      if (ev.kind === 'error') {
        this.stats.hostFramesBad++;
        this.emit('frame-error', ev.error);
        continue;
      }
      this.handle(ev.message);
    }
  }

  private handle(msg: SerialMessage): void {
    if (!this.respond) return;
    switch (msg.type) {
      case 'hello-request':
        this.emit('hello-request');
        this.send({
          type: 'hello',
          seq: msg.seq,
          firmware: this.options.firmware ?? { major: 1, minor: 0, patch: 0 },
          protocolVersion: SERIAL_PROTOCOL_VERSION,
          capabilities: { timedTx: true, gps: false, fsk: true, lbt: false, ...this.options.capabilities },
          channels: this.options.channels ?? 8,
          rfChains: 2,
          regions: this.options.regions ?? ['EU868'],
          maxPayload: 255,
        });
        return;
      case 'ping':
        this.send({ type: 'pong', seq: msg.seq, tmst: this.nowTmst() });
        return;
      case 'txpk': {
        this.stats.txReceived++;
        const status =
          this.oneShotRefusals.shift() ??
          this.options.txAck?.(msg) ??
          this.txAckOverride ??
          this.jitStatus(msg);
        if (status === 'OK') {
          this.stats.txEmitted++;
          this.emit('downlink', msg);
        }
        if (status !== 'none') this.send({ type: 'txpk-ack', seq: msg.seq, id: msg.id, status });
        return;
      }
      default:
        this.logger.debug({ type: msg.type }, 'serial emulator ignored a message only an MCU sends');
    }
  }

  private jitStatus(msg: TxpkMessage): SerialTxAckStatus {
    if (msg.immediate) return 'OK';
    const ahead = diffTmst(msg.tmst, this.nowTmst());
    if (ahead < 0) return 'TOO_LATE';
    if (ahead > MAX_ADVANCE_US) return 'TOO_EARLY';
    return 'OK';
  }
}
