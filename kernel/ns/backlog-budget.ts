/**
 * A memory budget for uplinks between their MIC check and their publication.
 * The backlog is bounded by what it costs in memory over all devices, not by a
 * count per device: a device that sends fast (a forwarder replaying a backhaul
 * outage) is as welcome as many slow ones, and only a store that cannot keep up
 * at all fills the budget.
 */

import type { Logger } from '../../proto/log.js';
import { ThrottledWarning } from './throttled-warning.js';

/** Bytes one waiting frame is charged besides its PHYPayload (see frameCost). */
const FRAME_OVERHEAD_BYTES = 4096;
const RECEIVER_BYTES = 512;

/**
 * What a waiting frame costs in memory, roughly: its bytes, each receiver's metadata, and the
 * objects that follow it through the pipeline (decoded uplink, store record, promises,
 * closures). The overhead is generous: 20 devices' Cayenne uplinks held between hand-over and
 * commit, with their store documents, measured 2.9 KB each on the heap (Node 20), so the
 * budget errs on the side of memory.
 */
export function frameCost(phyPayloadBytes: number, receivers: number): number {
  return FRAME_OVERHEAD_BYTES + phyPayloadBytes + RECEIVER_BYTES * receivers;
}

/**
 * The frame cost in flight past which radios that can hold uplinks back are asked to (about 450
 * frames): enough for group commits to keep up with 5,000 uplinks/s, and a bound on what the
 * pipeline holds at once. A frame in flight costs more than it is charged: everything that follows
 * it waits for its commit and is promoted to the old generation meanwhile. With the mark at half
 * the budget (8 MiB under the systemd unit) a 1,000-device burst of bench/gateway-udp.bench.ts
 * had up to ~1,200 frames and ~1,600 events in flight, the event loop's live heap swinging
 * between 27 and 51 MB, peak RSS 150-158 MB; with this mark (and EventBacklog's 600/150) up to
 * 576 frames and 768 events, peak 142-145 MB, every uplink stored, CPU per uplink unchanged.
 */
export const DEFAULT_HOLD_BACKLOG_BYTES = 2 * 1024 * 1024;

export class BacklogBudget {
  private used = 0;
  private frames = 0;

  constructor(readonly limitBytes: number) {}

  /** Takes `bytes` from the budget; false (and nothing taken) when they do not fit, unless `force`. */
  take(bytes: number, force = false): boolean {
    // One frame always fits, so a budget smaller than a frame still lets uplinks through.
    if (!force && this.frames > 0 && this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    this.frames++;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.frames--;
  }

  /** Frames holding budget now. */
  pending(): number {
    return this.frames;
  }

  usedBytes(): number {
    return this.used;
  }

  /**
   * The bytes a hold is decided on: the frames holding budget and `collectingFrames` still in
   * the de-duplication window, at the weight of an admitted frame: each is admitted when its
   * window closes, whatever holds the radios then (frames in flight before a hold go beyond the
   * budget). Counted at a quarter, a busy event loop let ~14,000 frames into the window before
   * the hold, all admitted 200 ms later: 10,800 frames in the backlog against a budget of
   * 7,200, and 12,000 events behind them (/status in bench/gateway-udp, 1,000 devices at 5,000/s).
   */
  weighing(collectingFrames: number): number {
    return this.used + collectingFrames * frameCost(0, 1);
  }
}

/**
 * One warning per second at most while frames are dropped (with how many since the last one):
 * a line per frame would add a log flood to a gateway that is already behind.
 */
export class DropWarning {
  private readonly warning: ThrottledWarning;

  constructor(logger: Logger, now: () => number = Date.now) {
    this.warning = new ThrottledWarning(logger, 'the store is too far behind; frames dropped', 1000, now);
  }

  dropped(frame: { devAddr: string; fCnt16: number; gatewayEui?: string }, budget: BacklogBudget): void {
    this.warning.warn({ ...frame, backlog: budget.pending() });
  }
}
