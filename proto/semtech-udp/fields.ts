/** Typed readers for JSON fields of untrusted datagrams; each names the path it rejects. */
import { type JsonObject, own } from './json-payload.js';
import { badField } from './wire-error.js';

export function optionalNumber(obj: JsonObject, key: string, path: string): number | undefined {
  const v = own(obj, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badField(`${path}.${key}`, 'must be a number', v);
  return v;
}

export function requiredNumber(obj: JsonObject, key: string, path: string): number {
  const v = optionalNumber(obj, key, path);
  if (v === undefined) throw badField(`${path}.${key}`, 'is missing');
  return v;
}

/** An integer in [min, max]; absent gives undefined. */
export function optionalInteger(
  obj: JsonObject,
  key: string,
  path: string,
  min: number,
  max: number,
): number | undefined {
  const v = optionalNumber(obj, key, path);
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw badField(`${path}.${key}`, `must be an integer in [${min}, ${max}]`, v);
  }
  return v;
}

export function requiredInteger(
  obj: JsonObject,
  key: string,
  path: string,
  min: number,
  max: number,
): number {
  const v = optionalInteger(obj, key, path, min, max);
  if (v === undefined) throw badField(`${path}.${key}`, 'is missing');
  return v;
}

/** A number in [min, max] (floats allowed). */
export function optionalNumberInRange(
  obj: JsonObject,
  key: string,
  path: string,
  min: number,
  max: number,
): number | undefined {
  const v = optionalNumber(obj, key, path);
  if (v === undefined) return undefined;
  if (v < min || v > max) throw badField(`${path}.${key}`, `must be in [${min}, ${max}]`, v);
  return v;
}

export function optionalString(
  obj: JsonObject,
  key: string,
  path: string,
  maxLength = 64,
): string | undefined {
  const v = own(obj, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > maxLength) {
    throw badField(`${path}.${key}`, `must be a string of at most ${maxLength} characters`, v);
  }
  return v;
}

export function optionalBoolean(obj: JsonObject, key: string, path: string): boolean | undefined {
  const v = own(obj, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw badField(`${path}.${key}`, 'must be true or false', v);
  return v;
}

export const U32_MAX = 0xffff_ffff;
