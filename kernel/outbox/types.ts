/**
 * What the outbox holds and the seams it talks through: its durable store and
 * the links that carry items to the regional node.
 */
import type { ItemKind } from '../../proto/link/fragment.js';
import type { ItemStatus } from '../../proto/link/status.js';

export type { ItemKind } from '../../proto/link/fragment.js';

/** Lower sends first: alarms > commitments and period statements > full bundles > diagnostics. */
export const KIND_PRIORITY: Record<ItemKind, number> = {
  alarm: 0,
  commitment: 1,
  statement: 1,
  bundle: 2,
  diagnostic: 3,
};

export interface OutboxItem {
  /** SHA-256 of `bytes`, hex: the item's identity on every link and in acks. */
  digest: string;
  kind: ItemKind;
  /** Bundle sequence number, commitment day, a statement's first day, or a running number for alarms and diagnostics. */
  seq: number;
  bytes: Uint8Array;
  createdAt: number;
  /** Bundle time range and uplink count, kept with a bundle in the farm database. */
  fromMs?: number;
  toMs?: number;
  uplinkCount?: number;
}

/**
 * What the outbox holds in memory for a pending item: everything but its
 * bytes, which stay in the store until the item is sent. A gateway that is
 * offline for months holds thousands of items; its memory must not grow with them.
 */
export type PendingItem = Omit<OutboxItem, 'bytes'> & {
  /** Length of the item's bytes. */
  size: number;
};

/** Which fragments of an item the regional node confirmed (message link only). */
export interface FragmentProgress {
  count: number;
  /** Confirmed by the regional node. */
  bitmap: Uint8Array;
  /** Sent at least once (confirmed or not): after a restart these are probed before being resent. */
  sent: Uint8Array;
  /** Rounds that ended with no status message from the regional node. */
  silentRounds: number;
  /** When a fragment of this item last went out (Unix ms): resends without a reply back off from it. */
  lastSentAt?: number;
}

export interface OutboxStore {
  /** Stores an item as pending; storing the same item again changes nothing. */
  put(item: OutboxItem): Promise<void>;
  /** Every item not yet acknowledged. */
  pending(): Promise<OutboxItem[]>;
  /** A stored item's bytes (read just before it is sent); undefined when the store has no such item. */
  bytesOf(item: Pick<OutboxItem, 'digest' | 'kind' | 'seq'>): Promise<Uint8Array | undefined>;
  /** Marks an item acknowledged (kept, syncState acked); false when no pending item has this digest. */
  markAcked(digest: string, at: number): Promise<boolean>;
  getProgress(digest: string): Promise<FragmentProgress | undefined>;
  setProgress(digest: string, progress: FragmentProgress | undefined): Promise<void>;
  /** Small persisted counters (bytes spent per link and day). */
  getCounter(key: string): Promise<number>;
  setCounter(key: string, value: number): Promise<void>;
}

export interface LinkAck {
  digest: string;
  status: ItemStatus;
  reason?: string;
  /** A rejection the regional node marked transient: resend later (with back-off) instead of parking. */
  transient?: boolean;
}

/** What one attempt to move an item over a link came to. */
export type TransmitOutcome =
  /** The whole item is on the wire; the ack may follow later. */
  | 'sent'
  /** The link already delivered the ack during the attempt. */
  | 'acked'
  /** Stopped: the byte budget or bandwidth cap is spent; try again later. */
  | 'budget'
  /** Stopped: the link went down. */
  | 'down';

/** Bytes a link may spend now; the link asks before each message or publish. */
/**
 * Why bytes are spent: 'data' moves an item forward; 'repeat' resends
 * something already sent because no reply came (a probe), which a budget
 * may cap separately (LinkBudgetOptions.repeatShare).
 */
export type SpendPurpose = 'data' | 'repeat';

export interface SpendGate {
  /** True (and the bytes are counted) when `bytes` may go now. */
  trySpend(bytes: number, purpose?: SpendPurpose): Promise<boolean>;
}

export interface SyncLink {
  readonly name: string;
  isUp(): boolean;
  /** Moves the item (or what is left of it) over the link, spending through `gate`. */
  transmit(item: OutboxItem, gate: SpendGate): Promise<TransmitOutcome>;
  onAck(handler: (ack: LinkAck) => void): () => void;
  onState(handler: (up: boolean) => void): () => void;
  close(): Promise<void>;
}
