/**
 * The message link: outbox items over a small-MTU transport (Iridium SBD,
 * 340-byte MO / 270-byte MT) as fragments with a 9-byte header
 * (proto/link/fragment.ts). Each round sends the fragments the regional node
 * has not confirmed, flagging the last one "status wanted"; the regional node
 * answers with a bitmap (selective retransmission) or DONE. Confirmed
 * fragments are persisted through the outbox store, so a transmission
 * resumes after hours of silence or a restart with only what is missing.
 * A round that draws no status sends one flagged probe fragment next time
 * instead of everything again (a lost status must not cost a whole resend),
 * and probes back off exponentially (30 s, 1 min, 2 min, … up to 6 h) and
 * are spent as 'repeat' bytes, which the budget caps to a share of the day's
 * satellite bytes: a silent regional node costs little credit.
 *
 * Completion over another link: when IP comes back the sync engine prefers
 * MQTT and sends the WHOLE item there; the regional MQTT intake settles it
 * and drops the partial. We chose this over cross-link reassembly because IP
 * bytes are nearly free while satellite bytes are paid for, the regional
 * side keeps one reassembly path with no shared state between links, and an
 * ack by digest retires the item whichever link carried it.
 */

import type {
  FragmentProgress,
  LinkAck,
  OutboxItem,
  OutboxStore,
  SpendGate,
  SpendPurpose,
  SyncLink,
  TransmitOutcome,
} from '../../kernel/outbox/types.js';
import { describeError, isMaverickError } from '../../proto/errors.js';
import { encodeFragment, itemIdHex, splitItem } from '../../proto/link/fragment.js';
import { bitIsSet, bitmapBytes, countSet, decodeStatusRecords, setBit } from '../../proto/link/status.js';
import type { MessageTransport } from '../../proto/link/transport.js';
import { type Logger, silentLogger } from '../../proto/log.js';

export interface MessageLinkOptions {
  transport: MessageTransport;
  /** Where fragment progress persists (the outbox's store). */
  store: OutboxStore;
  name?: string;
  /** Mailbox checks after a round before giving up on a status (default 2). */
  pollsPerRound?: number;
  /** Rounds per transmit call before handing back to the engine (default 12). */
  maxRounds?: number;
  /** Ask for a status every this many fragments too, so long transmissions persist progress (default 8). */
  statusEvery?: number;
  /** Attempts per fragment when the modem reports a failed session (default 3). */
  attemptsPerFragment?: number;
  /**
   * Resends without a reply (probes) back off exponentially: the k-th probe of
   * an item waits min(initialMs × 2^(k−1), maxMs) after its last message
   * (defaults 30 s and 6 h). Their bytes are also capped per day by the
   * link's budget (LinkBudgetOptions.repeatShare).
   */
  probeBackoff?: { initialMs?: number; maxMs?: number };
  now?: () => number;
  logger?: Logger;
}

export const DEFAULT_PROBE_BACKOFF = { initialMs: 30_000, maxMs: 6 * 3_600_000 } as const;

interface Status {
  done?: LinkAck['status'];
  bitmap?: Uint8Array;
}

export class MessageLink implements SyncLink {
  readonly name: string;
  private up = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly ackHandlers = new Set<(ack: LinkAck) => void>();
  private readonly stateHandlers = new Set<(up: boolean) => void>();
  /** 8-hex item id → full digest, for items this link has sent. */
  private readonly known = new Map<string, string>();
  private readonly statuses = new Map<string, Status>();
  private readonly offMessage: () => void;
  private readonly log: Logger;

  constructor(private readonly options: MessageLinkOptions) {
    this.name = options.name ?? 'sbd';
    this.log = (options.logger ?? silentLogger).child({ component: 'message-link', link: this.name });
    this.offMessage = options.transport.onMessage((mt) => this.onMobileTerminated(mt));
  }

  /** Checks usability (signal, pass window) now and then every `everyMs`. */
  start(everyMs = 60_000): this {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), everyMs);
    this.timer.unref();
    return this;
  }

  async refresh(): Promise<boolean> {
    let usable = false;
    try {
      usable = await this.options.transport.isUsable();
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'usability check failed');
    }
    this.setUp(usable);
    return usable;
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    for (const h of this.stateHandlers) h(up);
  }

  private onMobileTerminated(mt: Uint8Array): void {
    let records: ReturnType<typeof decodeStatusRecords>;
    try {
      records = decodeStatusRecords(mt);
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'ignored a malformed status message');
      return;
    }
    for (const r of records) {
      const id = itemIdHex(r.itemId);
      const digest = this.known.get(id);
      if (!digest) continue;
      const status = this.statuses.get(id) ?? {};
      if (r.type === 'done') {
        status.done = r.status;
        this.statuses.set(id, status);
        for (const h of this.ackHandlers)
          h({
            digest,
            status: r.status,
            ...(r.status === 'rejected' ? { reason: 'rejected by the regional node' } : {}),
          });
      } else {
        status.bitmap = r.bitmap;
        this.statuses.set(id, status);
      }
    }
  }

  isUp(): boolean {
    return this.up;
  }

  async transmit(item: OutboxItem, gate: SpendGate): Promise<TransmitOutcome> {
    const { transport, store } = this.options;
    const fragments = splitItem(item.kind, item.bytes, transport.moMtu);
    const count = fragments.length;
    const id = itemIdHex(fragments[0]!.itemId);
    this.known.set(id, item.digest);
    const fresh = (): FragmentProgress => ({
      count,
      bitmap: new Uint8Array(bitmapBytes(count)),
      sent: new Uint8Array(bitmapBytes(count)),
      silentRounds: 0,
    });
    let progress = (await store.getProgress(item.digest)) ?? fresh();
    if (progress.count !== count) progress = fresh();
    const statusEvery = this.options.statusEvery ?? 8;
    const save = () => store.setProgress(item.digest, progress);
    for (let round = 0; round < (this.options.maxRounds ?? 12); round++) {
      if (this.statuses.get(id)?.done) return this.finish(id);
      progress = this.mergeStatus(id, progress);
      let missing = fragments.filter((f) => !bitIsSet(progress.bitmap, f.index));
      // Everything confirmed but no DONE seen (it was lost): any fragment makes the regional node answer DONE again.
      if (missing.length === 0) missing = [fragments[count - 1]!];
      const uncertain = missing.some((f) => bitIsSet(progress.sent, f.index));
      const probe = progress.silentRounds > 0 || (round === 0 && uncertain);
      if (probe && this.now() < this.probeDueAt(progress)) {
        // No reply yet and the back-off has not run out: spend nothing, wait for the reply or the next try.
        return 'sent';
      }
      // A probe carries data when it can: the first fragment never sent, else the last one missing.
      const toSend = probe
        ? [missing.find((f) => !bitIsSet(progress.sent, f.index)) ?? missing[missing.length - 1]!]
        : missing;
      for (const [n, f] of toSend.entries()) {
        const last = n === toSend.length - 1;
        // Statuses that arrive after this point answer the round's final request, not an older one.
        if (last) {
          progress = this.mergeStatus(id, progress);
          this.statuses.set(id, {});
        }
        const frame = encodeFragment({ ...f, wantStatus: last || (n + 1) % statusEvery === 0 });
        const outcome = await this.sendFrame(frame, gate, probe ? 'repeat' : 'data');
        if (outcome !== 'sent') {
          progress = this.mergeStatus(id, progress);
          await save();
          // The day's share for repeats is spent: wait for a reply (or tomorrow) without spending more.
          return probe && outcome === 'budget' ? 'sent' : outcome;
        }
        setBit(progress.sent, f.index);
        progress.lastSentAt = this.now();
        if (this.statuses.get(id)?.done) return this.finish(id);
        if (!last && (n + 1) % statusEvery === 1 && n > 0) {
          // The status asked for one message ago has just arrived: keep it durable.
          progress = this.mergeStatus(id, progress);
          await save();
        }
      }
      for (let p = 0; p < (this.options.pollsPerRound ?? 2) && !this.hasStatus(id); p++) {
        try {
          await transport.poll();
        } catch (err) {
          if (!isMaverickError(err)) throw err;
          break;
        }
      }
      if (this.statuses.get(id)?.done) return this.finish(id);
      const answered = this.hasStatus(id);
      progress = this.mergeStatus(id, progress);
      progress.silentRounds = answered ? 0 : progress.silentRounds + 1;
      await save();
      if (!this.up) return 'down';
    }
    return 'sent';
  }

  /**
   * Folds a received bitmap into the progress. Normally OR (a stale bitmap
   * never un-confirms a fragment); but a bitmap that arrives when every
   * fragment is already confirmed means the regional node lost its partial
   * (a restart), so it replaces ours and the missing fragments go again.
   */
  private mergeStatus(id: string, progress: FragmentProgress): FragmentProgress {
    const status = this.statuses.get(id);
    if (!status?.bitmap) return progress;
    const complete = countSet(progress.bitmap, progress.count) === progress.count;
    const bitmap = progress.bitmap.slice();
    for (let i = 0; i < bitmap.length; i++)
      bitmap[i] = complete ? (status.bitmap[i] ?? 0) : (bitmap[i] ?? 0) | (status.bitmap[i] ?? 0);
    status.bitmap = undefined;
    return { ...progress, bitmap, silentRounds: 0 };
  }

  /** When the next probe of this item may go: exponential back-off over its silent rounds. */
  private probeDueAt(progress: FragmentProgress): number {
    const { initialMs, maxMs } = { ...DEFAULT_PROBE_BACKOFF, ...this.options.probeBackoff };
    const k = Math.max(1, progress.silentRounds);
    return (progress.lastSentAt ?? 0) + Math.min(initialMs * 2 ** Math.min(k - 1, 40), maxMs);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private hasStatus(id: string): boolean {
    const s = this.statuses.get(id);
    return Boolean(s?.done || s?.bitmap);
  }

  private finish(id: string): TransmitOutcome {
    this.statuses.delete(id);
    return 'acked';
  }

  private async sendFrame(
    frame: Uint8Array,
    gate: SpendGate,
    purpose: SpendPurpose,
  ): Promise<TransmitOutcome> {
    const attempts = this.options.attemptsPerFragment ?? 3;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (!(await this.refresh())) return 'down';
      if (!(await gate.trySpend(frame.length, purpose))) return 'budget';
      try {
        await this.options.transport.send(frame);
        return 'sent';
      } catch (err) {
        if (!isMaverickError(err)) throw err;
        this.log.debug({ attempt, err: describeError(err) }, 'message not sent');
      }
    }
    return 'down';
  }

  onAck(handler: (ack: LinkAck) => void): () => void {
    this.ackHandlers.add(handler);
    return () => this.ackHandlers.delete(handler);
  }

  onState(handler: (up: boolean) => void): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.offMessage();
    this.setUp(false);
  }
}

export function createMessageLink(options: MessageLinkOptions): MessageLink {
  return new MessageLink(options);
}
