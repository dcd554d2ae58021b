/**
 * The Semtech UDP packet-forwarder backend: a UDP server that packet forwarders (lora_pkt_fwd and
 * friends) talk to, following Semtech PROTOCOL.TXT v2. Acknowledges before processing, keeps one
 * downlink route per gateway EUI, correlates TX_ACK by token, and never lets untrusted bytes crash
 * the process: broken datagrams are counted and logged (rate-limited). Only gateways on the
 * allowlist are heard, and each only from the host it speaks from (semtech-udp-routes.ts), so
 * nobody else on the network can take its downlinks or relay frames in its name.
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { describeError, ErrorCode, isMaverickError, MaverickError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import type {
  RadioBackend,
  RadioBackendEvents,
  RadioBackendState,
  RadioCapabilities,
  TxAck,
  TxAckStatus,
  TxRequest,
} from '../../proto/radio.js';
import {
  decodeDatagram,
  encodePullAck,
  encodePullResp,
  encodePushAck,
  type PullDataPacket,
  type PushDataPacket,
  type TxAckPacket,
  txAckStatus,
  txpkFromTxRequest,
} from '../../proto/semtech-udp/index.js';
import {
  countTxStatus,
  createSemtechUdpCounters,
  readCounterValues,
  type SemtechUdpCounters,
  WarnLimiter,
} from './semtech-udp-counters.js';
import { ackOf, MAX_PENDING_TX, PendingDownlinks } from './semtech-udp-downlinks.js';
import type { SemtechUdpBackendOptions } from './semtech-udp-options.js';
import { bindSemtechSocket } from './semtech-udp-socket.js';

export type { SemtechUdpBackendOptions } from './semtech-udp-options.js';

import { type GatewayRoute, GatewayRoutes } from './semtech-udp-routes.js';

const PUSH_DATA_ID = 0x00;
/** Bytes 4..11 of PUSH_DATA, PULL_DATA and TX_ACK carry the gateway EUI (PROTOCOL.TXT §3–5). */
const EUI_OFFSET = 4;
const HEADER_WITH_EUI = 12;

export class SemtechUdpBackend extends EventEmitter<RadioBackendEvents> implements RadioBackend {
  readonly kind = 'semtech-udp' as const;
  readonly capabilities: RadioCapabilities = { downlink: true, timedDownlink: true };

  readonly #host: string;
  readonly #port: number;
  readonly #log: Logger;
  readonly #warn: WarnLimiter;
  /** Its own limiter: a flood of strangers must not hide the other warnings. */
  readonly #strangers: WarnLimiter;
  readonly #allowed: ReadonlySet<string> | undefined;
  readonly #now: () => number;
  readonly #receiveBufferBytes: number;
  readonly #routes: GatewayRoutes;
  readonly #pending: PendingDownlinks;
  readonly #counters: SemtechUdpCounters = createSemtechUdpCounters();
  readonly #forwardPushData: SemtechUdpBackendOptions['forwardPushData'];
  #socket: dgram.Socket | undefined;
  #state: RadioBackendState = 'stopped';

  constructor(options: SemtechUdpBackendOptions = {}) {
    super();
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 1700;
    this.#log = (options.logger ?? silentLogger).child({ backend: 'semtech-udp' });
    this.#now = options.now ?? Date.now;
    this.#warn = new WarnLimiter(this.#log, 10, 10_000, this.#now);
    this.#strangers = new WarnLimiter(this.#log, 5, 60_000, this.#now);
    this.#pending = new PendingDownlinks(this.#counters, this.#log, options.txAckTimeoutMs ?? 2000);
    this.#receiveBufferBytes = options.receiveBufferBytes ?? 8 * 1024 * 1024;
    this.#forwardPushData = options.forwardPushData;
    this.#routes = new GatewayRoutes(options.maxGateways, options.routeAliveMs);
    this.#allowed = options.allowedGateways
      ? new Set(options.allowedGateways.map((eui) => eui.toLowerCase()))
      : undefined;
  }

  get state(): RadioBackendState {
    return this.#state;
  }

  async start(): Promise<void> {
    if (this.#socket) return;
    this.#setState('starting');
    const socket = await bindSemtechSocket(this.#host, this.#port, this.#receiveBufferBytes).catch((err) => {
      this.#setState('down', describeError(isMaverickError(err) ? err.cause : err));
      throw err;
    });
    socket.on('message', (msg, rinfo) => this.#onDatagram(msg, rinfo));
    socket.on('error', (err) => {
      // After a successful bind, errors are per-send (e.g. ICMP unreachable); the socket stays usable.
      this.#log.warn({ err: describeError(err) }, 'semtech-udp socket error');
    });
    this.#socket = socket;
    const { host, port } = this.address();
    // Linux reports twice what it grants (the doubling covers its bookkeeping), capped at rmem_max.
    const receiveBufferBytes = socket.getRecvBufferSize();
    this.#log.info(
      { host, port, receiveBufferBytes, asked: this.#receiveBufferBytes },
      'semtech-udp listening for packet forwarders',
    );
    this.#setState('up');
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#pending.settleAll('TIMEOUT');
    this.#routes.clear();
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (this.#state !== 'stopped') this.#setState('stopped');
  }

  /** The receive buffer the kernel granted the socket (bytes, as SO_RCVBUF reports it); valid after start(). */
  receiveBufferSize(): number {
    if (!this.#socket) {
      throw new MaverickError(ErrorCode.RadioNotStarted, 'semtech-udp: receiveBufferSize() before start()', {
        hint: 'await backend.start() first',
      });
    }
    return this.#socket.getRecvBufferSize();
  }

  /** The bound address; valid after start() (tests bind port 0 and read the real one here). */
  address(): { host: string; port: number } {
    if (!this.#socket) {
      throw new MaverickError(ErrorCode.RadioNotStarted, 'semtech-udp: address() before start()', {
        hint: 'await backend.start() first',
      });
    }
    const a = this.#socket.address();
    return { host: a.address, port: a.port };
  }

  /** Gateways that have pulled, with where their downlinks go. */
  gateways(): GatewayRoute[] {
    return this.#routes.list();
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.#counters, gatewaysKnown: this.#routes.usableCount(), txPending: this.#pending.size };
  }

  /**
   * counters() as values in SEMTECH_UDP_COUNTER_NAMES order, written over `out` without allocating
   * (the thread reads them for every message it posts); true when any value differed from `out`'s.
   */
  readCounters(out: number[]): boolean {
    return readCounterValues(this.#counters, this.#routes.usableCount(), this.#pending.size, out);
  }

  /** Moves whenever gateways() may have changed. */
  get routesVersion(): number {
    return this.#routes.version;
  }

  schedule(tx: TxRequest): Promise<TxAck> {
    const gatewayEui = tx.gatewayEui.toLowerCase();
    const done = (status: TxAckStatus): Promise<TxAck> => {
      countTxStatus(this.#counters, status);
      return Promise.resolve(ackOf(gatewayEui, status, tx.id));
    };
    const socket = this.#socket;
    if (!socket) return done('UNSUPPORTED');
    const route = this.#routes.get(gatewayEui);
    if (!route) {
      this.#log.warn({ gatewayEui }, 'downlink for a gateway that has not sent PULL_DATA: no route');
      return done('NO_ROUTE');
    }
    if (this.#pending.size >= MAX_PENDING_TX) {
      // Thousands of unacknowledged downlinks: the forwarder is gone; more would time out too.
      this.#warn.warn({ gatewayEui, pending: this.#pending.size }, 'too many downlinks awaiting TX_ACK');
      return done('TIMEOUT');
    }
    const token = this.#pending.freeToken();
    let bytes: Uint8Array;
    try {
      bytes = encodePullResp({ token, version: route.version, txpk: txpkFromTxRequest(tx) });
    } catch (err) {
      // A malformed request (fractional power, frequency out of range) is a caller bug, not a radio condition.
      return Promise.reject(err);
    }
    const acked = this.#pending.wait(token, gatewayEui, tx.id);
    socket.send(bytes, route.port, route.address, (err) => {
      if (err) {
        this.#counters.sendErrors++;
        this.#log.warn({ gatewayEui, err: describeError(err) }, 'PULL_RESP send failed');
        this.#pending.settle(token, 'NO_ROUTE');
        return;
      }
      this.#counters.pullRespSent++;
      if (route.version === 1 && this.#pending.gatewayOf(token) !== undefined) {
        this.#counters.txSentWithoutAckV1++;
        this.#pending.settle(token, 'OK');
      }
    });
    return acked;
  }

  #onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.#counters.datagramsReceived++;
    if (!this.#admitted(msg, rinfo)) return;
    this.#ackPushDataFirst(msg, rinfo);
    let packet: ReturnType<typeof decodeDatagram>;
    try {
      packet = decodeDatagram(msg);
    } catch (err) {
      this.#counters.malformedDatagrams++;
      const fields = { from: `${rinfo.address}:${rinfo.port}`, length: msg.length };
      if (err instanceof MaverickError) this.#warn.warn({ ...fields, code: err.codeName }, err.message);
      else this.#log.error({ ...fields, err: describeError(err) }, 'semtech-udp decoder failed unexpectedly');
      return;
    }
    switch (packet.type) {
      case 'PUSH_DATA':
        this.#onPushData(packet, msg, rinfo);
        break;
      case 'PULL_DATA':
        this.#onPullData(packet, rinfo);
        break;
      case 'TX_ACK':
        this.#onTxAck(packet, rinfo);
        break;
      default:
        this.#counters.datagramsUnexpectedType++;
        this.#warn.warn(
          { from: `${rinfo.address}:${rinfo.port}`, type: packet.type },
          'unexpected packet type',
        );
    }
  }

  /**
   * The allowlist and the gateway's host, checked on the header alone before anything is answered:
   * a datagram from a stranger or from a foreign address for a known EUI gets no ACK and no work.
   */
  #admitted(msg: Buffer, rinfo: dgram.RemoteInfo): boolean {
    if (msg.length < HEADER_WITH_EUI) return true; // the decoder counts it as malformed
    const eui = msg.subarray(EUI_OFFSET, HEADER_WITH_EUI).toString('hex');
    const from = `${rinfo.address}:${rinfo.port}`;
    if (this.#allowed && !this.#allowed.has(eui)) {
      this.#counters.datagramsUnknownGateway++;
      this.#strangers.warn(
        { gatewayEui: eui, from, unknownSoFar: this.#counters.datagramsUnknownGateway },
        'datagram from a gateway not on the allowlist dropped (add it to radio.udp.gateways if it is yours)',
      );
      return false;
    }
    if (this.#routes.isForeign(eui, rinfo.address, this.#now())) {
      this.#countForeign(eui, from);
      return false;
    }
    return true;
  }

  #countForeign(gatewayEui: string, from: string): void {
    this.#counters.datagramsForeignSource++;
    this.#strangers.warn(
      { gatewayEui, from, foreignSoFar: this.#counters.datagramsForeignSource },
      'datagram for a gateway that is alive on another address dropped (spoofed, or the gateway moved)',
    );
  }

  /**
   * PROTOCOL.TXT §3.3: PUSH_ACK is sent "immediately after receiving a PUSH_DATA packet", so the
   * forwarder's ack statistics reflect the link, not our processing. Needs only a sane header.
   */
  #ackPushDataFirst(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12 || (msg[0] !== 1 && msg[0] !== 2) || msg[3] !== PUSH_DATA_ID) return;
    const ack = encodePushAck({ token: (msg[1]! << 8) | msg[2]!, version: msg[0] });
    this.#send(ack, rinfo, () => this.#counters.pushAcksSent++);
  }

  #onPushData(packet: PushDataPacket, datagram: Buffer, rinfo: dgram.RemoteInfo): void {
    this.#counters.datagramsPushData++;
    const receivedAtMs = this.#now();
    const { verdict, evicted } = this.#routes.push(packet.gatewayEui, rinfo.address, receivedAtMs);
    if (evicted) this.#counters.gatewaysEvicted++;
    if (verdict === 'foreign') {
      this.#countForeign(packet.gatewayEui, `${rinfo.address}:${rinfo.port}`);
      return;
    }
    if (verdict === 'opened') {
      this.#log.info(
        { gatewayEui: packet.gatewayEui, address: rinfo.address },
        'packet forwarder heard from host',
      );
    }
    const forward = this.#forwardPushData;
    let uplinks = 0;
    for (const outcome of packet.rxpk) {
      this.#counters.rxpkReceived++;
      if (outcome.status === 'ok') {
        this.#counters.rxpkForwarded++;
        uplinks++;
        if (!forward) this.#emitSafely('uplink', { ...outcome.uplink, receivedAtMs });
      } else if (outcome.status === 'bad-crc') {
        this.#counters.rxpkBadCrc++;
      } else if (outcome.status === 'no-crc') {
        this.#counters.rxpkNoCrc++;
      } else {
        this.#counters.rxpkDropped++;
        this.#warn.warn({ gatewayEui: packet.gatewayEui }, `rxpk dropped: ${outcome.reason}`);
      }
    }
    if (packet.stat) {
      this.#counters.statReceived++;
      if (!forward) this.#emitSafely('stats', { ...packet.stat, receivedAtMs });
    } else if (packet.statError !== undefined) {
      this.#counters.statInvalid++;
      this.#warn.warn({ gatewayEui: packet.gatewayEui }, `stat dropped: ${packet.statError}`);
    }
    if (forward && (uplinks > 0 || packet.stat)) forward(datagram, receivedAtMs, uplinks);
  }

  #onPullData(packet: PullDataPacket, rinfo: dgram.RemoteInfo): void {
    this.#counters.datagramsPullData++;
    const { verdict, evicted } = this.#routes.pull({
      gatewayEui: packet.gatewayEui,
      address: rinfo.address,
      port: rinfo.port,
      version: packet.version,
      lastPullMs: this.#now(),
    });
    if (evicted) this.#counters.gatewaysEvicted++;
    if (verdict === 'foreign') {
      this.#countForeign(packet.gatewayEui, `${rinfo.address}:${rinfo.port}`);
      return;
    }
    this.#send(encodePullAck({ token: packet.token, version: packet.version }), rinfo, () => {
      this.#counters.pullAcksSent++;
    });
    if (verdict === 'opened') {
      this.#log.info(
        { gatewayEui: packet.gatewayEui, address: rinfo.address, port: rinfo.port, version: packet.version },
        'packet forwarder route open',
      );
    }
  }

  #onTxAck(packet: TxAckPacket, rinfo: dgram.RemoteInfo): void {
    this.#counters.datagramsTxAck++;
    // The EUI must match too (a token alone is 16 bits and another gateway may reuse it), and it
    // must come from the gateway's host: nobody else may settle its downlinks.
    if (
      this.#pending.gatewayOf(packet.token) !== packet.gatewayEui ||
      !this.#routes.isHost(packet.gatewayEui, rinfo.address)
    ) {
      this.#counters.txAckUnmatched++;
      this.#warn.warn(
        { gatewayEui: packet.gatewayEui, token: packet.token },
        'TX_ACK matches no pending downlink',
      );
      return;
    }
    this.#pending.settle(packet.token, txAckStatus(packet.error));
  }

  #send(bytes: Uint8Array, to: dgram.RemoteInfo, onSent: () => void): void {
    const socket = this.#socket;
    if (!socket) return;
    socket.send(bytes, to.port, to.address, (err) => {
      if (!err) {
        onSent();
        return;
      }
      this.#counters.sendErrors++;
      this.#warn.warn({ to: `${to.address}:${to.port}`, err: describeError(err) }, 'semtech-udp send failed');
    });
  }

  /** A throwing listener must not take the socket handler (and the process) down with it. */
  #emitSafely<K extends keyof RadioBackendEvents>(event: K, ...args: RadioBackendEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: RadioBackendEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#counters.listenerErrors++;
      this.#log.error({ event, err: describeError(err) }, 'semtech-udp listener threw');
    }
  }

  #setState(state: RadioBackendState, detail?: string): void {
    this.#state = state;
    this.#emitSafely('state', detail === undefined ? { state } : { state, detail });
  }
}
