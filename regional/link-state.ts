/**
 * Satellite (message-link) reassembly state as the regional store keeps it,
 * so that any worker can finish an item another worker started and a restart
 * loses no fragment. The rules (shape change, duplicates, expiry, caps) live
 * once, in transport/stored-reassembly.ts; an engine only stores:
 *   partial messages  keyed by (sender, item id): kind, count, bitmap, bytes, times
 *   fragments         keyed by (sender, item id, index): the payload bytes
 *   settled items     keyed by item id: the verdict, so late fragments get DONE
 * `withMessage` runs exclusively per (sender, item id): PostgreSQL takes a
 * transaction-scoped advisory lock and holds the partial's row; the embedded
 * store runs link-state work one at a time in its process.
 */
import type { ItemKind } from '../proto/link/fragment.js';
import type { ItemStatus } from '../proto/link/status.js';

export interface PartialMessage {
  kind: ItemKind;
  count: number;
  /** Distinct fragments held. */
  received: number;
  /** Payload bytes held. */
  bytes: number;
  /** Bit i set when fragment i is held (proto/link/status.ts layout). */
  bitmap: Uint8Array;
  startedAt: number;
  touchedAt: number;
}

/** One (sender, item id), held exclusively while a `withMessage` callback runs. */
export interface MessageSlot {
  partial(): Promise<PartialMessage | undefined>;
  /** The verdict of a settled item with this id (from any sender or link). */
  settled(): Promise<ItemStatus | undefined>;
  /** Starts this partial afresh with no fragments (dropping any held ones). */
  begin(shape: { kind: ItemKind; count: number }, at: number): Promise<PartialMessage>;
  /**
   * Stores fragment `index` unless it is held already (the first copy wins)
   * and touches the partial; returns the partial after it. begin() first.
   */
  addFragment(index: number, payload: Uint8Array, at: number): Promise<PartialMessage>;
  /** The held payloads in index order. */
  payloads(): Promise<Uint8Array[]>;
  /** Forgets the partial and its fragments. */
  drop(): Promise<void>;
}

export interface LinkStateLimits {
  /** Partial messages kept in all (the least recently touched go first). */
  maxPartials: number;
  /** Partial messages kept per sender, so one modem cannot push the others out. */
  maxPartialsPerSender: number;
  /** Payload bytes held over all partials. */
  maxStoredBytes: number;
  /** A partial untouched this long is dropped. */
  expiryMs: number;
}

export interface LinkStateUsage {
  partials: number;
  fragments: number;
  bytes: number;
  settled: number;
}

export interface LinkStateStore {
  withMessage<T>(sender: string, itemId: string, fn: (slot: MessageSlot) => Promise<T>): Promise<T>;
  /**
   * Records an item's verdict by item id (8 hex digits) and drops every
   * partial with that id; a rejected item is not remembered (it may be fixed
   * and resent under the same id). Keeps at most `remember` settled ids.
   * With `onlyIfPartial`, does nothing unless a partial with that id exists
   * (items settled over MQTT: one cheap statement per item).
   */
  settle(
    itemId: string,
    status: ItemStatus,
    at: number,
    remember: number,
    onlyIfPartial?: boolean,
  ): Promise<void>;
  /** Drops expired partials and the least recently touched beyond the limits; returns how many. */
  prune(limits: LinkStateLimits, now: number): Promise<number>;
  usage(): Promise<LinkStateUsage>;
}

/** Which partials `prune` drops: expired ones, then per sender, in all and by bytes, least recently touched first. */
export function partialsToDrop<K>(
  partials: readonly { key: K; sender: string; bytes: number; touchedAt: number }[],
  limits: LinkStateLimits,
  now: number,
): K[] {
  const newestFirst = [...partials].sort((a, b) => b.touchedAt - a.touchedAt);
  const perSender = new Map<string, number>();
  const drop: K[] = [];
  let kept = 0;
  let keptBytes = 0;
  for (const p of newestFirst) {
    if (p.touchedAt < now - limits.expiryMs) {
      drop.push(p.key);
      continue;
    }
    const senderCount = (perSender.get(p.sender) ?? 0) + 1;
    if (
      senderCount > limits.maxPartialsPerSender ||
      kept + 1 > limits.maxPartials ||
      keptBytes + p.bytes > limits.maxStoredBytes
    ) {
      drop.push(p.key);
      continue;
    }
    perSender.set(p.sender, senderCount);
    kept++;
    keptBytes += p.bytes;
  }
  return drop;
}
