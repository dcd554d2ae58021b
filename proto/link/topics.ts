/**
 * The regional MQTT link: topics and the acknowledgement payload.
 *   maverick/v1/gw/{gatewayId}/up/{kind}   gateway → regional, the item's exact bytes (QoS 1)
 *   maverick/v1/gw/{gatewayId}/ack         regional → gateway, JSON below (QoS 1)
 * Ack JSON: {"v":1,"digest":"<64 hex>","status":"accepted"|"duplicate"|"rejected","seq"?:n,"reason"?:s}.
 * `digest` is the SHA-256 of the item bytes, so every kind of item is acked the same way.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { type ItemKind, ItemKindCode } from './fragment.js';
import type { ItemStatus } from './status.js';

export const TOPIC_ROOT = 'maverick/v1/gw';

export interface ItemAck {
  digest: string;
  status: ItemStatus;
  seq?: number;
  reason?: string;
}

/** MQTT topic levels must not contain wildcards or separators (MQTT 5 §4.7). */
export function assertTopicSafeId(gatewayId: string): void {
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(gatewayId)) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `gateway id ${JSON.stringify(gatewayId)} cannot be used in an MQTT topic`,
      {
        hint: 'use 1-128 letters, digits, dot, underscore, colon or dash',
      },
    );
  }
}

export function upTopic(gatewayId: string, kind: ItemKind): string {
  assertTopicSafeId(gatewayId);
  return `${TOPIC_ROOT}/${gatewayId}/up/${kind}`;
}

export function ackTopic(gatewayId: string): string {
  assertTopicSafeId(gatewayId);
  return `${TOPIC_ROOT}/${gatewayId}/ack`;
}

/** The regional side's subscription. */
export const UP_FILTER = `${TOPIC_ROOT}/+/up/+`;

/** Parses an up topic; undefined when it is not one. */
export function parseUpTopic(topic: string): { gatewayId: string; kind: ItemKind } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 6 || `${parts[0]}/${parts[1]}/${parts[2]}` !== TOPIC_ROOT || parts[4] !== 'up')
    return undefined;
  const gatewayId = parts[3]!;
  const kind = parts[5]!;
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(gatewayId) || !Object.hasOwn(ItemKindCode, kind)) return undefined;
  return { gatewayId, kind: kind as ItemKind };
}

export function encodeAck(ack: ItemAck): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, ...ack }));
}

function ackError(message: string): MaverickError {
  return new MaverickError(ErrorCode.WireBadField, `ack: ${message}`);
}

/** Parses an ack payload. Untrusted bytes: throws only MaverickError. */
export function decodeAck(bytes: Uint8Array): ItemAck {
  if (bytes.length > 4096) throw ackError(`${bytes.length} bytes is too long for an ack`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new MaverickError(ErrorCode.WireBadJson, 'ack: not UTF-8 JSON', { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw ackError('not a JSON object');
  const o = value as Record<string, unknown>;
  if (o.v !== 1) throw ackError(`version ${String(o.v)} is not supported`);
  if (typeof o.digest !== 'string' || !/^[0-9a-f]{64}$/.test(o.digest))
    throw ackError('digest must be 64 lowercase hex digits');
  if (o.status !== 'accepted' && o.status !== 'duplicate' && o.status !== 'rejected')
    throw ackError('status must be accepted, duplicate or rejected');
  const ack: ItemAck = { digest: o.digest, status: o.status };
  if (o.seq !== undefined) {
    if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0)
      throw ackError('seq must be a non-negative integer');
    ack.seq = o.seq as number;
  }
  if (o.reason !== undefined) {
    if (typeof o.reason !== 'string') throw ackError('reason must be a string');
    ack.reason = o.reason.slice(0, 200);
  }
  return ack;
}
