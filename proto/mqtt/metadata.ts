/**
 * The reception and transmission metadata parts of ChirpStack v4 events, as
 * JSON: `rxInfo[]` (gw.proto UplinkRxInfo), `txInfo` (gw.proto UplinkTxInfo /
 * DownlinkTxInfo) and `deviceInfo` (integration.proto DeviceInfo).
 *
 * ChirpStack serialises its `integration` messages with pbjson `emit_fields`
 * (every field, defaults included) but its `gw` messages without it, so inside
 * rxInfo/txInfo zero values, empty strings and empty maps are left out. We do
 * the same so that consumers written against ChirpStack see the same keys.
 */
import type { DataRate, RxMetadata } from '../radio.js';

export interface DeviceInfoInput {
  tenantId: string;
  tenantName: string;
  applicationId: string;
  applicationName: string;
  deviceProfileId: string;
  deviceProfileName: string;
  deviceName: string;
  /** 16 hex characters. */
  devEui: string;
  /** Maverick is a Class A network server; ChirpStack's default too. */
  deviceClassEnabled?: 'CLASS_A' | 'CLASS_B' | 'CLASS_C';
  tags?: Record<string, string>;
}

export interface DeviceInfoJson {
  tenantId: string;
  tenantName: string;
  applicationId: string;
  applicationName: string;
  deviceProfileId: string;
  deviceProfileName: string;
  deviceName: string;
  devEui: string;
  deviceClassEnabled: string;
  tags: Record<string, string>;
}

export function deviceInfoJson(d: DeviceInfoInput): DeviceInfoJson {
  return {
    tenantId: d.tenantId,
    tenantName: d.tenantName,
    applicationId: d.applicationId,
    applicationName: d.applicationName,
    deviceProfileId: d.deviceProfileId,
    deviceProfileName: d.deviceProfileName,
    deviceName: d.deviceName,
    devEui: d.devEui.toLowerCase(),
    deviceClassEnabled: d.deviceClassEnabled ?? 'CLASS_A',
    tags: { ...(d.tags ?? {}) },
  };
}

export interface LocationInput {
  latitude: number;
  longitude: number;
  altitude?: number;
}

export interface ModulationJson {
  lora?: { bandwidth: number; spreadingFactor: number; codeRate?: string; polarizationInversion?: boolean };
  fsk?: { datarate: number };
}

/** "4/5" → "CR_4_5" (gw.proto CodeRate); undefined for anything else. */
export function codeRateEnum(codingRate: string | undefined): string | undefined {
  const m = codingRate ? /^4\/([5-8])$/.exec(codingRate) : null;
  return m ? `CR_4_${m[1]}` : undefined;
}

export function modulationJson(
  dr: DataRate,
  codingRate?: string,
  polarizationInversion?: boolean,
): ModulationJson {
  if (dr.modulation === 'FSK') return { fsk: { datarate: dr.bitrate } };
  const lora: NonNullable<ModulationJson['lora']> = {
    bandwidth: Math.round(dr.bandwidthKHz * 1000),
    spreadingFactor: dr.spreadingFactor,
  };
  const cr = codeRateEnum(codingRate);
  if (cr) lora.codeRate = cr;
  if (polarizationInversion) lora.polarizationInversion = true;
  return { lora };
}

/** ChirpStack's Semtech UDP bridge puts the concentrator `tmst` in `context` as 4 big-endian bytes. */
export function tmstContext(tmst: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(tmst >>> 0);
  return b.toString('base64');
}

/** A google.protobuf.Duration in proto3 JSON: seconds with up to 9 decimals and an "s". */
export function durationJson(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
}

export interface RxInfoExtras {
  /** Random u32 correlating this copy across logs (gw.proto UplinkRxInfo.uplink_id). */
  uplinkId?: number;
  /** When the network server received the frame. */
  nsTime?: Date;
  location?: LocationInput;
  metadata?: Record<string, string>;
}

/**
 * Random u32s drawn 1,024 at a time: a getRandomValues call (and a typed array) per receiver
 * of every uplink was ~3 % of the event loop's CPU in a profile of 5,000 uplinks/s.
 */
const randomPool = new Uint32Array(1024);
let randomNext = randomPool.length;

function randomU32(): number {
  if (randomNext === randomPool.length) {
    globalThis.crypto.getRandomValues(randomPool);
    randomNext = 0;
  }
  return randomPool[randomNext++]!;
}

export function rxInfoJson(rx: RxMetadata, extras: RxInfoExtras = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { gatewayId: rx.gatewayEui.toLowerCase() };
  out.uplinkId = extras.uplinkId ?? randomU32();
  if (rx.time) out.gwTime = rx.time;
  if (extras.nsTime) out.nsTime = extras.nsTime.toISOString();
  if (rx.tmms !== undefined) out.timeSinceGpsEpoch = durationJson(rx.tmms);
  if (rx.rssi) out.rssi = rx.rssi;
  if (rx.snr) out.snr = rx.snr;
  if (rx.channel) out.channel = rx.channel;
  if (rx.rfChain) out.rfChain = rx.rfChain;
  const antenna = rx.antennas?.[0]?.antenna;
  if (antenna) out.antenna = antenna;
  if (extras.location) {
    const loc: Record<string, number> = {};
    if (extras.location.latitude) loc.latitude = extras.location.latitude;
    if (extras.location.longitude) loc.longitude = extras.location.longitude;
    if (extras.location.altitude) loc.altitude = extras.location.altitude;
    out.location = loc;
  }
  out.context = tmstContext(rx.tmst);
  if (extras.metadata && Object.keys(extras.metadata).length > 0) out.metadata = { ...extras.metadata };
  out.crcStatus = 'CRC_OK';
  return out;
}

export function uplinkTxInfoJson(rx: RxMetadata): Record<string, unknown> {
  return { frequency: rx.frequencyHz, modulation: modulationJson(rx.dataRate, rx.codingRate) };
}

export interface DownlinkTxInput {
  frequencyHz: number;
  powerDbm: number;
  dataRate: DataRate;
  codingRate: string;
  /** LoRaWAN downlinks invert IQ polarity. */
  invertPolarity: boolean;
  board?: number;
  antenna?: number;
  /** RX1/RX2 delay after the uplink's `tmst` (ms); absent means "immediately". */
  delayMs?: number;
  /** The uplink's concentrator timestamp this downlink is relative to. */
  uplinkTmst?: number;
}

export function downlinkTxInfoJson(tx: DownlinkTxInput): Record<string, unknown> {
  const out: Record<string, unknown> = { frequency: tx.frequencyHz };
  if (tx.powerDbm) out.power = tx.powerDbm;
  out.modulation = modulationJson(tx.dataRate, tx.codingRate, tx.invertPolarity);
  if (tx.board) out.board = tx.board;
  if (tx.antenna) out.antenna = tx.antenna;
  out.timing =
    tx.delayMs !== undefined ? { delay: { delay: durationJson(tx.delayMs) } } : { immediately: {} };
  if (tx.uplinkTmst !== undefined) out.context = tmstContext(tx.uplinkTmst);
  return out;
}
