/**
 * Frequencies travel as MHz floats with "Hz precision" (PROTOCOL.TXT §4 `freq`, §6). We keep
 * integer Hz everywhere and convert through the decimal digits, never by multiplying floats:
 * 868.1 * 1e6 is 868099999.9999999 in binary floating point.
 */
import { badField, badInput } from './wire-error.js';

/** Lowest and highest centre frequency we accept (covers 137 MHz ISM up to 2.4 GHz LoRa). */
export const MIN_FREQUENCY_HZ = 1_000_000;
export const MAX_FREQUENCY_HZ = 9_999_999_999;

/**
 * MHz as parsed from JSON -> integer Hz. `String(n)` yields the shortest decimal that
 * round-trips to the same double, i.e. the digits the forwarder printed (it prints %.6f).
 * Digits beyond the sixth decimal (sub-Hz) are rounded half-up to the nearest Hz.
 */
export function mhzToHz(mhz: unknown, path: string): number {
  if (typeof mhz !== 'number' || !Number.isFinite(mhz)) throw badField(path, 'must be a number in MHz', mhz);
  if (mhz * 1e6 < MIN_FREQUENCY_HZ - 1 || mhz * 1e6 > MAX_FREQUENCY_HZ + 1) {
    throw badField(path, 'is outside 1 MHz..10 GHz', mhz);
  }
  const text = String(mhz);
  // In this range String() never uses exponent notation; guard anyway so a change cannot go unnoticed.
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw badField(path, 'is not a plain decimal MHz value', mhz);
  const whole = Number(m[1]);
  const fraction = m[2] ?? '';
  const micro = Number(fraction.slice(0, 6).padEnd(6, '0'));
  const roundUp = fraction.length > 6 && fraction.charCodeAt(6) >= 0x35; /* '5' */
  const hz = whole * 1_000_000 + micro + (roundUp ? 1 : 0);
  if (hz < MIN_FREQUENCY_HZ || hz > MAX_FREQUENCY_HZ) throw badField(path, 'is outside 1 MHz..10 GHz', mhz);
  return hz;
}

/**
 * Integer Hz -> the MHz number to put in JSON. The decimal is built from the integer, so
 * JSON.stringify prints exactly the digits needed: 868100000 -> 868.1, 866349812 -> 866.349812.
 */
export function hzToMhz(hz: number, path = 'frequencyHz'): number {
  if (!Number.isSafeInteger(hz) || hz < MIN_FREQUENCY_HZ || hz > MAX_FREQUENCY_HZ) {
    throw badInput(path, 'must be an integer number of Hz between 1 MHz and 10 GHz', hz);
  }
  const whole = Math.floor(hz / 1_000_000);
  const micro = hz - whole * 1_000_000;
  if (micro === 0) return whole;
  const fraction = String(micro).padStart(6, '0').replace(/0+$/, '');
  return Number(`${whole}.${fraction}`);
}
