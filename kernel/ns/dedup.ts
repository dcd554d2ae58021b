/**
 * De-duplication: the same frame (identical PHYPayload bytes) heard by several
 * gateways or antennas arrives as several copies within a short window. They
 * become one uplink carrying every receiver's metadata, best SNR first — the
 * way ChirpStack collects copies before handling a frame.
 *
 * A farm gateway is often the only receiver there is (one concentrator on the
 * Pi). Once only one receiver has been heard for `soleReceiverAfterMs`, a
 * frame it hears has no other copy to wait for: it is released at the next
 * turn of the event loop (copies from that receiver's other antennas, which
 * come in the same datagram, still join it) instead of after the window. That
 * takes the window's 200 ms off the time a Class A answer has before RX1, and
 * off the time every uplink is held in memory (at 5,000 uplinks/s, 1,000
 * frames fewer in flight). A copy from another receiver that arrives within
 * the window of a frame released early is dropped and counted (`late`): it
 * would otherwise reach the network server as a second frame (a retransmission,
 * answered twice when confirmed); only that copy's metadata is lost. Hearing a
 * second receiver ends the shortcut until it has been silent for as long.
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
  /**
   * After hearing a single receiver (and no other) for this long, frames from it skip the
   * window (default 30 s, a Semtech forwarder's stat interval; 0 = never).
   */
  soleReceiverAfterMs?: number;
}

interface Pending {
  first: RadioUplink;
  rxInfo: RxMetadata[];
  /** Host clock (ms) when the window of this frame closes. */
  dueMs: number;
  /** Released before its window closed (the sole receiver's frame): late copies are dropped. */
  early: boolean;
}

export class Deduplicator {
  private readonly windowMs: number;
  /** In arrival order, so in order of their deadlines (one window for all). */
  private readonly pending = new Map<string, Pending>();
  /** One timer for the oldest frame's deadline (one per frame was thousands at 5,000 uplinks/s). */
  private timer: NodeJS.Timeout | undefined;
  private copiesMerged = 0;
  private copiesLate = 0;
  private readonly soleReceiverAfterMs: number;
  /** Host clock of the first frame heard: the sole-receiver test needs that long a record. */
  private firstHeardMs: number | undefined;
  /** Each receiver's last frame (host clock). */
  private readonly lastHeard = new Map<string, number>();
  /** Frames released early, until their window would have closed (in release order). */
  private readonly releasedEarly = new Map<string, number>();

  constructor(
    private readonly onUplink: (uplink: CollectedUplink) => void,
    options: DeduplicatorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 200;
    this.soleReceiverAfterMs = options.soleReceiverAfterMs ?? 30_000;
  }

  add(uplink: RadioUplink): void {
    const now = Date.now();
    const key = bytesToHex(uplink.phyPayload);
    this.firstHeardMs ??= now;
    this.lastHeard.set(uplink.rx.gatewayEui, now);
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
    if (this.isLateCopy(key, now)) {
      this.copiesLate++;
      return;
    }
    const early = this.soleReceiver(uplink.rx.gatewayEui, now);
    this.pending.set(key, {
      first: uplink,
      rxInfo: [uplink.rx],
      dueMs: early ? now : now + this.windowMs,
      early,
    });
    this.timer ??= this.arm(early ? 0 : this.windowMs);
  }

  /** Whether `gatewayEui` is the only receiver heard for `soleReceiverAfterMs`, over a record that long. */
  private soleReceiver(gatewayEui: string, now: number): boolean {
    const after = this.soleReceiverAfterMs;
    if (after <= 0 || this.firstHeardMs === undefined || now - this.firstHeardMs < after) return false;
    let sole = true;
    for (const [eui, at] of this.lastHeard) {
      if (eui === gatewayEui) continue;
      // Silent for that long: forgotten (the map holds the receivers heard lately, a handful).
      if (now - at >= after) this.lastHeard.delete(eui);
      else sole = false;
    }
    return sole;
  }

  /** A copy of a frame released early, within the window it would have had. */
  private isLateCopy(key: string, now: number): boolean {
    for (const [released, until] of this.releasedEarly) {
      if (until > now) break;
      this.releasedEarly.delete(released);
    }
    return this.releasedEarly.has(key);
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
    this.releasedEarly.clear();
  }

  get size(): number {
    return this.pending.size;
  }

  /** Copies folded into an earlier one since construction. */
  get merged(): number {
    return this.copiesMerged;
  }

  /** Copies dropped because they came after their frame was released early (sole receiver). */
  get late(): number {
    return this.copiesLate;
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
    // An early frame's due time is when it was heard: its copies are late until a window after.
    if (p.early) this.releasedEarly.set(key, p.dueMs + this.windowMs);
    const rxInfo = [...p.rxInfo].sort(
      (a, b) => (b.snr ?? -Infinity) - (a.snr ?? -Infinity) || b.rssi - a.rssi,
    );
    this.onUplink({ phyPayload: p.first.phyPayload, rxInfo, receivedAtMs: p.first.receivedAtMs });
  }
}
