/**
 * One place where an item from any transport meets the regional node: bundles
 * go to `RegionalNode.ingest` (verify, chain-check, de-duplicate by (gateway,
 * sequence), store); other kinds go to an optional handler. The answer is the
 * ack both transports send back, keyed by the item's digest (bundleDigest: the
 * SHA-256 of its statement form, which for everything but a format 3 bundle is
 * the SHA-256 of its bytes; the gateway's outbox knows its items by it).
 */
import { createHash } from 'node:crypto';
import { bundleDigest } from '../../proto/bundle/bundle.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import type { ItemKind } from '../../proto/link/fragment.js';
import type { ItemAck } from '../../proto/link/topics.js';
import type { RegionalNode } from '../intake.js';

/**
 * Takes a commitment, alarm or diagnostic. Return 'accepted' only once it is
 * stored or handed on for good: the gateway retires the item on that answer.
 */
export type OtherItemHandler = (item: {
  kind: Exclude<ItemKind, 'bundle'>;
  bytes: Uint8Array;
  source: string;
}) => Promise<ItemAck['status']>;

/** SHA-256 of the exact transported bytes: what link fragments are identified by (proto/link/fragment.ts). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function ingestItem(
  node: RegionalNode,
  kind: ItemKind,
  bytes: Uint8Array,
  source: string,
  onOther: OtherItemHandler | undefined,
): Promise<ItemAck> {
  if (kind === 'bundle') {
    const result = await node.ingest(bytes, { source });
    // An accepted bundle's digest comes from verification: not hashed a second time. A refused one
    // is named as the gateway names it (a format-3 digest covers the statement form, BUNDLE.md).
    if (result.status === 'rejected')
      return { digest: toHex(bundleDigest(bytes)), status: 'rejected', reason: result.reason };
    return { digest: result.ack.digest, status: result.status, seq: result.ack.seq };
  }
  const digest = sha256Hex(bytes);
  if (!onOther) return { digest, status: 'rejected', reason: `this regional node takes no ${kind} items` };
  return { digest, status: await onOther({ kind, bytes, source }) };
}
