/**
 * The one contract between radio backends (gateway/radio/*) and the network
 * server core (kernel/). Types only: every backend — Semtech UDP, the Maverick
 * serial concentrator, single-channel modems — produces and consumes these.
 */

export type LoraDataRate = { modulation: 'LORA'; spreadingFactor: number; bandwidthKHz: number };
export type FskDataRate = { modulation: 'FSK'; bitrate: number };
export type DataRate = LoraDataRate | FskDataRate;

/** Where a timestamp came from. A Pi has no RTC, so every record says which. */
export type TimeSource = 'gps' | 'ntp' | 'host-unsynced';

/** Per-antenna reception details (Semtech `rsig`). */
export interface RxAntenna {
  antenna: number;
  channel: number;
  /** RSSI of the channel in dBm (integer). */
  rssi: number;
  /** LoRa SNR in dB. */
  snr?: number;
  /** Fine timestamp / frequency offset, when the concentrator gives them. */
  foff?: number;
  etime?: string;
}

/** Reception metadata of one copy of one frame, as the concentrator saw it. */
export interface RxMetadata {
  /** Gateway EUI, 16 lower-case hex characters. */
  gatewayEui: string;
  /** Concentrator counter in microseconds at end of reception; a u32 that wraps. */
  tmst: number;
  /** UTC reception time from GPS (ISO 8601); absent when the concentrator has no GPS fix. */
  time?: string;
  /** GPS time: milliseconds since the GPS epoch, when present. */
  tmms?: number;
  /** Centre frequency in Hz, an integer (never floating MHz). */
  frequencyHz: number;
  /** Concentrator IF channel. */
  channel: number;
  rfChain: number;
  dataRate: DataRate;
  /** Coding rate as sent, e.g. "4/5"; absent for FSK. */
  codingRate?: string;
  /** Best RSSI in dBm. */
  rssi: number;
  /** Best LoRa SNR in dB (absent for FSK). */
  snr?: number;
  /** Multi-antenna details when the concentrator reports them. */
  antennas?: RxAntenna[];
  /** Which backend kind received it. */
  backend: RadioBackendKind;
}

export interface RadioUplink {
  phyPayload: Uint8Array;
  rx: RxMetadata;
  /** Host clock (ms since Unix epoch) when the backend received it. */
  receivedAtMs: number;
}

export interface TxRequest {
  gatewayEui: string;
  /**
   * Transmit when the concentrator counter reaches this value (u32 µs, wraps).
   * Absent means "send immediately" (Class C / test only).
   */
  tmst?: number;
  frequencyHz: number;
  /** Transmit power in dBm (EIRP as the region table gives it). */
  powerDbm: number;
  dataRate: DataRate;
  codingRate: string;
  /** LoRaWAN downlinks to devices invert the IQ polarity. */
  invertPolarity: boolean;
  phyPayload: Uint8Array;
  /** Preamble length in symbols; the backend default (8) when absent. */
  preamble?: number;
  /** Correlates this request with its TX acknowledgement (u16 on Semtech UDP). */
  id?: number;
}

/** Semtech `txpk_ack.error` values, plus what our own backends can add. */
export const TX_ACK_ERRORS = [
  'TOO_LATE',
  'TOO_EARLY',
  'COLLISION_PACKET',
  'COLLISION_BEACON',
  'TX_FREQ',
  'TX_POWER',
  'GPS_UNLOCKED',
] as const;
export type TxAckError = (typeof TX_ACK_ERRORS)[number];
/** NO_ROUTE: gateway unknown or never pulled; TIMEOUT: no ack in time; UNSUPPORTED: backend cannot send. */
export type TxAckStatus = 'OK' | TxAckError | 'NO_ROUTE' | 'TIMEOUT' | 'UNSUPPORTED';

export interface TxAck {
  gatewayEui: string;
  status: TxAckStatus;
  id?: number;
}

/** Gateway statistics (Semtech `stat`), as reported by the concentrator side. */
export interface GatewayStats {
  gatewayEui: string;
  /** Gateway's own time string, when it sent one. */
  time?: string;
  latitude?: number;
  longitude?: number;
  altitude?: number;
  rxReceived: number;
  rxOk: number;
  rxForwarded: number;
  /** Percentage of upstream datagrams acknowledged. */
  ackRatio: number;
  downlinksReceived: number;
  txEmitted: number;
  receivedAtMs: number;
}

export type RadioBackendKind = 'semtech-udp' | 'serial' | 'single-channel';
export type RadioBackendState = 'starting' | 'up' | 'down' | 'reconnecting' | 'stopped';

export interface RadioStateChange {
  state: RadioBackendState;
  detail?: string;
}

export interface RadioBackendEvents {
  uplink: [RadioUplink];
  stats: [GatewayStats];
  state: [RadioStateChange];
}

export interface RadioCapabilities {
  /** Can transmit at all. */
  downlink: boolean;
  /**
   * Can meet LoRaWAN RX1/RX2 timing (transmit at a concentrator timestamp).
   * Single-channel modems cannot: they are not LoRaWAN-compliant for downlinks.
   */
  timedDownlink: boolean;
}

export interface RadioBackend {
  readonly kind: RadioBackendKind;
  readonly capabilities: RadioCapabilities;
  readonly state: RadioBackendState;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Queue a transmission; resolves with the concentrator's acknowledgement (never rejects for radio errors). */
  schedule(tx: TxRequest): Promise<TxAck>;
  /** Monotonic counters for metrics and `doctor` (datagrams, drops by reason, ...). */
  counters(): Readonly<Record<string, number>>;
  /**
   * Optional: while `held`, keep uplinks back in the backend's own bounded queue (a consumer
   * that is behind asks this; uplinks arrive again once released). A backend without a queue of
   * its own has no such method.
   */
  holdUplinks?(held: boolean): void;
  on<K extends keyof RadioBackendEvents>(event: K, listener: (...args: RadioBackendEvents[K]) => void): this;
  off<K extends keyof RadioBackendEvents>(event: K, listener: (...args: RadioBackendEvents[K]) => void): this;
}

/** Adds microseconds to a u32 concentrator timestamp, wrapping like the hardware counter. */
export function addTmst(tmst: number, deltaUs: number): number {
  return (tmst + deltaUs) >>> 0;
}

/** Signed difference a - b between two wrapping u32 timestamps, in microseconds. */
export function diffTmst(a: number, b: number): number {
  return (a - b) | 0;
}

/** "SF7BW125" <-> data rate. Returns undefined for anything else. */
export function parseLoraDatr(datr: string): LoraDataRate | undefined {
  const m = /^SF(\d{1,2})BW(\d{2,3}(?:\.\d+)?)$/.exec(datr);
  if (!m) return undefined;
  const spreadingFactor = Number(m[1]);
  const bandwidthKHz = Number(m[2]);
  if (spreadingFactor < 5 || spreadingFactor > 12) return undefined;
  if (![7.8, 10.4, 15.6, 20.8, 31.25, 41.7, 62.5, 125, 250, 500, 812.5].includes(bandwidthKHz))
    return undefined;
  return { modulation: 'LORA', spreadingFactor, bandwidthKHz };
}

export function formatDatr(dr: DataRate): string | number {
  return dr.modulation === 'LORA' ? `SF${dr.spreadingFactor}BW${dr.bandwidthKHz}` : dr.bitrate;
}
