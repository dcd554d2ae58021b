/**
 * Fresh sessions and the receive-window parameters a device should use. A new
 * session starts from the region's defaults (LoRaWAN 1.0.4 §3.3 / RP002 per
 * region); the server's configured parameters differ only after the device
 * accepted them (join accept, RXParamSetupReq, RXTimingSetupReq).
 */
import { getRegion } from '../../proto/regions/index.js';
import type { Device, DeviceSession } from './types.js';

/** Receive-window parameters the network wants devices to use. */
export interface SessionParameters {
  rx1DrOffset: number;
  rx2Dr: number;
  rx2FrequencyHz: number;
  /** RX1 delay in seconds, 1..15. */
  rxDelay: number;
}

/** The region's defaults, with any configured overrides applied. */
export function sessionParameters(
  regionId: Device['regionId'],
  overrides: Partial<SessionParameters> = {},
): SessionParameters {
  const region = getRegion(regionId);
  return {
    rx1DrOffset: overrides.rx1DrOffset ?? 0,
    rx2Dr: overrides.rx2Dr ?? region.rx2.dr,
    rx2FrequencyHz: overrides.rx2FrequencyHz ?? region.rx2.frequencyHz,
    rxDelay: overrides.rxDelay ?? Math.max(1, Math.round(region.receiveDelay1Ms / 1000)),
  };
}

/** A session as the device has it right after activation with the region's defaults. */
export function defaultDeviceSession(
  device: Device,
  keys: { devAddr: string; nwkSKey: string; appSKey: string; generation?: number },
  parameters: SessionParameters = sessionParameters(device.regionId),
  now: Date = new Date(),
): DeviceSession {
  return {
    devEui: device.devEui,
    devAddr: keys.devAddr,
    nwkSKey: keys.nwkSKey,
    appSKey: keys.appSKey,
    nFCntDown: 0,
    rx1DrOffset: parameters.rx1DrOffset,
    rx2Dr: parameters.rx2Dr,
    rx2FrequencyHz: parameters.rx2FrequencyHz,
    rxDelay: parameters.rxDelay,
    dr: 0,
    txPowerIndex: 0,
    nbTrans: 1,
    adrHistory: [],
    pendingMac: [],
    extraChannels: {},
    joinedAt: now.toISOString(),
    generation: keys.generation ?? 0,
  };
}

/** The session number of a stored session (sessions older than the field are session 0). */
export function sessionGeneration(session: Pick<DeviceSession, 'generation'>): number {
  return session.generation ?? 0;
}

/** The number the session that replaces `previous` gets: 0 when the device has had none. */
export function nextGeneration(previous: Pick<DeviceSession, 'generation'> | undefined): number {
  return previous ? sessionGeneration(previous) + 1 : 0;
}
