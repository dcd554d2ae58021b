/**
 * Receive-mostly radio backend for a single-channel LoRa modem: a RAK3172 with
 * RUI3 firmware in LoRa P2P mode (RUI3 AT Command Manual: AT+NWM=0, AT+P2P,
 * AT+SYNCWORD, AT+IQINVER, AT+PRECV=65534 continuous receive, unsolicited
 * `+EVT:RXP2P:<rssi>:<snr>:<payload hex>`, AT+PSEND and `+EVT:TXP2P DONE`).
 *
 * NOT LoRaWAN-COMPLIANT FOR DOWNLINKS. The modem hears one frequency and one
 * spreading factor, has no concentrator counter (tmst is synthesised from the
 * host's monotonic clock when the event line arrives, so it is late by the
 * UART transfer) and cannot transmit at a timestamp: a downlink is sent
 * best-effort by switching the modem out of receive, which cannot meet RX1/RX2
 * timing reliably. capabilities.timedDownlink is false; use it for uplink-only
 * sensors, range tests and demos, not for OTAA joins or confirmed traffic.
 */
import { EventEmitter } from 'node:events';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import {
  diffTmst,
  type LoraDataRate,
  type RadioBackend,
  type RadioBackendEvents,
  type RadioBackendState,
  type RadioCapabilities,
  type TxAck,
  type TxAckStatus,
  type TxRequest,
} from '../../proto/radio.js';
import type { BindingInterface } from './serial-binding-types.cjs';
import { normaliseGatewayEui } from './serial-concentrator.js';
import { type ReconnectOptions, SerialPortSession, sessionOptions } from './serial-port-session.js';
import { AtChannel, parseRxP2pEvent } from './single-channel-at.js';

export interface SingleChannelOptions {
  path: string;
  baudRate?: number;
  gatewayEui: string;
  /** The one frequency the modem listens on. */
  frequencyHz: number;
  spreadingFactor?: number;
  bandwidthKHz?: 125 | 250 | 500;
  codingRate?: '4/5' | '4/6' | '4/7' | '4/8';
  preamble?: number;
  /** TX power for best-effort downlinks (RUI3 P2P accepts 5-22 dBm). */
  txPowerDbm?: number;
  logger?: Logger;
  binding?: BindingInterface;
  reconnect?: Partial<ReconnectOptions>;
  commandTimeoutMs?: number;
  /** How long to wait for `+EVT:TXP2P DONE`. */
  txDoneTimeoutMs?: number;
  /** Idle `AT` probe interval; a module that stops answering is re-initialised. */
  heartbeatMs?: number;
}

const CODING_RATE_CODE: Record<string, number> = { '4/5': 0, '4/6': 1, '4/7': 2, '4/8': 3 };
/** LoRaWAN public-network sync word (0x34) as RUI3 writes it (AT+SYNCWORD=3444). */
const LORAWAN_PUBLIC_SYNCWORD = '3444';
/** A real concentrator refuses to schedule further ahead than ~3 s (Semtech JIT queue). */
const MAX_ADVANCE_US = 3_000_000;

export class SingleChannelBackend extends EventEmitter<RadioBackendEvents> implements RadioBackend {
  readonly kind = 'single-channel' as const;
  readonly capabilities: RadioCapabilities = { downlink: true, timedDownlink: false };
  private currentState: RadioBackendState = 'stopped';
  private readonly gatewayEui: string;
  private readonly logger: Logger;
  private readonly session: SerialPortSession;
  private readonly at: AtChannel;
  private readonly rxDataRate: LoraDataRate;
  private readonly clockOrigin = process.hrtime.bigint();
  private heartbeat: NodeJS.Timeout | undefined;
  private initialising = false;
  private busy: Promise<unknown> = Promise.resolve();
  private txDone: (() => void) | undefined;
  private readonly stats = { uplinks: 0, rxErrors: 0, badEvents: 0, txSent: 0, txFailed: 0, inits: 0 };

  constructor(private readonly options: SingleChannelOptions) {
    super();
    this.gatewayEui = normaliseGatewayEui(options.gatewayEui);
    this.logger = (options.logger ?? silentLogger).child({ radio: 'single-channel', path: options.path });
    this.rxDataRate = {
      modulation: 'LORA',
      spreadingFactor: options.spreadingFactor ?? 7,
      bandwidthKHz: options.bandwidthKHz ?? 125,
    };
    this.session = new SerialPortSession(sessionOptions(options, this.logger));
    this.at = new AtChannel(
      (b) => this.session.write(b),
      (line) => this.onEvent(line),
      options.commandTimeoutMs ?? 1_000,
    );
    this.session.on('data', (chunk) => this.at.push(chunk));
    this.session.on('open', () => void this.initialise());
    this.session.on('lost', (reason) => {
      this.stopHeartbeat();
      this.at.reset(reason);
      this.setState('reconnecting', reason);
    });
    this.session.on('open-failed', (reason) => this.setState('reconnecting', `open failed: ${reason}`));
  }

  get state(): RadioBackendState {
    return this.currentState;
  }

  async start(): Promise<void> {
    if (this.currentState !== 'stopped') return;
    this.logger.warn(
      { frequencyHz: this.options.frequencyHz, dataRate: this.rxDataRate },
      'single-channel modem: hears ONE channel and ONE spreading factor; NOT LoRaWAN-compliant for downlinks (cannot meet RX1/RX2 timing)',
    );
    this.setState('starting');
    await this.session.start();
  }

  async stop(): Promise<void> {
    this.stopHeartbeat();
    this.at.reset('backend stopped');
    await this.session.stop();
    this.setState('stopped');
  }

  /** The synthetic concentrator counter: host monotonic clock in µs, wrapping u32. */
  nowTmst(): number {
    return Number(((process.hrtime.bigint() - this.clockOrigin) / 1000n) & 0xffffffffn);
  }

  /** Best effort: waits for tmst on the host clock, then leaves receive mode and sends. Never on time for RX1. */
  async schedule(tx: TxRequest): Promise<TxAck> {
    const ack = (status: TxAckStatus): TxAck => ({
      gatewayEui: tx.gatewayEui,
      status,
      ...(tx.id === undefined ? {} : { id: tx.id }),
    });
    if (tx.gatewayEui.toLowerCase() !== this.gatewayEui || this.currentState !== 'up') return ack('NO_ROUTE');
    if (tx.dataRate.modulation !== 'LORA' || !(tx.codingRate in CODING_RATE_CODE)) return ack('UNSUPPORTED');
    const power = Math.max(5, Math.min(22, Math.round(tx.powerDbm)));
    if (tx.tmst !== undefined) {
      const aheadUs = diffTmst(tx.tmst, this.nowTmst());
      if (aheadUs < 0) return ack('TOO_LATE');
      if (aheadUs > MAX_ADVANCE_US) return ack('TOO_EARLY');
      await new Promise((r) => setTimeout(r, Math.floor(aheadUs / 1000)));
    }
    const p2p = `AT+P2P=${tx.frequencyHz}:${tx.dataRate.spreadingFactor}:${tx.dataRate.bandwidthKHz}:${CODING_RATE_CODE[tx.codingRate]}:${tx.preamble ?? 8}:${power}`;
    const run = this.busy.then(() => this.transmit(p2p, tx));
    this.busy = run.catch(() => undefined);
    return ack(await run);
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.stats, ...this.session.stats, ...this.at.stats };
  }

  private async transmit(p2p: string, tx: TxRequest): Promise<TxAckStatus> {
    let status: TxAckStatus = 'OK';
    try {
      await this.expectOk('AT+PRECV=0');
      if ((await this.at.command(p2p)).status !== 'OK') status = 'TX_FREQ';
      else if ((await this.at.command(`AT+IQINVER=${tx.invertPolarity ? 1 : 0}`)).status !== 'OK')
        status = 'TX_FREQ';
      else {
        const done = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), this.options.txDoneTimeoutMs ?? 3_000);
          this.txDone = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        const reply = await this.at.command(
          `AT+PSEND=${Buffer.from(tx.phyPayload).toString('hex').toUpperCase()}`,
        );
        if (reply.status === 'AT_BUSY_ERROR') status = 'COLLISION_PACKET';
        else if (reply.status !== 'OK') status = 'TX_POWER';
        else if (!(await done)) status = 'TIMEOUT';
        this.txDone = undefined;
      }
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'single-channel downlink failed');
      status = 'TIMEOUT';
    }
    if (status === 'OK') this.stats.txSent++;
    else this.stats.txFailed++;
    // Back to listening whatever happened; a failure here shows up as the next heartbeat failing.
    await this.enterReceive().catch((err: unknown) =>
      this.logger.warn({ err: describeError(err) }, 'single-channel could not resume receive mode'),
    );
    return status;
  }

  private async expectOk(command: string): Promise<void> {
    const reply = await this.at.command(command);
    if (reply.status !== 'OK') {
      throw new MaverickError(
        ErrorCode.RadioTxRejected,
        `the single-channel modem answered ${reply.status} to ${command}`,
        {
          hint: 'check the modem firmware and its serial settings (baud rate, line endings)',
          context: { command, status: reply.status },
        },
      );
    }
  }

  private async retryUntilOk(command: string, attempts: number): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await this.expectOk(command);
        return;
      } catch (err) {
        if (i >= attempts || !this.session.isOpen) throw err;
      }
    }
  }

  private async enterReceive(): Promise<void> {
    const cr = CODING_RATE_CODE[this.options.codingRate ?? '4/5'];
    const power = this.options.txPowerDbm ?? 14;
    const { spreadingFactor, bandwidthKHz } = this.rxDataRate;
    await this.expectOk(
      `AT+P2P=${this.options.frequencyHz}:${spreadingFactor}:${bandwidthKHz}:${cr}:${this.options.preamble ?? 8}:${power}`,
    );
    await this.expectOk(`AT+SYNCWORD=${LORAWAN_PUBLIC_SYNCWORD}`);
    // Uplinks from LoRaWAN devices use normal IQ polarity.
    await this.expectOk('AT+IQINVER=0');
    await this.expectOk('AT+PRECV=65534');
  }

  private async initialise(): Promise<void> {
    if (this.initialising) return;
    this.initialising = true;
    this.stats.inits++;
    this.stopHeartbeat();
    try {
      this.session.write(new TextEncoder().encode('\r\n')); // end any half-typed command
      await this.expectOk('AT');
      const mode = await this.at.command('AT+NWM=?');
      if (!mode.lines.some((l) => /(^|=)0$/.test(l))) {
        await this.expectOk('AT+NWM=0');
        // RUI3 restarts the module to change network mode; it answers AT again once it is back.
        await this.retryUntilOk('AT', 5);
      }
      await this.enterReceive();
      this.setState('up', `listening on ${this.options.frequencyHz} Hz SF${this.rxDataRate.spreadingFactor}`);
    } catch (err) {
      // A port lost mid-initialisation is already 'reconnecting'; only a silent or confused modem is 'down'.
      if (this.session.isOpen) this.setState('down', `modem did not initialise: ${describeError(err)}`);
    } finally {
      this.initialising = false;
    }
    if (this.session.isOpen && this.currentState !== 'stopped') {
      this.heartbeat = setInterval(() => void this.probe(), this.options.heartbeatMs ?? 5_000);
    }
  }

  private async probe(): Promise<void> {
    if (this.initialising || !this.session.isOpen) return;
    if (this.currentState !== 'up') {
      await this.initialise();
      return;
    }
    // Queued behind any downlink in progress, so the probe never interleaves with its AT sequence.
    const probe = this.busy
      .then(() => this.expectOk('AT'))
      .then(
        () => true,
        () => false,
      );
    this.busy = probe;
    if (!(await probe)) this.setState('down', 'modem stopped answering AT');
  }

  private onEvent(line: string): void {
    if (line.startsWith('+EVT:TXP2P DONE')) {
      this.txDone?.();
      return;
    }
    if (line.startsWith('+EVT:RXP2P RECEIVE')) {
      this.stats.rxErrors++;
      return;
    }
    const event = parseRxP2pEvent(line);
    if (!event) {
      this.stats.badEvents++;
      this.logger.debug({ line: line.slice(0, 80) }, 'single-channel: unrecognised event line');
      return;
    }
    this.stats.uplinks++;
    this.emit('uplink', {
      phyPayload: event.payload,
      rx: {
        gatewayEui: this.gatewayEui,
        tmst: this.nowTmst(),
        frequencyHz: this.options.frequencyHz,
        channel: 0,
        rfChain: 0,
        dataRate: this.rxDataRate,
        codingRate: this.options.codingRate ?? '4/5',
        rssi: event.rssi,
        snr: event.snr,
        backend: 'single-channel',
      },
      receivedAtMs: Date.now(),
    });
  }

  private setState(state: RadioBackendState, detail?: string): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.logger.info({ state, detail }, 'single-channel radio state');
    this.emit('state', detail === undefined ? { state } : { state, detail });
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
