/** Shorthand for the wire-area MaverickErrors every decoder here throws. */
import { ErrorCode, MaverickError } from '../errors.js';

export type WireErrorCode =
  | typeof ErrorCode.WireTruncated
  | typeof ErrorCode.WireBadVersion
  | typeof ErrorCode.WireBadIdentifier
  | typeof ErrorCode.WireBadJson
  | typeof ErrorCode.WireBadField
  | typeof ErrorCode.WireOversize;

const HINT = 'check the packet forwarder speaks Semtech UDP protocol v1/v2 (PROTOCOL.TXT)';

export function wireError(
  code: WireErrorCode,
  message: string,
  context?: Record<string, unknown>,
): MaverickError {
  return new MaverickError(code, `semtech-udp: ${message}`, { hint: HINT, context });
}

/** A field-level problem, named by its JSON path so the log says exactly which key was wrong. */
export function badField(path: string, problem: string, value?: unknown): MaverickError {
  const shown = value === undefined ? '' : ` (got ${describeValue(value)})`;
  return wireError(ErrorCode.WireBadField, `${path} ${problem}${shown}`, { field: path });
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** Something we were asked to encode is invalid: a bug in the caller, not in a forwarder. */
export function badInput(path: string, problem: string, value?: unknown): MaverickError {
  const shown = value === undefined ? '' : ` (got ${describeValue(value)})`;
  return new MaverickError(ErrorCode.WireBadField, `semtech-udp: cannot encode: ${path} ${problem}${shown}`, {
    hint: 'fix the value passed to the encoder',
    context: { field: path },
  });
}
