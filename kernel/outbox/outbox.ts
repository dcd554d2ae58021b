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
import { type ItemKind, KIND_PRIORITY, type LinkAck, type OutboxItem, type OutboxStore } from './types.js';

export interface OutboxOptions {
  store: OutboxStore;
  now?: () => number;
  logger?: Logger;
}

export interface OutboxEvents {
  enqueued: [OutboxItem];
  acked: [{ item: OutboxItem; status: 'accepted' | 'duplicate' }];
  /** The regional node refused the item; it stays pending but is not sent again until `unpark`. */
  rejected: [{ item: OutboxItem; reason: string }];
  drained: [];
}

function byPriority(a: OutboxItem, b: OutboxItem): number {
  return KIND_PRIORITY[a.kind] - KIND_PRIORITY[b.kind] || a.seq - b.seq || a.createdAt - b.createdAt;
}

export class Outbox extends EventEmitter<OutboxEvents> {
  private readonly items = new Map<string, OutboxItem>();
  private readonly parked = new Map<string, string>();
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
  }

  /** Opens the outbox and loads every unacknowledged item from the store (resume after restart). */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(options.store, options);
    for (const item of await options.store.pending()) outbox.items.set(item.digest, item);
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
    this.items.set(item.digest, item);
    this.emit('enqueued', item);
  }

  /** Re-reads pending items written to the store by someone else (e.g. the sealer's sink). */
  async refresh(): Promise<number> {
    let added = 0;
    for (const item of await this.store.pending()) {
      if (this.items.has(item.digest)) continue;
      this.items.set(item.digest, item);
      added++;
      this.emit('enqueued', item);
    }
    return added;
  }

  /** Pending items eligible for sending, highest priority first (parked ones left out). */
  sendable(): OutboxItem[] {
    return [...this.items.values()].filter((i) => !this.parked.has(i.digest)).sort(byPriority);
  }

  get size(): number {
    return this.items.size;
  }

  get(digest: string): OutboxItem | undefined {
    return this.items.get(digest);
  }

  /** Finds a pending item by the first bytes of its digest (the message link's 4-byte id). */
  findByDigestPrefix(prefixHex: string): OutboxItem | undefined {
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
    this.log.debug({ kind: item.kind, seq: item.seq, status: ack.status }, 'outbox item acknowledged');
    this.emit('acked', { item, status: ack.status });
    if (this.items.size === 0) this.emit('drained');
  }
}
