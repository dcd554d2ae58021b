/**
 * `modu` + `datr` (PROTOCOL.TXT §4/§6): LoRa rates are strings such as "SF7BW125", FSK rates
 * are numbers in bit/s. `modu` may be absent on input; then the type of `datr` decides.
 */
import { type DataRate, parseLoraDatr } from '../radio.js';
import { type JsonObject, own } from './json-payload.js';
import { badField } from './wire-error.js';

const CODING_RATE = /^4\/[5-8]$|^2\/3$|^1\/2$|^OFF$/;

export function readDataRate(obj: JsonObject, path: string): DataRate {
  const modu = own(obj, 'modu');
  const datr = own(obj, 'datr');
  if (modu !== undefined && modu !== 'LORA' && modu !== 'FSK') {
    throw badField(`${path}.modu`, 'must be "LORA" or "FSK"', modu);
  }
  if (typeof datr === 'string' && modu !== 'FSK') {
    const lora = parseLoraDatr(datr);
    if (!lora) throw badField(`${path}.datr`, 'is not a LoRa rate like "SF7BW125"', datr);
    return lora;
  }
  if (typeof datr === 'number' && modu !== 'LORA') {
    if (!Number.isInteger(datr) || datr < 500 || datr > 300_000) {
      throw badField(`${path}.datr`, 'must be an FSK bit rate in [500, 300000] bit/s', datr);
    }
    return { modulation: 'FSK', bitrate: datr };
  }
  if (datr === undefined) throw badField(`${path}.datr`, 'is missing');
  throw badField(`${path}.datr`, `does not match modu ${JSON.stringify(modu ?? 'unset')}`, datr);
}

export function readCodingRate(obj: JsonObject, path: string): string | undefined {
  const codr = own(obj, 'codr');
  if (codr === undefined) return undefined;
  if (typeof codr !== 'string' || !CODING_RATE.test(codr)) {
    throw badField(`${path}.codr`, 'must be a coding rate like "4/5"', codr);
  }
  return codr;
}

/** `modu` and `datr` for JSON output. */
export function writeDataRate(dr: DataRate): { modu: 'LORA' | 'FSK'; datr: string | number } {
  return dr.modulation === 'LORA'
    ? { modu: 'LORA', datr: `SF${dr.spreadingFactor}BW${dr.bandwidthKHz}` }
    : { modu: 'FSK', datr: dr.bitrate };
}
