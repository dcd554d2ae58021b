/**
 * The `txpk` object of PULL_RESP (PROTOCOL.TXT §6) <-> our TxRequest.
 *
 * LoRaWAN downlinks to devices use inverted IQ (`ipol: true`, LoRaWAN 1.0.x §3.1 / Regional
 * Parameters). We do not send `ncrc`: the spec marks it optional and the ChirpStack gateway bridge
 * leaves it out for LoRaWAN downlinks too, so the forwarder's default applies.
 */
import type { DataRate, TxRequest } from '../radio.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { MAX_PHY_PAYLOAD_BYTES } from './constants.js';
import { readCodingRate, readDataRate, writeDataRate } from './datarate.js';
import { optionalBoolean, optionalInteger, optionalString, U32_MAX } from './fields.js';
import { hzToMhz, mhzToHz } from './frequency.js';
import { isJsonObject, type JsonObject, own } from './json-payload.js';
import { badField, badInput } from './wire-error.js';

/** A decoded `txpk`: what the concentrator is asked to transmit. */
export interface Txpk {
  /** `imme`: send now, ignoring tmst/time. */
  immediate: boolean;
  tmst?: number;
  /** `time`: GPS-timed transmission (ISO 8601). */
  time?: string;
  /** `tmms`: GPS time in ms since the GPS epoch. */
  tmms?: number;
  frequencyHz: number;
  rfChain: number;
  powerDbm?: number;
  dataRate: DataRate;
  codingRate?: string;
  invertPolarity: boolean;
  preamble?: number;
  /** `fdev`: FSK frequency deviation in Hz. */
  frequencyDeviationHz?: number;
  /** `ncrc`: physical-layer CRC disabled. */
  noCrc: boolean;
  phyPayload: Uint8Array;
}

/** The txpk for one of our TxRequests: tmst when timed, imme otherwise; RF chain 0 (the TX chain). */
export function txpkFromTxRequest(tx: TxRequest): Txpk {
  if (!Number.isInteger(tx.powerDbm)) throw badInput('tx.powerDbm', 'must be an integer dBm', tx.powerDbm);
  const txpk: Txpk = {
    immediate: tx.tmst === undefined,
    frequencyHz: tx.frequencyHz,
    rfChain: 0,
    powerDbm: tx.powerDbm,
    dataRate: tx.dataRate,
    invertPolarity: tx.invertPolarity,
    noCrc: false,
    phyPayload: tx.phyPayload,
  };
  if (tx.tmst !== undefined) txpk.tmst = tx.tmst >>> 0;
  if (tx.dataRate.modulation === 'LORA') txpk.codingRate = tx.codingRate;
  // FSK deviation: half the bit rate, the LoRaWAN FSK channel (50 kbit/s, 25 kHz deviation).
  else txpk.frequencyDeviationHz = Math.round(tx.dataRate.bitrate / 2);
  if (tx.preamble !== undefined) txpk.preamble = tx.preamble;
  return txpk;
}

export function encodeTxpk(txpk: Txpk): JsonObject {
  if (txpk.phyPayload.length > MAX_PHY_PAYLOAD_BYTES) {
    throw badInput('txpk.data', `is ${txpk.phyPayload.length} bytes, more than ${MAX_PHY_PAYLOAD_BYTES}`);
  }
  const out: JsonObject = {};
  if (txpk.immediate) out.imme = true;
  if (txpk.tmst !== undefined) out.tmst = txpk.tmst;
  if (txpk.time !== undefined) out.time = txpk.time;
  if (txpk.tmms !== undefined) out.tmms = txpk.tmms;
  out.freq = hzToMhz(txpk.frequencyHz, 'txpk.frequencyHz');
  out.rfch = txpk.rfChain;
  if (txpk.powerDbm !== undefined) out.powe = txpk.powerDbm;
  Object.assign(out, writeDataRate(txpk.dataRate));
  if (txpk.codingRate !== undefined) out.codr = txpk.codingRate;
  if (txpk.frequencyDeviationHz !== undefined) out.fdev = txpk.frequencyDeviationHz;
  out.ipol = txpk.invertPolarity;
  if (txpk.preamble !== undefined) out.prea = txpk.preamble;
  if (txpk.noCrc) out.ncrc = true;
  out.size = txpk.phyPayload.length;
  out.data = encodeBase64(txpk.phyPayload);
  return out;
}

export function decodeTxpk(value: unknown): Txpk {
  const path = 'txpk';
  if (!isJsonObject(value)) throw badField(path, 'must be an object', value);
  const phyPayload = decodeBase64(own(value, 'data'), `${path}.data`, MAX_PHY_PAYLOAD_BYTES);
  const size = optionalInteger(value, 'size', path, 0, MAX_PHY_PAYLOAD_BYTES);
  if (size !== undefined && size !== phyPayload.length) {
    throw badField(`${path}.size`, `says ${size} bytes but data decodes to ${phyPayload.length}`);
  }
  const tmst = optionalInteger(value, 'tmst', path, 0, U32_MAX);
  const time = optionalString(value, 'time', path, 40);
  const tmms = optionalInteger(value, 'tmms', path, 0, Number.MAX_SAFE_INTEGER);
  const immediate = optionalBoolean(value, 'imme', path) ?? false;
  if (!immediate && tmst === undefined && time === undefined && tmms === undefined) {
    throw badField(path, 'has none of imme, tmst, time or tmms: the forwarder cannot tell when to send');
  }
  const txpk: Txpk = {
    immediate,
    frequencyHz: mhzToHz(own(value, 'freq'), `${path}.freq`),
    rfChain: optionalInteger(value, 'rfch', path, 0, 255) ?? 0,
    dataRate: readDataRate(value, path),
    invertPolarity: optionalBoolean(value, 'ipol', path) ?? false,
    noCrc: optionalBoolean(value, 'ncrc', path) ?? false,
    phyPayload,
  };
  if (tmst !== undefined) txpk.tmst = tmst;
  if (time !== undefined) txpk.time = time;
  if (tmms !== undefined) txpk.tmms = tmms;
  const powerDbm = optionalInteger(value, 'powe', path, -128, 127);
  if (powerDbm !== undefined) txpk.powerDbm = powerDbm;
  const codingRate = readCodingRate(value, path);
  if (codingRate !== undefined) txpk.codingRate = codingRate;
  const fdev = optionalInteger(value, 'fdev', path, 0, 1_000_000);
  if (fdev !== undefined) txpk.frequencyDeviationHz = fdev;
  const preamble = optionalInteger(value, 'prea', path, 0, 65_535);
  if (preamble !== undefined) txpk.preamble = preamble;
  return txpk;
}
