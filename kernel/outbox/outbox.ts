/**
 * The outbox: sealed bundles, commitments, alarms and diagnostics waiting for
 * the regional node's acknowledgement, in priority order. Delivery is
 * at-least-once on the wire; the regional node de-duplicates by (gateway,
 * sequence) and by digest, so the effect is exactly once. An item is retired
 * (syncState acked) ONLY when an ack names its digest.
 */
import { EventEmitter } from 'node:events';
import { bundleDigest } from '../../proto/bundle/bundle.js';
import { toHex } from '../../proto/bundle/ed25519.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import {
  type ItemKind,
  KIND_PRIORITY,
  type LinkAck,
  type OutboxItem,
  type OutboxStore,
  type PendingItem,
} from './types.js';

export interface OutboxOptions {
  store: OutboxStore;
  /** Back-off after a transient rejection: `firstMs` (default 5 s), doubling up to `maxMs` (default 15 min). */
  retry?: { firstMs?: number; maxMs?: number };
  now?: () => number;
  logger?: Logger;
}

/** A transiently rejected item waiting for its next attempt. */
export interface DeferredItem {
  reason: string;
  attempts: number;
  /** Not sent again before this time (ms). */
  until: number;
}

export interface OutboxEvents {
  enqueued: [PendingItem];
  acked: [{ item: PendingItem; status: 'accepted' | 'duplicate' }];
  /** The regional node refused the item for good; it stays pending but is not sent again until `unpark`. */
  rejected: [{ item: PendingItem; reason: string }];
  /** The regional node refused the item for a reason of its own (unknown key, store unavailable); sent again later. */
  deferred: [{ item: PendingItem; reason: string; attempts: number; retryInMs: number }];
  drained: [];
}

function byPriority(a: PendingItem, b: PendingItem): number {
  return KIND_PRIORITY[a.kind] - KIND_PRIORITY[b.kind] || a.seq - b.seq || a.createdAt - b.createdAt;
}

export class Outbox extends EventEmitter<OutboxEvents> {
  /** Pending items without their bytes (read from the store when sent). */
  private readonly items = new Map<string, PendingItem>();
  private readonly parked = new Map<string, string>();
  private readonly deferred = new Map<string, DeferredItem>();
  private readonly retryFirstMs: number;
  private readonly retryMaxMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private settling: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly store: OutboxStore,
    options: OutboxOptions,
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.log = (options.logger ?? silentLogger).child({ component: 'outbox' });
    this.retryFirstMs = options.retry?.firstMs ?? 5_000;
    this.retryMaxMs = Math.max(this.retryFirstMs, options.retry?.maxMs ?? 900_000);
  }

  /** Opens the outbox and loads every unacknowledged item from the store (resume after restart). */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(options.store, options);
    for (const item of await options.store.pending()) outbox.items.set(item.digest, pendingOf(item));
    outbox.log.info({ pending: outbox.items.size }, 'outbox opened');
    return outbox;
  }

  /** Builds an item from signed bytes (digest computed here). */
  static item(
    kind: ItemKind,
    seq: number,
    bytes: Uint8Array,
    extra: Partial<Pick<OutboxItem, 'fromMs' | 'toMs' | 'uplinkCount' | 'createdAt'>> = {},
  ): OutboxItem {
    return {
      digest: toHex(bundleDigest(bytes)),
      kind,
      seq,
      bytes,
      createdAt: extra.createdAt ?? Date.now(),
      ...extra,
    };
  }

  /** Durably stores the item, then makes it eligible for sending. Idempotent. */
  async enqueue(item: OutboxItem): Promise<void> {
    await this.store.put(item);
    if (this.items.has(item.digest)) return;
    const pending = pendingOf(item);
    this.items.set(item.digest, pending);
    this.emit('enqueued', pending);
  }

  /** The item with its bytes, read from the store to be sent; undefined once it is no longer pending. */
  async load(item: PendingItem): Promise<OutboxItem | undefined> {
    if (!this.items.has(item.digest)) return undefined;
    const bytes = await this.store.bytesOf(item);
    if (!this.items.has(item.digest)) return undefined;
    if (!bytes) {
      // Pending but gone from the store (a damaged or hand-edited database): it cannot be sent, and
      // offering it again would spin. Parked, with the alarm a rejection raises, for a person to look at.
      const reason = 'MissingFromStore';
      if (!this.parked.has(item.digest)) {
        this.parked.set(item.digest, reason);
        this.deferred.delete(item.digest);
        this.log.error(
          { kind: item.kind, seq: item.seq, digest: item.digest },
          'an outbox item is pending but its bytes are not in the store; kept, not sent',
        );
        this.emit('rejected', { item, reason });
      }
      return undefined;
    }
    return { ...item, bytes };
  }

  /** Re-reads pending items written to the store by someone else (e.g. the sealer's sink). */
  async refresh(): Promise<number> {
    let added = 0;
    for (const item of await this.store.pending()) {
      if (this.items.has(item.digest)) continue;
      const pending = pendingOf(item);
      this.items.set(item.digest, pending);
      added++;
      this.emit('enqueued', pending);
    }
    return added;
  }

  /** Pending items eligible for sending now, highest priority first (parked and backing-off ones left out). */
  sendable(): PendingItem[] {
    const now = this.now();
    return [...this.items.values()]
      .filter((i) => !this.parked.has(i.digest) && !((this.deferred.get(i.digest)?.until ?? 0) > now))
      .sort(byPriority);
  }

  /** Milliseconds until the next backing-off item may be sent again (Infinity when none waits). */
  nextRetryInMs(): number {
    const now = this.now();
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.deferred.values()) if (d.until > now) next = Math.min(next, d.until - now);
    return next;
  }

  /** Items the regional node refused for good, with the reason it gave. */
  parkedItems(): { item: PendingItem; reason: string }[] {
    return [...this.parked].flatMap(([digest, reason]) => {
      const item = this.items.get(digest);
      return item ? [{ item, reason }] : [];
    });
  }

  /** Items backing off after a transient rejection. */
  deferredItems(): { item: PendingItem; deferral: DeferredItem }[] {
    return [...this.deferred].flatMap(([digest, deferral]) => {
      const item = this.items.get(digest);
      return item ? [{ item, deferral }] : [];
    });
  }

  get size(): number {
    return this.items.size;
  }

  get(digest: string): PendingItem | undefined {
    return this.items.get(digest);
  }

  /** Finds a pending item by the first bytes of its digest (the message link's 4-byte id). */
  findByDigestPrefix(prefixHex: string): PendingItem | undefined {
    for (const item of this.items.values()) if (item.digest.startsWith(prefixHex)) return item;
    return undefined;
  }

  isParked(digest: string): boolean {
    return this.parked.has(digest);
  }

  unpark(digest: string): void {
    this.parked.delete(digest);
  }

  /** Applies an ack from any link. Serialised so two links acking one item retire it once. */
  settle(ack: LinkAck): Promise<void> {
    const run = this.settling.then(() => this.settleOne(ack));
    this.settling = run.catch(() => undefined);
    return run;
  }

  private async settleOne(ack: LinkAck): Promise<void> {
    const item = this.items.get(ack.digest);
    if (!item) return;
    if (ack.status === 'rejected') {
      const reason = ack.reason ?? 'rejected';
      if (ack.transient) {
        this.deferRetry(item, reason);
        return;
      }
      this.deferred.delete(item.digest);
      if (!this.parked.has(item.digest)) {
        this.parked.set(item.digest, reason);
        this.log.error(
          { kind: item.kind, seq: item.seq, digest: item.digest, reason },
          'regional node rejected an outbox item; kept, not resent',
        );
        this.emit('rejected', { item, reason });
      }
      return;
    }
    await this.store.markAcked(item.digest, this.now());
    await this.store.setProgress(item.digest, undefined);
    this.items.delete(item.digest);
    this.parked.delete(item.digest);
    this.deferred.delete(item.digest);
    this.log.debug({ kind: item.kind, seq: item.seq, status: ack.status }, 'outbox item acknowledged');
    this.emit('acked', { item, status: ack.status });
    if (this.items.size === 0) this.emit('drained');
  }

  /** Exponential back-off: firstMs, 2×, 4×, … up to maxMs. A repeated ack for the same attempt does not double it. */
  private deferRetry(item: PendingItem, reason: string): void {
    const now = this.now();
    const held = this.deferred.get(item.digest);
    if (held && held.until > now) return;
    const attempts = (held?.attempts ?? 0) + 1;
    const retryInMs = Math.min(this.retryMaxMs, this.retryFirstMs * 2 ** Math.min(attempts - 1, 30));
    this.deferred.set(item.digest, { reason, attempts, until: now + retryInMs });
    this.log.warn(
      { kind: item.kind, seq: item.seq, digest: item.digest, reason, attempts, retryInMs },
      'regional node could not take an outbox item yet; sending it again later',
    );
    this.emit('deferred', { item, reason, attempts, retryInMs });
  }
}

/** An item as the outbox keeps it in memory: without its bytes. */
function pendingOf(item: OutboxItem): PendingItem {
  const { bytes, ...rest } = item;
  return { ...rest, size: bytes.length };
}
