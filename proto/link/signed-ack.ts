/**
 * Signed acknowledgements from the regional node (format in ACK.md beside
 * this file): a COSE_Sign1 (Ed25519) envelope, signed with the regional
 * node's own key, naming the gateway it answers (`sub`), the item's SHA-256
 * digest, the verdict, and for a rejection its reason and whether it is
 * transient. A gateway retires or parks an item only on an ack that verifies
 * against the regional public key it was configured with, so a holder of the
 * broker login can neither retire a bundle the node never stored nor strand
 * one with a fake rejection.
 */
import { decodeCbor } from '../bundle/cbor-decode.js';
import { type CborValue, encodeCbor } from '../bundle/cbor-encode.js';
import { type SigningKey, signSign1, verifySign1 } from '../bundle/cose.js';
import { keyIdOf, toHex } from '../bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../errors.js';
import type { ItemStatus } from './status.js';

export const ACK_CONTENT_TYPE = 'application/vnd.maverick.ack+cbor';
/** A signed ack is ~170 bytes; anything much larger is not one. */
export const ACK_MAX_BYTES = 1024;
const ACK_VERSION = 1;
const REASON_MAX_CHARS = 200;

/** Payload map keys (ACK.md §2). */
const Key = { version: 0, digest: 1, status: 2, seq: 3, reason: 4, transient: 5 } as const;
const STATUSES: readonly ItemStatus[] = ['accepted', 'duplicate', 'rejected'];

export interface SignedAckContent {
  /** SHA-256 of the item bytes, 64 lowercase hex digits. */
  digest: string;
  status: ItemStatus;
  /** Bundle sequence number, when the item is a bundle the node read. */
  seq?: number;
  /** Rejections only: the error code name (e.g. BundleUnknownKey). */
  reason?: string;
  /** Rejections only: true when sending the same bytes again later may succeed. */
  transient?: boolean;
}

export interface VerifiedAck extends SignedAckContent {
  /** The gateway the ack answers (COSE `sub`). */
  gatewayId: string;
  /** The regional node that signed it (COSE `iss`). */
  issuer: string;
  /** Signing time, Unix seconds. */
  iat: number;
}

function ackError(message: string): MaverickError {
  return new MaverickError(ErrorCode.WireBadField, `signed ack: ${message}`);
}

/** Signs one ack for `gatewayId`. The caller (regional/ack.ts) decides the verdict. */
export function signAck(
  content: SignedAckContent,
  key: SigningKey,
  header: { issuer: string; gatewayId: string; iat: number },
): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(content.digest)) throw ackError('digest must be 64 lowercase hex digits');
  const rejected = content.status === 'rejected';
  if (rejected !== (content.reason !== undefined) || rejected !== (content.transient !== undefined))
    throw ackError('a rejection (and only a rejection) carries a reason and the transient flag');
  const map = new Map<number, CborValue>([
    [Key.version, ACK_VERSION],
    [Key.digest, Buffer.from(content.digest, 'hex')],
    [Key.status, content.status],
  ]);
  if (content.seq !== undefined) map.set(Key.seq, content.seq);
  if (content.reason !== undefined) map.set(Key.reason, content.reason.slice(0, REASON_MAX_CHARS));
  if (content.transient !== undefined) map.set(Key.transient, content.transient);
  return signSign1(encodeCbor(map), key, ACK_CONTENT_TYPE, {
    iss: header.issuer,
    sub: header.gatewayId,
    iat: header.iat,
  });
}

/**
 * Verifies an ack addressed to `gatewayId` against the regional node's public
 * key. Untrusted bytes: throws only MaverickError (BundleUnknownKey when it is
 * signed by another key, BundleBadSignature when the signature fails,
 * BundleMalformed / WireBadField when it is not a well-formed ack).
 */
export function verifyAck(bytes: Uint8Array, regionalPublicKey: Uint8Array, gatewayId: string): VerifiedAck {
  const kidHex = toHex(keyIdOf(regionalPublicKey));
  const envelope = verifySign1(bytes, (kid) => (toHex(kid) === kidHex ? regionalPublicKey : undefined), {
    maxBytes: ACK_MAX_BYTES,
  });
  if (envelope.contentType !== ACK_CONTENT_TYPE)
    throw ackError(`content type ${envelope.contentType} is not an ack`);
  if (envelope.claims.sub !== gatewayId)
    throw ackError(`addressed to gateway ${JSON.stringify(envelope.claims.sub)}, not ${gatewayId}`);
  const map = decodeCbor(envelope.payload, { maxDepth: 1 });
  if (!(map instanceof Map)) throw ackError('payload must be a map');
  for (const k of map.keys())
    if (!Object.values(Key).includes(k as never)) throw ackError(`unexpected payload key ${String(k)}`);
  if (map.get(Key.version) !== ACK_VERSION) throw ackError(`version ${String(map.get(Key.version))}`);
  const digest = map.get(Key.digest);
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw ackError('digest must be 32 bytes');
  const status = map.get(Key.status);
  if (!STATUSES.includes(status as ItemStatus))
    throw ackError('status must be accepted, duplicate or rejected');
  const ack: VerifiedAck = {
    gatewayId,
    issuer: envelope.claims.iss,
    iat: envelope.claims.iat,
    digest: toHex(digest),
    status: status as ItemStatus,
  };
  const seq = map.get(Key.seq);
  if (seq !== undefined) {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
      throw ackError('seq must be an unsigned integer');
    ack.seq = seq;
  }
  const reason = map.get(Key.reason);
  const transient = map.get(Key.transient);
  if (ack.status === 'rejected') {
    if (typeof reason !== 'string' || reason.length > REASON_MAX_CHARS)
      throw ackError(`a rejection needs a reason of at most ${REASON_MAX_CHARS} characters`);
    if (typeof transient !== 'boolean') throw ackError('a rejection needs the transient flag');
    ack.reason = reason;
    ack.transient = transient;
  } else if (reason !== undefined || transient !== undefined) {
    throw ackError('only a rejection carries a reason or the transient flag');
  }
  return ack;
}
