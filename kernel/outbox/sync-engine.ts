/**
 * Moves outbox items over whichever link is usable. Links are listed in order
 * of preference (IP first, satellite as the fallback): only the first usable
 * link sends, so a bundle is not paid for twice while IP is up. An item sent
 * and not acked within `ackTimeoutMs` is sent again; after a link comes back
 * up everything unacked is sent again (at-least-once; the regional node
 * de-duplicates). Budgets and bandwidth caps are enforced per link.
 */
import { EventEmitter } from 'node:events';
import { describeError } from '../../proto/errors.js';
import { type Logger, silentLogger } from '../../proto/log.js';
import { LinkBudget, type LinkBudgetOptions } from './budget.js';
import { LinkMonitor, type LinkStateChange } from './link-monitor.js';
import type { Outbox } from './outbox.js';
import type { SpendGate, SpendPurpose, SyncLink } from './types.js';

export interface SyncEngineOptions {
  outbox: Outbox;
  /** In order of preference. */
  links: { link: SyncLink; budget?: LinkBudgetOptions }[];
  /** Resend an unacked item after this long (default 60 s). */
  ackTimeoutMs?: number;
  now?: () => number;
  logger?: Logger;
}

interface Lane {
  link: SyncLink;
  budget: LinkBudget;
}

/** Bytes a link was allowed to send (counted when spent, just before they go). */
export interface LinkBytes {
  link: string;
  bytes: number;
  purpose: SpendPurpose;
}

export class SyncEngine extends EventEmitter<{ linkState: [LinkStateChange]; bytesSent: [LinkBytes] }> {
  readonly monitor: LinkMonitor;
  private readonly lanes: Lane[];
  private readonly awaiting = new Map<string, { link: string; at: number }>();
  private readonly unsubscribers: (() => void)[] = [];
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly ackTimeoutMs: number;
  private pumping: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SyncEngineOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.log = (options.logger ?? silentLogger).child({ component: 'sync' });
    this.ackTimeoutMs = options.ackTimeoutMs ?? 60_000;
    this.monitor = new LinkMonitor(this.now);
    this.lanes = options.links.map(({ link, budget }) => ({
      link,
      budget: new LinkBudget(link.name, budget ?? {}, options.outbox.store, this.now),
    }));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const { outbox } = this.options;
    for (const lane of this.lanes) {
      this.monitor.watch(lane.link);
      this.unsubscribers.push(
        lane.link.onAck((ack) => {
          void outbox
            .settle(ack)
            .then(() => {
              // No longer awaited once settled, not before: until the outbox has retired the item
              // (a store write), a pass would take it for one to send again.
              this.awaiting.delete(ack.digest);
              // A rejection puts the item in back-off or parks it: the next pass plans around it.
              if (ack.status === 'rejected') this.kick();
            })
            .catch((err: unknown) =>
              this.log.error({ err: describeError(err) }, 'could not record an ack; it will come again'),
            );
        }),
      );
    }
    this.monitor.on('change', (change) => {
      const lane = this.lanes.find((l) => l.link.name === change.link);
      if (change.up && lane) {
        lane.budget.startWindow();
        // A new session: whatever was in flight on this link may be lost, send it again.
        for (const [digest, a] of this.awaiting) if (a.link === change.link) this.awaiting.delete(digest);
      }
      this.log.info({ link: change.link, up: change.up }, 'link state changed');
      this.emit('linkState', change);
      this.kick();
    });
    const onEnqueued = () => this.kick();
    outbox.on('enqueued', onEnqueued);
    this.unsubscribers.push(() => outbox.off('enqueued', onEnqueued));
    this.kick();
  }

  /** Asks for a sending pass soon (coalesced). */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private schedule(ms: number): void {
    if (this.stopped || !Number.isFinite(ms)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.max(1, ms),
    );
    this.timer.unref();
  }

  private preferredUp(lane: Lane): boolean {
    return this.lanes.slice(0, this.lanes.indexOf(lane)).some((l) => l.link.isUp());
  }

  /**
   * The lane's budget, refusing as soon as a preferred link is up: a long
   * satellite transmission stops at the next message and the rest goes over IP.
   */
  private gateFor(lane: Lane): SpendGate {
    return {
      trySpend: async (bytes, purpose) => {
        if (this.stopped || this.preferredUp(lane) || !(await lane.budget.trySpend(bytes, purpose)))
          return false;
        this.emit('bytesSent', { link: lane.link.name, bytes, purpose: purpose ?? 'data' });
        return true;
      },
    };
  }

  private async pump(): Promise<void> {
    const lane = this.lanes.find((l) => l.link.isUp());
    if (!lane) return;
    let nextCheck = Number.POSITIVE_INFINITY;
    for (const item of this.options.outbox.sendable()) {
      if (this.stopped || !lane.link.isUp()) return;
      if (this.isAwaited(item.digest)) {
        const waiting = this.awaiting.get(item.digest) as { at: number };
        nextCheck = Math.min(nextCheck, waiting.at + this.ackTimeoutMs - this.now());
        continue;
      }
      // Its bytes come from the store only now: pending items are held in memory without them.
      const full = await this.options.outbox.load(item);
      if (!full) continue;
      if (this.stopped || !lane.link.isUp()) return;
      // Awaited from before the attempt, not after it: the ack can come back before transmit()
      // resolves (the regional node answered before the broker's PUBACK reached us), and an entry
      // made afterwards would then hold the item back for a whole ack timeout. An ack removes it.
      const attempt = { link: lane.link.name, at: this.now() };
      this.awaiting.set(item.digest, attempt);
      const forget = () => {
        if (this.awaiting.get(item.digest) === attempt) this.awaiting.delete(item.digest);
      };
      let outcome: Awaited<ReturnType<SyncLink['transmit']>>;
      try {
        outcome = await lane.link.transmit(full, this.gateFor(lane));
      } catch (err) {
        forget();
        this.log.warn(
          { link: lane.link.name, seq: item.seq, err: describeError(err) },
          'transmit failed; will retry',
        );
        this.schedule(1000);
        return;
      }
      if (outcome !== 'sent') forget();
      if (outcome === 'sent') {
        // The ack timeout runs from the end of the attempt (a satellite message takes minutes).
        if (this.awaiting.get(item.digest) === attempt) attempt.at = this.now();
        nextCheck = Math.min(nextCheck, this.ackTimeoutMs);
      } else if (outcome === 'budget') {
        if (this.preferredUp(lane)) return; // the state change already asked for a new pass
        this.log.debug({ link: lane.link.name }, 'link budget spent; pausing');
        this.schedule(Math.min(lane.budget.retryInMs(Math.min(item.size, 340)), 3_600_000));
        return;
      } else if (outcome === 'down') {
        // A link that went down says so when it is back (a state change asks for a pass); one that
        // reports 'down' while still up (a publish that timed out) hears from nothing: look again.
        if (lane.link.isUp()) this.schedule(1000);
        return;
      }
    }
    // An item whose back-off ended while this pass was sending was not in its list, and nothing else
    // may come to send it (an acceptance asks for no pass): look again at once.
    if (this.options.outbox.sendable().some((item) => !this.isAwaited(item.digest))) {
      this.again = true;
      return;
    }
    this.schedule(Math.min(nextCheck, this.options.outbox.nextRetryInMs()));
  }

  /** Sent and within its ack timeout. */
  private isAwaited(digest: string): boolean {
    const waiting = this.awaiting.get(digest);
    return waiting !== undefined && this.now() - waiting.at < this.ackTimeoutMs;
  }

  /** Stops sending and waits for a pass in progress. Links are closed by their owner. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const off of this.unsubscribers.splice(0)) off();
    this.monitor.removeAllListeners();
    this.monitor.close();
    await this.pumping;
  }
}
