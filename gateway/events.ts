/**
 * Maps the network server's events onto ChirpStack v4 integration JSON and
 * topics (proto/mqtt). One place, so the broker sees exactly what an existing
 * ChirpStack integration expects.
 */
import type { DeviceInfo, JoinEvent, ProcessedUplink, StatusEvent, TxAckEvent } from '../kernel/ns/index.js';
import type { AckEvent, LogEvent } from '../kernel/ns/uplink-types.js';
import {
  ackEventJson,
  eventTopic,
  joinEventJson,
  type LogCode,
  logEventJson,
  statusEventJson,
  txAckEventJson,
  uplinkEventJson,
} from '../proto/mqtt/index.js';
import type { DeviceInfoInput } from '../proto/mqtt/metadata.js';
import { applicationUuid, deviceProfileUuid, tenantUuid } from '../proto/mqtt/name-uuid.js';
import type { TimeSource } from '../proto/radio.js';
import { getRegion } from '../proto/regions/index.js';

export interface OutgoingEvent {
  topic: string;
  json: Record<string, unknown>;
}

const TENANT = 'farm';

const CODEC_NAMES: Record<DeviceInfo['codec']['kind'], string> = {
  none: 'no codec',
  'cayenne-lpp': 'Cayenne LPP',
  js: 'JavaScript codec',
};

/**
 * The device profile a ChirpStack user would have made for this device: its
 * region, Class A, and its payload codec (a JavaScript codec's file is part
 * of the profile, as ChirpStack keeps the codec script in the profile).
 */
export function deviceProfileName(device: DeviceInfo): string {
  const codec =
    device.codec.kind === 'js' ? `${CODEC_NAMES.js} ${device.codec.path}` : CODEC_NAMES[device.codec.kind];
  return `${device.regionId} Class A, ${codec}`;
}

/** ChirpStack's region configuration id ("eu868"), as in its default region files. */
export const regionConfigId = (device: DeviceInfo): string => device.regionId.toLowerCase();

/**
 * ChirpStack's deviceInfo: Maverick has one tenant (the farm); tenant,
 * application and profile get name-based UUIDs, stable across restarts.
 */
export function deviceInfoInput(device: DeviceInfo): DeviceInfoInput {
  const tags: Record<string, string> = {};
  if (device.plotId) tags.plotId = device.plotId;
  const profile = deviceProfileName(device);
  return {
    tenantId: tenantUuid(TENANT),
    tenantName: TENANT,
    applicationId: applicationUuid(device.applicationId),
    applicationName: device.applicationId,
    deviceProfileId: deviceProfileUuid(profile),
    deviceProfileName: profile,
    deviceName: device.name,
    devEui: device.devEui,
    deviceClassEnabled: 'CLASS_A',
    tags,
  };
}

/** `nsTime`: when the network server handled the frame (now, when the event is built). */
export function upEvent(up: ProcessedUplink, nsTime: Date = new Date()): OutgoingEvent {
  const json = uplinkEventJson({
    time: new Date(up.time),
    timeSource: up.timeSource,
    device: deviceInfoInput(up.device),
    devAddr: up.devAddr,
    adr: up.adr,
    dr: up.dr,
    fCnt: up.fCnt,
    session: up.session,
    ...(up.fPort === undefined ? {} : { fPort: up.fPort }),
    confirmed: up.confirmed,
    data: up.data,
    ...(up.object ? { object: up.object } : {}),
    rx: up.rxInfo,
    rxExtras: up.rxInfo.map(() => ({ nsTime })),
    regionConfigId: regionConfigId(up.device),
    regionCommonName: up.device.regionId,
  });
  return { topic: eventTopic(up.device.applicationId, up.device.devEui, 'up'), json };
}

/**
 * ChirpStack reports a failed payload codec as a `log` event (code
 * UPLINK_CODEC) next to the `up` event, which then has no `object`.
 */
export function uplinkCodecLogEvent(up: ProcessedUplink): OutgoingEvent | undefined {
  if (up.errors.length === 0) return undefined;
  return logEvent(
    {
      device: up.device,
      level: 'error',
      code: 'uplink_codec',
      description: up.errors.join('; '),
      context: { fCnt: up.fCnt, fPort: up.fPort ?? 0 },
    },
    up.timeSource,
  );
}

export function joinEvent(e: JoinEvent, hostTimeSource: TimeSource = 'host-unsynced'): OutgoingEvent {
  // The join's time is the GPS time of reception when a receiver had a fix, like an uplink's.
  const gpsTime = e.rxInfo
    .map((r) => (r.time ? Date.parse(r.time) : Number.NaN))
    .find((t) => Number.isFinite(t));
  const json = joinEventJson({
    time: new Date(gpsTime ?? e.time),
    timeSource: gpsTime === undefined ? hostTimeSource : 'gps',
    device: deviceInfoInput(e.device),
    devAddr: e.devAddr,
    regionConfigId: regionConfigId(e.device),
  });
  return { topic: eventTopic(e.device.applicationId, e.device.devEui, 'join'), json };
}

export function ackEvent(e: AckEvent, timeSource: TimeSource): OutgoingEvent {
  const json = ackEventJson({
    time: new Date(),
    timeSource,
    device: deviceInfoInput(e.device),
    queueItemId: e.downlinkId,
    acknowledged: e.acknowledged,
    fCntDown: e.fCntDown,
  });
  return { topic: eventTopic(e.device.applicationId, e.device.devEui, 'ack'), json };
}

/**
 * ChirpStack sends `txack` only for downlinks from the application's queue:
 * join accepts and MAC-only answers (no `downlinkId`) have none. The
 * transmission is timed after the uplink: the session's RX1 delay for RX1,
 * one second more for RX2 (the region's defaults when the delay is unknown).
 */
export function txAckEvent(
  e: TxAckEvent,
  timeSource: TimeSource,
  /** The session's RX1 delay in seconds (RXTimingSetupReq may have moved it from the region's 1 s). */
  rxDelaySeconds?: number,
): OutgoingEvent | undefined {
  if (e.downlinkId === undefined || e.downlinkId === '') return undefined;
  const region = getRegion(e.device.regionId);
  const dataRate = region.dataRates.find((d) => d.dr === e.dr)?.dataRate;
  if (!dataRate) return undefined;
  const json = txAckEventJson({
    time: new Date(),
    timeSource,
    device: deviceInfoInput(e.device),
    queueItemId: e.downlinkId,
    fCntDown: e.fCntDown ?? 0,
    gatewayEui: e.gatewayEui,
    tx: {
      frequencyHz: e.frequencyHz,
      powerDbm: region.downlinkTxPowerDbm,
      dataRate,
      codingRate: '4/5',
      invertPolarity: true,
      // RX2 opens one second after RX1 (LoRaWAN 1.0.4 §3.3.2).
      delayMs:
        rxDelaySeconds === undefined
          ? e.window === 'rx1'
            ? region.receiveDelay1Ms
            : region.receiveDelay2Ms
          : (rxDelaySeconds + (e.window === 'rx1' ? 0 : 1)) * 1000,
    },
  });
  return { topic: eventTopic(e.device.applicationId, e.device.devEui, 'txack'), json };
}

export function statusEvent(e: StatusEvent, timeSource: TimeSource): OutgoingEvent {
  const json = statusEventJson({
    time: new Date(e.at),
    timeSource,
    device: deviceInfoInput(e.device),
    margin: e.margin,
    battery: e.battery,
  });
  return { topic: eventTopic(e.device.applicationId, e.device.devEui, 'status'), json };
}

const logCodes: Record<string, LogCode> = {
  codec: 'UPLINK_CODEC',
  unknown: 'UNKNOWN',
  uplink_mic: 'UPLINK_MIC',
  uplink_f_cnt_reset: 'UPLINK_F_CNT_RESET',
  uplink_f_cnt_retransmission: 'UPLINK_F_CNT_RETRANSMISSION',
  uplink_codec: 'UPLINK_CODEC',
  downlink_codec: 'DOWNLINK_CODEC',
  otaa: 'OTAA',
  mic: 'UPLINK_MIC',
  retransmission: 'UPLINK_F_CNT_RETRANSMISSION',
  downlink_gateway: 'DOWNLINK_GATEWAY',
  payload_size: 'DOWNLINK_PAYLOAD_SIZE',
  f_cnt_down: 'F_CNT_DOWN',
  expired: 'EXPIRED',
};

export function logEvent(e: LogEvent, timeSource: TimeSource): OutgoingEvent | undefined {
  if (!e.device) return undefined;
  const context: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.context ?? {}))
    context[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const json = logEventJson({
    time: new Date(),
    timeSource,
    device: deviceInfoInput(e.device),
    level: e.level === 'warn' ? 'WARNING' : e.level === 'error' ? 'ERROR' : 'INFO',
    code: logCodes[e.code.toLowerCase()] ?? 'UNKNOWN',
    description: e.description,
    context,
  });
  return { topic: eventTopic(e.device.applicationId, e.device.devEui, 'log'), json };
}
