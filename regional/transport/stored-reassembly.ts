/**
 * Message-link reassembly whose state lives in the regional store
 * (regional/link-state.ts), so any worker can take any fragment: the rules of
 * proto/link/LINK.md (duplicates, shape change, id collisions, caps, expiry)
 * applied over `LinkStateStore`. A completed item stays stored until it is
 * settled, so a worker that dies between reassembling and ingesting loses
 * nothing: the next copy of any fragment completes it again.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { type Fragment, itemIdHex, itemIdOf } from '../../proto/link/fragment.js';
import type { ItemStatus } from '../../proto/link/status.js';
import type {
  LinkStateLimits,
  LinkStateStore,
  LinkStateUsage,
  MessageSlot,
  PartialMessage,
} from '../link-state.js';
import { type FragmentReassembly, MAX_FRAGMENTS, type ReassemblyResult } from './reassembly.js';

export interface StoredReassemblerOptions extends Partial<LinkStateLimits> {
  /** Largest item (default 1 MiB). */
  maxItemBytes?: number;
  /** How many settled item ids to remember (default 4096). */
  rememberSettled?: number;
  now?: () => number;
}

/** Defaults: a region of thousands of gateways, few with an item in flight by satellite at once. */
export const DEFAULT_LINK_LIMITS: LinkStateLimits = {
  maxPartials: 4096,
  maxPartialsPerSender: 8,
  maxStoredBytes: 64 * 1024 * 1024,
  expiryMs: 7 * 86_400_000,
};

/** A sender is a modem (`imei:…`) or a gateway id; the stores index it. */
const MAX_SENDER_CHARS = 96;

type Outcome = { result: ReassemblyResult; began: boolean } | { error: string };

export class StoredReassembler implements FragmentReassembly {
  readonly limits: LinkStateLimits;
  private readonly maxItemBytes: number;
  private readonly rememberSettled: number;
  private readonly now: () => number;

  constructor(
    private readonly state: LinkStateStore,
    options: StoredReassemblerOptions = {},
  ) {
    this.limits = {
      maxPartials: options.maxPartials ?? DEFAULT_LINK_LIMITS.maxPartials,
      maxPartialsPerSender: options.maxPartialsPerSender ?? DEFAULT_LINK_LIMITS.maxPartialsPerSender,
      maxStoredBytes: options.maxStoredBytes ?? DEFAULT_LINK_LIMITS.maxStoredBytes,
      expiryMs: options.expiryMs ?? DEFAULT_LINK_LIMITS.expiryMs,
    };
    this.maxItemBytes = options.maxItemBytes ?? 1024 * 1024;
    this.rememberSettled = options.rememberSettled ?? 4096;
    this.now = options.now ?? Date.now;
  }

  usage(): Promise<LinkStateUsage> {
    return this.state.usage();
  }

  /** Adds a fragment from `sender`. Throws LinkFragment when it breaks a cap or contradicts the item. */
  async accept(sender: string, f: Fragment): Promise<ReassemblyResult> {
    const id = itemIdHex(f.itemId);
    if (sender.length === 0 || sender.length > MAX_SENDER_CHARS)
      throw new MaverickError(ErrorCode.LinkFragment, `a sender name is 1..${MAX_SENDER_CHARS} characters`);
    if (f.count > MAX_FRAGMENTS) {
      throw new MaverickError(
        ErrorCode.LinkFragment,
        `item ${id} announces ${f.count} fragments; at most ${MAX_FRAGMENTS} are taken`,
      );
    }
    const now = this.now();
    const outcome = await this.state.withMessage(
      sender,
      id,
      (slot): Promise<Outcome> => this.step(slot, f, now),
    );
    if ('error' in outcome) throw new MaverickError(ErrorCode.LinkFragment, `item ${id} ${outcome.error}`);
    // Bounded storage: every new partial may push the oldest out (a flood of first fragments cannot grow the store).
    if (outcome.began) await this.state.prune(this.limits, now);
    return outcome.result;
  }

  private async step(slot: MessageSlot, f: Fragment, now: number): Promise<Outcome> {
    const done = await slot.settled();
    if (done) return { result: { state: 'settled', status: done }, began: false };
    let p: PartialMessage | undefined = await slot.partial();
    const stale = p !== undefined && p.touchedAt < now - this.limits.expiryMs;
    // Another count or kind under this id: the sender restarted it and the old partial cannot complete.
    const reshaped = p !== undefined && (p.count !== f.count || p.kind !== f.kind);
    let began = false;
    if (!p || stale || reshaped) {
      p = await slot.begin({ kind: f.kind, count: f.count }, now);
      began = true;
    }
    const held = ((p.bitmap[f.index >> 3] ?? 0) & (1 << (f.index & 7))) !== 0;
    if (!held && p.bytes + f.payload.length > this.maxItemBytes) {
      await slot.drop();
      return { error: `grows past ${this.maxItemBytes} bytes; dropped` };
    }
    p = await slot.addFragment(f.index, f.payload, now);
    if (p.received < p.count)
      return { result: { state: 'partial', count: p.count, bitmap: p.bitmap }, began };
    const bytes = new Uint8Array(Buffer.concat(await slot.payloads()));
    if (itemIdHex(itemIdOf(bytes)) !== itemIdHex(f.itemId)) {
      await slot.drop();
      return { error: 'reassembled to bytes with another digest; dropped, the sender will resend' };
    }
    return { result: { state: 'complete', kind: p.kind, bytes }, began };
  }

  /** Records an item's verdict (from any link) and drops its partials. `idHex` may be the full digest. */
  settle(idHex: string, status: ItemStatus): Promise<void> {
    return this.state.settle(idHex.slice(0, 8), status, this.now(), this.rememberSettled);
  }

  /**
   * For the MQTT intake, which settles every item it takes: acts only when a
   * satellite partial of that item exists (the gateway resent it whole over IP).
   */
  readonly forOtherLinks: FragmentReassembly = {
    accept: (sender, f) => this.accept(sender, f),
    settle: (idHex, status) =>
      this.state.settle(idHex.slice(0, 8), status, this.now(), this.rememberSettled, true),
  };
}
