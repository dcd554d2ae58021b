/**
 * Radio paths: how the simulated farm's frames reach a gateway. A path is one
 * concentrator the devices are heard by — a Semtech UDP packet forwarder
 * (PacketForwarderEmulator) or a serial concentrator MCU
 * (SerialConcentratorEmulator) — seen through one small interface: send a
 * frame with its reception metadata, and hear the downlinks the gateway asks
 * that concentrator to transmit.
 *
 * Each concentrator has its own free-running u32 µs counter (`tmst`, Semtech
 * PROTOCOL.TXT §4); here it is derived from the simulated clock plus a
 * per-path offset, so a simulated day wraps it about twenty times, and RX
 * windows can be checked to the microsecond against it.
 */
import { EventEmitter } from 'node:events';
import type { DataRate } from '../proto/radio.js';
import { addTmst } from '../proto/radio.js';
import type { SerialTxAckStatus, TxpkMessage } from '../proto/serial/index.js';
import type { SimClock } from './clock.js';
import type { ForwarderDownlink, PacketForwarderEmulator } from './packet-forwarder.js';
import type { SerialConcentratorEmulator } from './serial-concentrator.js';

/** How one concentrator heard a frame. */
export interface AirReception {
  tmst: number;
  frequencyHz: number;
  dataRate: DataRate;
  rssi: number;
  snr: number;
  /** Simulated Unix ms of reception; sent as GPS time when the path has a GPS fix. */
  atMs: number;
}

/** A downlink the gateway asked this concentrator to transmit. */
export interface PathDownlink {
  /** Absent for an immediate transmission. */
  tmst: number | undefined;
  frequencyHz: number;
  dataRate: DataRate;
  phyPayload: Uint8Array;
}

export interface RadioPathEvents {
  downlink: [PathDownlink];
}

export interface RadioPath {
  readonly name: string;
  readonly kind: 'udp' | 'serial';
  readonly gatewayEui: string;
  /** The concentrator counter at simulated Unix time `atMs`. */
  tmstAt(atMs: number): number;
  /** Hands one received frame to the gateway; resolves once it is on the wire (UDP: PUSH_ACK awaited). */
  send(phyPayload: Uint8Array, rx: AirReception): Promise<void>;
  on(event: 'downlink', listener: (dl: PathDownlink) => void): this;
  off(event: 'downlink', listener: (dl: PathDownlink) => void): this;
  /** Stops listening to the emulator (does not stop the emulator: its owner does). */
  detach(): void;
}

/** GPS epoch (1980-01-06T00:00:00Z) in Unix ms; GPS runs 18 leap seconds ahead of UTC since 2017 (IERS Bulletin C). */
const GPS_EPOCH_UNIX_MS = 315_964_800_000;
const GPS_LEAP_MS = 18_000;

export function unixToGpsMs(unixMs: number): number {
  return Math.round(unixMs) - GPS_EPOCH_UNIX_MS + GPS_LEAP_MS;
}

export interface RadioPathOptions {
  name: string;
  clock: SimClock;
  /** Counter value at the clock's start (e.g. 2**32 - 10e6 to wrap early); default 0. */
  tmstOffset?: number;
  /** The concentrator has a GPS fix: receptions carry GPS time (default true). */
  gps?: boolean;
}

abstract class BasePath extends EventEmitter<RadioPathEvents> {
  readonly name: string;
  protected readonly clock: SimClock;
  protected readonly tmstOffset: number;
  protected readonly gps: boolean;

  constructor(options: RadioPathOptions) {
    super();
    this.name = options.name;
    this.clock = options.clock;
    this.tmstOffset = (options.tmstOffset ?? 0) >>> 0;
    this.gps = options.gps ?? true;
  }

  tmstAt(atMs: number): number {
    // Whole microseconds since the clock's start, reduced mod 2^32 before adding (exact for any duration).
    const us = Math.round((atMs - this.clock.startMs) * 1000) % 0x1_0000_0000;
    return addTmst(this.tmstOffset, us);
  }
}

/** A device heard through a Semtech UDP packet forwarder. */
export class UdpRadioPath extends BasePath implements RadioPath {
  readonly kind = 'udp' as const;
  readonly gatewayEui: string;
  private readonly onDownlink = (dl: ForwarderDownlink) => {
    // A txpk the forwarder refused (TX_ACK error) never goes on the air.
    if (dl.ack !== 'NONE') return;
    this.emit('downlink', {
      tmst: dl.txpk.immediate ? undefined : dl.txpk.tmst,
      frequencyHz: dl.txpk.frequencyHz,
      dataRate: dl.txpk.dataRate,
      phyPayload: dl.txpk.phyPayload,
    });
  };

  constructor(
    private readonly forwarder: PacketForwarderEmulator,
    options: RadioPathOptions,
  ) {
    super(options);
    this.gatewayEui = forwarder.gatewayEui;
    forwarder.on('downlink', this.onDownlink);
  }

  async send(phyPayload: Uint8Array, rx: AirReception): Promise<void> {
    await this.forwarder.sendUplink(phyPayload, {
      tmst: rx.tmst,
      frequencyHz: rx.frequencyHz,
      dataRate: rx.dataRate,
      rssi: rx.rssi,
      snr: rx.snr,
      ...(this.gps ? { gpsTime: new Date(rx.atMs) } : {}),
    });
  }

  detach(): void {
    this.forwarder.off('downlink', this.onDownlink);
  }
}

/** A device heard through a serial concentrator MCU. */
export class SerialRadioPath extends BasePath implements RadioPath {
  readonly kind = 'serial' as const;
  private readonly onDownlink = (txpk: TxpkMessage) => {
    this.emit('downlink', {
      tmst: txpk.immediate ? undefined : txpk.tmst,
      frequencyHz: txpk.frequencyHz,
      dataRate: txpk.dataRate,
      phyPayload: txpk.payload,
    });
  };

  constructor(
    private readonly mcu: SerialConcentratorEmulator,
    readonly gatewayEui: string,
    options: RadioPathOptions,
  ) {
    super(options);
    mcu.on('downlink', this.onDownlink);
  }

  async send(phyPayload: Uint8Array, rx: AirReception): Promise<void> {
    this.mcu.sendUplink(phyPayload, {
      tmst: rx.tmst,
      frequencyHz: rx.frequencyHz,
      dataRate: rx.dataRate,
      rssi: rx.rssi,
      snr: rx.snr,
      ...(this.gps ? { tmms: unixToGpsMs(rx.atMs) } : {}),
    });
  }

  detach(): void {
    this.mcu.off('downlink', this.onDownlink);
  }
}

/**
 * TXPK_ACK policy for a serial concentrator emulator whose counter is driven
 * by simulated time: accept every timed TXPK. The emulator's default rule
 * compares `tmst` with its own real-time counter, which means nothing once the
 * farm reports simulated counters (and at N× speed real gateway latency is N×
 * longer in simulated time); the farm instead checks every downlink's `tmst`
 * against the exact RX1/RX2 instants when it reaches the device.
 */
export function acceptEveryTxpk(_txpk: TxpkMessage): SerialTxAckStatus {
  return 'OK';
}
