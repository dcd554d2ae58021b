/**
 * JSON builders for ChirpStack v4 integration events (api/proto/integration/
 * integration.proto, proto3 JSON mapping in lowerCamelCase, every field
 * emitted as ChirpStack's pbjson `emit_fields` does). Every event parses under
 * strict proto3 JSON rules (unknown fields rejected, as ChirpStack's Python and
 * Go clients do): Maverick's own information goes only where the schema has
 * room for it, the provenance of `time` (a Pi has no RTC) in
 * `rxInfo[].metadata.maverick_time_source` and in a log event's `context`.
 */
import type { RxMetadata, TimeSource } from '../radio.js';
import {
  type DeviceInfoInput,
  type DeviceInfoJson,
  type DownlinkTxInput,
  deviceInfoJson,
  downlinkTxInfoJson,
  type RxInfoExtras,
  rxInfoJson,
  uplinkTxInfoJson,
} from './metadata.js';

/** The metadata / context key that says where an event's `time` came from. */
export const TIME_SOURCE_KEY = 'maverick_time_source';
/**
 * Up events' rxInfo metadata key for the device session the uplink belongs to (0, 1, … : +1 at
 * every join and every counter reset). With fCnt it identifies the uplink, as in the store and in bundles.
 */
export const SESSION_KEY = 'maverick_session';

export interface EventBase {
  /** UUID shared by every copy of one frame; a random v4 UUID when absent. */
  deduplicationId?: string;
  time: Date;
  timeSource: TimeSource;
  device: DeviceInfoInput;
}

interface EventJsonBase {
  time: string;
  deviceInfo: DeviceInfoJson;
}

function base(e: EventBase): EventJsonBase {
  return { time: e.time.toISOString(), deviceInfo: deviceInfoJson(e.device) };
}

function dedupId(e: EventBase): string {
  return e.deduplicationId ?? globalThis.crypto.randomUUID();
}

const b64 = (data: Uint8Array): string =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');

export interface UplinkEventInput extends EventBase {
  /** 8 hex characters. */
  devAddr: string;
  adr: boolean;
  /** LoRaWAN data-rate index of the region. */
  dr: number;
  fCnt: number;
  /** Absent for a MAC-only frame without FPort. */
  fPort?: number;
  confirmed: boolean;
  /** Decrypted FRMPayload. */
  data: Uint8Array;
  /** Codec output; absent when the device has no codec. */
  object?: Record<string, unknown>;
  /** Every gateway copy (after de-duplication); the first one gives txInfo. */
  rx: RxMetadata[];
  /** Extras per copy, by index into `rx`. */
  rxExtras?: RxInfoExtras[];
  /** Up events: the device session, published as rxInfo metadata SESSION_KEY. */
  session?: number;
  /** ChirpStack's region configuration id, e.g. "eu868". */
  regionConfigId: string;
  /** ChirpStack's common region name, e.g. "EU868" (rxInfo metadata). */
  regionCommonName: string;
}

export function uplinkEventJson(e: UplinkEventInput): Record<string, unknown> {
  const { time, deviceInfo } = base(e);
  // ChirpStack adds the region to every copy's metadata; we add the time source.
  const regionMetadata = {
    region_config_id: e.regionConfigId,
    region_common_name: e.regionCommonName,
    [TIME_SOURCE_KEY]: e.timeSource,
    ...(e.session === undefined ? {} : { [SESSION_KEY]: String(e.session) }),
  };
  const out: Record<string, unknown> = {
    deduplicationId: dedupId(e),
    time,
    deviceInfo,
    devAddr: e.devAddr.toLowerCase(),
    adr: e.adr,
    dr: e.dr,
    fCnt: e.fCnt,
    fPort: e.fPort ?? 0,
    confirmed: e.confirmed,
    data: b64(e.data),
  };
  if (e.object !== undefined) out.object = e.object;
  out.rxInfo = e.rx.map((rx, i) => {
    const extras = e.rxExtras?.[i] ?? {};
    return rxInfoJson(rx, { ...extras, metadata: { ...regionMetadata, ...extras.metadata } });
  });
  if (e.rx[0]) out.txInfo = uplinkTxInfoJson(e.rx[0]);
  out.regionConfigId = e.regionConfigId;
  return out;
}

export interface JoinEventInput extends EventBase {
  devAddr: string;
  regionConfigId: string;
}

export function joinEventJson(e: JoinEventInput): Record<string, unknown> {
  const { time, deviceInfo } = base(e);
  return {
    deduplicationId: dedupId(e),
    time,
    deviceInfo,
    devAddr: e.devAddr.toLowerCase(),
    regionConfigId: e.regionConfigId,
  };
}

export interface AckEventInput extends EventBase {
  queueItemId: string;
  acknowledged: boolean;
  fCntDown: number;
}

export function ackEventJson(e: AckEventInput): Record<string, unknown> {
  const { time, deviceInfo } = base(e);
  return {
    deduplicationId: dedupId(e),
    time,
    deviceInfo,
    queueItemId: e.queueItemId,
    acknowledged: e.acknowledged,
    fCntDown: e.fCntDown,
  };
}

export interface TxAckEventInput extends Omit<EventBase, 'deduplicationId'> {
  /** u32 downlink id; random, as ChirpStack's, so ids do not repeat after a restart. */
  downlinkId?: number;
  queueItemId: string;
  fCntDown: number;
  gatewayEui: string;
  tx: DownlinkTxInput;
}

/** A non-zero random u32 (0 is proto3's "not set"). */
export function randomDownlinkId(): number {
  const [id] = globalThis.crypto.getRandomValues(new Uint32Array(1));
  return id === 0 ? 1 : (id as number);
}

export function txAckEventJson(e: TxAckEventInput): Record<string, unknown> {
  const { time, deviceInfo } = base(e);
  return {
    downlinkId: (e.downlinkId ?? randomDownlinkId()) >>> 0,
    time,
    deviceInfo,
    queueItemId: e.queueItemId,
    fCntDown: e.fCntDown,
    gatewayId: e.gatewayEui.toLowerCase(),
    txInfo: downlinkTxInfoJson(e.tx),
  };
}

export interface StatusEventInput extends EventBase {
  /** DevStatusAns margin, dB (LoRaWAN 1.0.x §5.5: 6-bit signed, -32..31). */
  margin: number;
  /** DevStatusAns battery byte: 0 external power, 1..254 level, 255 unknown. */
  battery: number;
}

export function statusEventJson(e: StatusEventInput): Record<string, unknown> {
  const { time, deviceInfo } = base(e);
  const external = e.battery === 0;
  const unavailable = e.battery === 255;
  // ChirpStack: battery / 254 as a percentage, rounded to two decimals.
  const level = external || unavailable ? 0 : Math.round((e.battery / 254) * 100 * 100) / 100;
  return {
    deduplicationId: dedupId(e),
    time,
    deviceInfo,
    margin: e.margin,
    externalPowerSource: external,
    batteryLevelUnavailable: unavailable,
    batteryLevel: level,
  };
}

export const LOG_LEVELS = ['INFO', 'WARNING', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** integration.proto LogCode. */
export const LOG_CODES = [
  'UNKNOWN',
  'DOWNLINK_PAYLOAD_SIZE',
  'UPLINK_CODEC',
  'DOWNLINK_CODEC',
  'OTAA',
  'UPLINK_F_CNT_RESET',
  'UPLINK_MIC',
  'UPLINK_F_CNT_RETRANSMISSION',
  'DOWNLINK_GATEWAY',
  'RELAY_NEW_END_DEVICE',
  'F_CNT_DOWN',
  'EXPIRED',
] as const;
export type LogCode = (typeof LOG_CODES)[number];

export interface LogEventInput extends Omit<EventBase, 'deduplicationId'> {
  level: LogLevel;
  code: LogCode;
  description: string;
  context?: Record<string, string>;
}

export function logEventJson(e: LogEventInput): Record<string, unknown> {
  const { time, deviceInfo } = base(e);
  return {
    time,
    deviceInfo,
    level: e.level,
    code: e.code,
    description: e.description,
    context: { ...(e.context ?? {}), [TIME_SOURCE_KEY]: e.timeSource },
  };
}

export type GatewayConnState = 'ONLINE' | 'OFFLINE';

/** Payload of the retained `gateway/{id}/state/conn` (ChirpStack gateway bridge ConnState). */
export function gatewayStateJson(gatewayEui: string, state: GatewayConnState): Record<string, unknown> {
  return { gatewayId: gatewayEui.toLowerCase(), state };
}
