/**
 * Reassembles message-link items from fragments, per sender and item id,
 * within caps: at most `maxInFlight` partial items (the least recently
 * touched is evicted), at most `maxItemBytes` per item, and a partial item
 * not touched for `expiryMs` is dropped. Settled items are remembered (by id)
 * so late or repeated fragments get a DONE answer instead of a new partial.
 *
 * Completion over another link: when the whole item arrives over MQTT the
 * MQTT intake calls `settle`, which drops the partial here (see
 * gateway/link/message-link.ts for why the gateway resends whole over IP).
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Fragment, type ItemKind, itemIdHex, itemIdOf } from '../../proto/link/fragment.js';
import { type ItemStatus, setBit } from '../../proto/link/status.js';

export interface ReassemblerOptions {
  maxInFlight?: number;
  maxItemBytes?: number;
  expiryMs?: number;
  /** How many settled item ids to remember. */
  rememberSettled?: number;
  now?: () => number;
}

interface Partial {
  kind: ItemKind;
  count: number;
  parts: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  bitmap: Uint8Array;
  touchedAt: number;
}

export type ReassemblyResult =
  | { state: 'partial'; count: number; bitmap: Uint8Array }
  | { state: 'complete'; kind: ItemKind; bytes: Uint8Array }
  | { state: 'settled'; status: ItemStatus };

/**
 * What the intakes need of a reassembler: this in-memory one (one process,
 * tests, the demo) or the store-backed one (stored-reassembly.ts) that
 * several workers share.
 */
export interface FragmentReassembly {
  accept(sender: string, f: Fragment): ReassemblyResult | Promise<ReassemblyResult>;
  /** Records the outcome of an item (from any link) and drops its partials. `idHex` may be the full digest. */
  settle(idHex: string, status: ItemStatus): void | Promise<void>;
}

/** Largest fragment count whose bitmap record fits one 270-byte MT message. */
export const MAX_FRAGMENTS = 8 * (270 - 7);

export class Reassembler implements FragmentReassembly {
  private readonly partials = new Map<string, Partial>();
  private readonly settled = new Map<string, ItemStatus>();
  private readonly maxInFlight: number;
  private readonly maxItemBytes: number;
  private readonly expiryMs: number;
  private readonly rememberSettled: number;
  private readonly now: () => number;

  constructor(options: ReassemblerOptions = {}) {
    this.maxInFlight = options.maxInFlight ?? 64;
    this.maxItemBytes = options.maxItemBytes ?? 1024 * 1024;
    this.expiryMs = options.expiryMs ?? 7 * 86_400_000;
    this.rememberSettled = options.rememberSettled ?? 4096;
    this.now = options.now ?? Date.now;
  }

  get inFlight(): number {
    return this.partials.size;
  }

  /** Adds a fragment from `sender`. Throws LinkFragment when the fragment breaks a cap or contradicts earlier ones. */
  accept(sender: string, f: Fragment): ReassemblyResult {
    this.expire();
    const id = itemIdHex(f.itemId);
    const done = this.settled.get(id);
    if (done) return { state: 'settled', status: done };
    if (f.count > MAX_FRAGMENTS) {
      throw new MaverickError(
        ErrorCode.LinkFragment,
        `item ${id} announces ${f.count} fragments; at most ${MAX_FRAGMENTS} are taken`,
      );
    }
    const key = `${sender}|${id}`;
    let p = this.partials.get(key);
    if (p && (p.count !== f.count || p.kind !== f.kind)) {
      // The sender restarted this id with another shape: the old partial cannot complete.
      this.partials.delete(key);
      p = undefined;
    }
    if (!p) {
      this.evictIfFull();
      p = {
        kind: f.kind,
        count: f.count,
        parts: new Array(f.count),
        received: 0,
        bytes: 0,
        bitmap: new Uint8Array(Math.ceil(f.count / 8)),
        touchedAt: this.now(),
      };
      this.partials.set(key, p);
    }
    p.touchedAt = this.now();
    if (!p.parts[f.index]) {
      if (p.bytes + f.payload.length > this.maxItemBytes) {
        this.partials.delete(key);
        throw new MaverickError(
          ErrorCode.LinkFragment,
          `item ${id} grows past ${this.maxItemBytes} bytes; dropped`,
        );
      }
      p.parts[f.index] = f.payload;
      p.received++;
      p.bytes += f.payload.length;
      setBit(p.bitmap, f.index);
    }
    if (p.received < p.count) return { state: 'partial', count: p.count, bitmap: p.bitmap.slice() };
    this.partials.delete(key);
    const bytes = Buffer.concat(p.parts as Uint8Array[]);
    if (itemIdHex(itemIdOf(bytes)) !== id) {
      throw new MaverickError(
        ErrorCode.LinkFragment,
        `item ${id} reassembled to bytes with another digest; dropped, the sender will resend`,
      );
    }
    return { state: 'complete', kind: p.kind, bytes: new Uint8Array(bytes) };
  }

  /** Records the outcome of an item (from any link) and drops its partials. `idHex` may be the full digest. */
  settle(idHex: string, status: ItemStatus): void {
    const id = idHex.slice(0, 8);
    for (const key of this.partials.keys()) if (key.endsWith(`|${id}`)) this.partials.delete(key);
    if (status === 'rejected') return; // a rejected item may be fixed and resent under the same id
    this.settled.delete(id);
    this.settled.set(id, status);
    if (this.settled.size > this.rememberSettled)
      this.settled.delete(this.settled.keys().next().value as string);
  }

  private evictIfFull(): void {
    if (this.partials.size < this.maxInFlight) return;
    let oldestKey: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [key, p] of this.partials) {
      if (p.touchedAt < oldest) {
        oldest = p.touchedAt;
        oldestKey = key;
      }
    }
    if (oldestKey) this.partials.delete(oldestKey);
  }

  private expire(): void {
    const cutoff = this.now() - this.expiryMs;
    for (const [key, p] of this.partials) if (p.touchedAt < cutoff) this.partials.delete(key);
  }
}
