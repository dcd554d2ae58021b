/**
 * The regional MQTT link: topics and the acknowledgement payload.
 *   maverick/v1/gw/{gatewayId}/up/{kind}   gateway → regional, the item's exact bytes (QoS 1)
 *   maverick/v1/gw/{gatewayId}/ack         regional → gateway, a signed ack (QoS 1)
 * The ack is a COSE_Sign1 signed by the regional node (ACK.md, signed-ack.ts);
 * it names the SHA-256 of the item bytes, so every kind of item is acked the same way.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { type ItemKind, ItemKindCode } from './fragment.js';
import type { ItemStatus } from './status.js';

export const TOPIC_ROOT = 'maverick/v1/gw';

/** The regional node's verdict on one item, before it is signed (regional/ack.ts). */
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

/** The gateway an ack topic is for; undefined when it is not an ack topic. */
export function parseAckTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}/${parts[2]}` !== TOPIC_ROOT || parts[4] !== 'ack')
    return undefined;
  const gatewayId = parts[3]!;
  return /^[A-Za-z0-9._:-]{1,128}$/.test(gatewayId) ? gatewayId : undefined;
}
