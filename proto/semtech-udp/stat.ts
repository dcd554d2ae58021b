/** The `stat` object of PUSH_DATA (PROTOCOL.TXT §4, "v1.1: status report") <-> GatewayStats. */
import type { GatewayStats } from '../radio.js';
import { optionalInteger, optionalNumberInRange, optionalString, U32_MAX } from './fields.js';
import { isJsonObject, type JsonObject } from './json-payload.js';
import { badField } from './wire-error.js';

/** Gateway statistics as decoded: all of GatewayStats except the host receive time. */
export type SemtechStat = Omit<GatewayStats, 'receivedAtMs'>;

export function decodeStat(value: unknown, gatewayEui: string): SemtechStat {
  if (!isJsonObject(value)) throw badField('stat', 'must be an object', value);
  const count = (key: string) => optionalInteger(value, key, 'stat', 0, U32_MAX) ?? 0;
  const stat: SemtechStat = {
    gatewayEui,
    rxReceived: count('rxnb'),
    rxOk: count('rxok'),
    rxForwarded: count('rxfw'),
    ackRatio: optionalNumberInRange(value, 'ackr', 'stat', 0, 100) ?? 0,
    downlinksReceived: count('dwnb'),
    txEmitted: count('txnb'),
  };
  const time = optionalString(value, 'time', 'stat', 40);
  if (time !== undefined) stat.time = time;
  const latitude = optionalNumberInRange(value, 'lati', 'stat', -90, 90);
  if (latitude !== undefined) stat.latitude = latitude;
  const longitude = optionalNumberInRange(value, 'long', 'stat', -180, 180);
  if (longitude !== undefined) stat.longitude = longitude;
  const altitude = optionalNumberInRange(value, 'alti', 'stat', -1000, 100_000);
  if (altitude !== undefined) stat.altitude = altitude;
  return stat;
}

export function encodeStat(stat: Omit<SemtechStat, 'gatewayEui'>): JsonObject {
  const out: JsonObject = {};
  if (stat.time !== undefined) out.time = stat.time;
  if (stat.latitude !== undefined) out.lati = stat.latitude;
  if (stat.longitude !== undefined) out.long = stat.longitude;
  if (stat.altitude !== undefined) out.alti = stat.altitude;
  out.rxnb = stat.rxReceived;
  out.rxok = stat.rxOk;
  out.rxfw = stat.rxForwarded;
  out.ackr = stat.ackRatio;
  out.dwnb = stat.downlinksReceived;
  out.txnb = stat.txEmitted;
  return out;
}
