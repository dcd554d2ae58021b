/**
 * One `rxpk` entry (PROTOCOL.TXT §4, plus the multi-antenna `rsig` array of the v2 reference
 * forwarders) <-> our RadioUplink metadata. A bad entry becomes an outcome, never an exception,
 * so its siblings in the same datagram survive.
 */
import { MaverickError } from '../errors.js';
import type { RxAntenna, RxMetadata } from '../radio.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { MAX_PHY_PAYLOAD_BYTES } from './constants.js';
import { readCodingRate, readDataRate, writeDataRate } from './datarate.js';
import {
  optionalInteger,
  optionalNumberInRange,
  optionalString,
  requiredInteger,
  U32_MAX,
} from './fields.js';
import { hzToMhz, mhzToHz } from './frequency.js';
import { isJsonObject, type JsonObject, own } from './json-payload.js';
import { badField } from './wire-error.js';

/** A good frame as decoded: everything of RadioUplink except the host receive time. */
export interface SemtechUplink {
  phyPayload: Uint8Array;
  rx: RxMetadata;
}

/** `stat`: 1 CRC ok, -1 CRC failed, 0 no CRC in the frame. */
export type CrcStatus = 'ok' | 'bad' | 'none';

export type RxpkOutcome =
  | { status: 'ok'; uplink: SemtechUplink }
  | { status: 'bad-crc' | 'no-crc' | 'invalid'; index: number; reason: string };

/** What the forwarder side (the simulator) needs to describe one received frame. */
export interface RxpkInput {
  phyPayload: Uint8Array;
  rx: Omit<RxMetadata, 'gatewayEui' | 'backend'>;
  /** Defaults to 'ok'. */
  crc?: CrcStatus;
}

const RSSI_RANGE = [-200, 50] as const;
const SNR_RANGE = [-50, 50] as const;

export function decodeRxpk(entry: unknown, index: number, gatewayEui: string): RxpkOutcome {
  const path = `rxpk[${index}]`;
  try {
    if (!isJsonObject(entry)) throw badField(path, 'must be an object');
    const stat = own(entry, 'stat');
    if (stat === -1) return { status: 'bad-crc', index, reason: `${path}.stat is -1 (CRC failed)` };
    if (stat === 0) return { status: 'no-crc', index, reason: `${path}.stat is 0 (frame without CRC)` };
    if (stat !== 1) throw badField(`${path}.stat`, 'must be 1, 0 or -1', stat);
    return { status: 'ok', uplink: readUplink(entry, path, gatewayEui) };
  } catch (err) {
    if (err instanceof MaverickError) return { status: 'invalid', index, reason: err.message };
    throw err;
  }
}

function readUplink(entry: JsonObject, path: string, gatewayEui: string): SemtechUplink {
  const phyPayload = decodeBase64(own(entry, 'data'), `${path}.data`, MAX_PHY_PAYLOAD_BYTES);
  const size = optionalInteger(entry, 'size', path, 0, MAX_PHY_PAYLOAD_BYTES);
  if (size !== undefined && size !== phyPayload.length) {
    throw badField(`${path}.size`, `says ${size} bytes but data decodes to ${phyPayload.length}`);
  }
  const dataRate = readDataRate(entry, path);
  const antennas = readAntennas(entry, path);
  const topRssi = optionalNumberInRange(entry, 'rssi', path, ...RSSI_RANGE);
  const topSnr = optionalNumberInRange(entry, 'lsnr', path, ...SNR_RANGE);
  const rssi = antennas ? Math.max(...antennas.map((a) => a.rssi)) : topRssi;
  if (rssi === undefined) throw badField(`${path}.rssi`, 'is missing (and there is no rsig)');
  const antennaSnrs = antennas?.flatMap((a) => (a.snr === undefined ? [] : [a.snr])) ?? [];
  const snr = antennaSnrs.length > 0 ? Math.max(...antennaSnrs) : topSnr;

  const rx: RxMetadata = {
    gatewayEui,
    tmst: requiredInteger(entry, 'tmst', path, 0, U32_MAX),
    frequencyHz: mhzToHz(own(entry, 'freq'), `${path}.freq`),
    channel: optionalInteger(entry, 'chan', path, 0, 255) ?? 0,
    rfChain: optionalInteger(entry, 'rfch', path, 0, 255) ?? 0,
    dataRate,
    rssi,
    backend: 'semtech-udp',
  };
  const time = readTime(entry, path);
  if (time !== undefined) rx.time = time;
  const tmms = optionalInteger(entry, 'tmms', path, 0, Number.MAX_SAFE_INTEGER);
  if (tmms !== undefined) rx.tmms = tmms;
  const codingRate = readCodingRate(entry, path);
  if (codingRate !== undefined && dataRate.modulation === 'LORA') rx.codingRate = codingRate;
  if (snr !== undefined && dataRate.modulation === 'LORA') rx.snr = snr;
  if (antennas) rx.antennas = antennas;
  return { phyPayload, rx };
}

/** ISO 8601 UTC, present only with a GPS fix. Kept verbatim (µs precision) once shown to parse. */
function readTime(entry: JsonObject, path: string): string | undefined {
  const time = optionalString(entry, 'time', path, 40);
  if (time === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(time) || Number.isNaN(Date.parse(time))) {
    throw badField(`${path}.time`, 'must be an ISO 8601 UTC time like 2013-03-31T16:21:17.528002Z', time);
  }
  return time;
}

function readAntennas(entry: JsonObject, path: string): RxAntenna[] | undefined {
  const rsig = own(entry, 'rsig');
  if (rsig === undefined) return undefined;
  if (!Array.isArray(rsig) || rsig.length === 0 || rsig.length > 16) {
    throw badField(`${path}.rsig`, 'must be an array of 1 to 16 antenna objects', rsig);
  }
  return rsig.map((sig: unknown, i) => {
    const at = `${path}.rsig[${i}]`;
    if (!isJsonObject(sig)) throw badField(at, 'must be an object');
    const rssi = optionalNumberInRange(sig, 'rssic', at, ...RSSI_RANGE);
    if (rssi === undefined) throw badField(`${at}.rssic`, 'is missing');
    const antenna: RxAntenna = {
      antenna: optionalInteger(sig, 'ant', at, 0, 255) ?? 0,
      channel: optionalInteger(sig, 'chan', at, 0, 255) ?? 0,
      rssi,
    };
    const snr = optionalNumberInRange(sig, 'lsnr', at, ...SNR_RANGE);
    if (snr !== undefined) antenna.snr = snr;
    const foff = optionalInteger(sig, 'foff', at, -1_000_000, 1_000_000);
    if (foff !== undefined) antenna.foff = foff;
    const etime = optionalString(sig, 'etime', at, 64);
    if (etime !== undefined) antenna.etime = etime;
    return antenna;
  });
}

const CRC_STAT: Record<CrcStatus, number> = { ok: 1, bad: -1, none: 0 };

/** The JSON object the forwarder sends for one received frame. */
export function encodeRxpk(input: RxpkInput): JsonObject {
  const { rx, phyPayload } = input;
  const out: JsonObject = {};
  if (rx.time !== undefined) out.time = rx.time;
  if (rx.tmms !== undefined) out.tmms = rx.tmms;
  out.tmst = rx.tmst >>> 0;
  out.chan = rx.channel;
  out.rfch = rx.rfChain;
  out.freq = hzToMhz(rx.frequencyHz, 'rx.frequencyHz');
  out.stat = CRC_STAT[input.crc ?? 'ok'];
  Object.assign(out, writeDataRate(rx.dataRate));
  if (rx.codingRate !== undefined && rx.dataRate.modulation === 'LORA') out.codr = rx.codingRate;
  out.rssi = rx.rssi;
  if (rx.snr !== undefined && rx.dataRate.modulation === 'LORA') out.lsnr = rx.snr;
  out.size = phyPayload.length;
  out.data = encodeBase64(phyPayload);
  if (rx.antennas && rx.antennas.length > 0) {
    out.rsig = rx.antennas.map((a) => {
      const sig: JsonObject = { ant: a.antenna, chan: a.channel, rssic: a.rssi };
      if (a.snr !== undefined) sig.lsnr = a.snr;
      if (a.etime !== undefined) sig.etime = a.etime;
      if (a.foff !== undefined) sig.foff = a.foff;
      return sig;
    });
  }
  return out;
}
