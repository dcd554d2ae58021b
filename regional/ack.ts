/**
 * The one place the regional node builds an ack: the verdict on an item,
 * signed with the node's own key (proto/link/ACK.md). A rejection is marked
 * transient when the fault lies with this node and not with the item's bytes
 * (the key is not registered yet, the store is unavailable): the gateway then
 * sends the same bytes again with back-off instead of parking them.
 */
import type { SigningKey } from '../proto/bundle/cose.js';
import { areaOf, ErrorCode, type ErrorCodeName } from '../proto/errors.js';
import { signAck } from '../proto/link/signed-ack.js';
import type { ItemAck } from '../proto/link/topics.js';

export interface AckSigner {
  key: SigningKey;
  /** Names this node in every ack (COSE `iss`). */
  issuer: string;
  now?: () => number;
}

/** Reasons that say nothing about the item: the same bytes may be accepted later. */
const TRANSIENT_REASONS = new Set<string>([
  'BundleUnknownKey',
  'RegionalUnknownGateway',
  'RegionalStore',
] satisfies ErrorCodeName[]);

export function isTransientReason(reason: string): boolean {
  if (TRANSIENT_REASONS.has(reason)) return true;
  // Any error of the node's own store (full disk, closed, I/O) is the node's fault, not the bundle's.
  const code = (ErrorCode as Record<string, number>)[reason];
  return code !== undefined && areaOf(code) === 'store';
}

/** The signed ack bytes for `gatewayId` on the topic or link that answers it. */
export function regionalAck(signer: AckSigner, gatewayId: string, ack: ItemAck): Uint8Array {
  const rejected = ack.status === 'rejected';
  const reason = rejected ? (ack.reason ?? 'Unknown') : undefined;
  return signAck(
    {
      digest: ack.digest,
      status: ack.status,
      ...(ack.seq !== undefined ? { seq: ack.seq } : {}),
      ...(reason !== undefined ? { reason, transient: isTransientReason(reason) } : {}),
    },
    signer.key,
    {
      issuer: signer.issuer,
      gatewayId,
      iat: Math.floor((signer.now ?? Date.now)() / 1000),
    },
  );
}
