/**
 * De-duplication: the same frame (identical PHYPayload bytes) heard by several
 * gateways or antennas arrives as several copies within a short window. They
 * become one uplink carrying every receiver's metadata, best SNR first — the
 * way ChirpStack collects copies before handling a frame.
 */
import type { RadioUplink, RxMetadata } from '../../proto/radio.js';
import { bytesToHex } from './types.js';

export interface CollectedUplink {
  phyPayload: Uint8Array;
  /** Every copy's metadata, highest SNR first. */
  rxInfo: RxMetadata[];
  /** Host clock of the first copy. */
  receivedAtMs: number;
}

export interface DeduplicatorOptions {
  /** How long to wait for more copies after the first, in ms (default 200). */
  windowMs?: number;
}

interface Pending {
  first: RadioUplink;
  rxInfo: RxMetadata[];
  /** Host clock (ms) when the window of this frame closes. */
  dueMs: number;
}

export class Deduplicator {
  private readonly windowMs: number;
  /** In arrival order, so in order of their deadlines (one window for all). */
  private readonly pending = new Map<string, Pending>();
  /** One timer for the oldest frame's deadline (one per frame was thousands at 5,000 uplinks/s). */
  private timer: NodeJS.Timeout | undefined;
  private copiesMerged = 0;

  constructor(
    private readonly onUplink: (uplink: CollectedUplink) => void,
    options: DeduplicatorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 200;
  }

  add(uplink: RadioUplink): void {
    const key = bytesToHex(uplink.phyPayload);
    const known = this.pending.get(key);
    if (known) {
      // The same gateway may report the same copy twice (e.g. a UDP resend); keep one per gateway+antenna.
      const duplicate = known.rxInfo.some(
        (rx) =>
          rx.gatewayEui === uplink.rx.gatewayEui &&
          rx.tmst === uplink.rx.tmst &&
          rx.channel === uplink.rx.channel,
      );
      if (!duplicate) known.rxInfo.push(uplink.rx);
      this.copiesMerged++;
      return;
    }
    this.pending.set(key, { first: uplink, rxInfo: [uplink.rx], dueMs: Date.now() + this.windowMs });
    this.timer ??= this.arm(this.windowMs);
  }

  /** Releases every collected frame now (tests, shutdown). */
  flush(): void {
    for (const key of [...this.pending.keys()]) this.release(key);
  }

  /** Drops everything collected without releasing it. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }

  /** Copies folded into an earlier one since construction. */
  get merged(): number {
    return this.copiesMerged;
  }

  private arm(delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.releaseDue(), Math.max(0, delayMs));
    timer.unref?.();
    return timer;
  }

  /** Releases every frame whose window has closed, then waits for the next one's. */
  private releaseDue(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const [key, p] of this.pending) {
      if (p.dueMs > now) {
        this.timer = this.arm(p.dueMs - now);
        return;
      }
      this.release(key);
    }
  }

  private release(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    const rxInfo = [...p.rxInfo].sort(
      (a, b) => (b.snr ?? -Infinity) - (a.snr ?? -Infinity) || b.rssi - a.rssi,
    );
    this.onUplink({ phyPayload: p.first.phyPayload, rxInfo, receivedAtMs: p.first.receivedAtMs });
  }
}
