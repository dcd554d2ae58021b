/**
 * ChirpStack v4 `command/down` payload (integration.proto `DownlinkCommand`,
 * proto3 JSON mapping: id, devEui, confirmed, fPort, data as base64, object,
 * expiresAt). Every form proto3 JSON allows is accepted: a uint32 as a number
 * or a decimal string, bytes as standard or URL-safe base64 with or without
 * padding, a Timestamp as RFC 3339 text, null for "not set".
 * The bytes come from any MQTT client, so everything is checked and every
 * failure is a MaverickError (MqttBadCommand) that names the field.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { normaliseEui, parseCommandTopic } from './topics.js';

export interface DownlinkCommand {
  applicationId: string;
  devEui: string;
  /** Client-chosen id (ChirpStack uses it as the queue item id); absent when not given. */
  id?: string;
  confirmed: boolean;
  /** 1..223 (LoRaWAN 1.0.x §4.3.2: 0 is MAC-only, 224 is the test port). */
  fPort: number;
  /** Raw FRMPayload; absent when `object` is to be encoded by the device's codec. */
  data?: Uint8Array;
  object?: Record<string, unknown>;
  /** After this instant the downlink is dropped instead of sent (ChirpStack `expiresAt`). */
  expiresAt?: Date;
}

/** Commands larger than this are refused before JSON.parse (LoRaWAN payloads are ≤ 242 bytes). */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** Standard or URL-safe alphabet, padding optional (proto3 JSON accepts all four). */
const BASE64 = /^(?:[A-Za-z0-9+/\-_]{4})*(?:[A-Za-z0-9+/\-_]{2}(?:==)?|[A-Za-z0-9+/\-_]{3}=?)?$/;
/** RFC 3339 with a "Z" or numeric offset, as proto3 JSON's Timestamp. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** proto3 JSON uint32: a JSON number or a string holding an integer. */
function uint32Of(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

function bad(field: string, message: string, value?: unknown): MaverickError {
  return new MaverickError(ErrorCode.MqttBadCommand, `downlink command: ${field} ${message}`, {
    context: { field, value: typeof value === 'string' ? value.slice(0, 100) : value },
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses the payload published on `topic`. Throws MaverickError (MqttBadTopic / MqttBadCommand) only. */
export function parseDownlinkCommand(topic: string, payload: Uint8Array): DownlinkCommand {
  const { applicationId, devEui } = parseCommandTopic(topic);
  if (payload.length > MAX_COMMAND_BYTES) {
    throw bad('payload', `is ${payload.length} bytes, more than ${MAX_COMMAND_BYTES}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new MaverickError(ErrorCode.MqttBadCommand, 'downlink command: payload is not UTF-8 JSON', {
      hint: 'send {"devEui":"…","confirmed":false,"fPort":10,"data":"<base64>"}',
      cause: err,
    });
  }
  if (!isPlainObject(body)) throw bad('payload', 'must be a JSON object');

  if (body.devEui !== undefined && body.devEui !== null && body.devEui !== '') {
    if (typeof body.devEui !== 'string') throw bad('devEui', 'must be a string', body.devEui);
    let inBody: string;
    try {
      inBody = normaliseEui(body.devEui, 'devEui');
    } catch {
      throw bad('devEui', 'must be 16 hex characters', body.devEui);
    }
    if (inBody !== devEui)
      throw bad('devEui', `(${inBody}) does not match the topic (${devEui})`, body.devEui);
  }

  const confirmed = body.confirmed === null ? false : (body.confirmed ?? false);
  if (typeof confirmed !== 'boolean') throw bad('confirmed', 'must be true or false', confirmed);

  const fPort = uint32Of(body.fPort);
  if (fPort === undefined || fPort < 1 || fPort > 223) {
    throw bad('fPort', 'must be an integer from 1 to 223 (a number or a string)', body.fPort);
  }

  const command: DownlinkCommand = { applicationId, devEui, confirmed, fPort };

  if (body.id !== undefined && body.id !== null && body.id !== '') {
    if (typeof body.id !== 'string' || body.id.length > 64)
      throw bad('id', 'must be a string of ≤ 64 characters', body.id);
    command.id = body.id;
  }

  if (body.data !== undefined && body.data !== null && body.data !== '') {
    if (typeof body.data !== 'string' || !BASE64.test(body.data)) {
      throw bad('data', 'must be base64 (RFC 4648 §4 or §5)', body.data);
    }
    command.data = new Uint8Array(Buffer.from(body.data.replaceAll('-', '+').replaceAll('_', '/'), 'base64'));
  }
  if (body.object !== undefined && body.object !== null) {
    if (!isPlainObject(body.object)) throw bad('object', 'must be a JSON object', typeof body.object);
    command.object = body.object;
  }
  if (body.expiresAt !== undefined && body.expiresAt !== null) {
    const at =
      typeof body.expiresAt === 'string' && RFC3339.test(body.expiresAt) ? Date.parse(body.expiresAt) : NaN;
    if (!Number.isFinite(at))
      throw bad('expiresAt', 'must be an RFC 3339 time, e.g. 2026-05-01T10:00:00Z', body.expiresAt);
    command.expiresAt = new Date(at);
  }
  if (command.data && command.object) throw bad('data', 'and object are exclusive: send one of them');
  if (!command.data && !command.object) command.data = new Uint8Array(0);
  return command;
}
