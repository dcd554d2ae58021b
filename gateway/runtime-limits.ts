/**
 * Limits the gateway derives for itself: from its heap limit (the uplink backlog's budget, the
 * size of a bundle) and from its load (when sealing waits).
 */

/**
 * The uplink backlog's memory budget: a sixteenth of the heap the process may use, at most
 * 16 MiB. Under `--max-old-space-size=64` (the soak; a small Pi) a backlog of the default size
 * would take most of the heap, and sealing needs room beside it (a heap of 64 MB ran out with
 * an eighth while a bundle was sealed); with V8's default limit the cap applies. A frame in
 * flight costs more than frameCost charges (~5 KB of heap measured at the 5,000 uplinks/s burst,
 * plus what the collector keeps beside it): at 32 MiB the gateway peaked ~15 MB higher (median
 * of three runs of bench/gateway-udp.bench.ts each, 217 against 198 MB), while frames beyond the
 * hold wait in the Semtech UDP thread at ~340 bytes each, and every one was stored either way.
 */
export function backlogBudgetFor(heapLimitBytes: number): number {
  return Math.min(16 * 1024 * 1024, Math.floor(heapLimitBytes / 16));
}

/**
 * Uplinks per bundle unless configured: at most 2,000, fewer on a small heap. Sealing a bundle
 * holds its uplinks' documents a few times over (read, marked, encoded); under
 * `--max-old-space-size=64` the 300,000-uplink soak ran out of heap twice with bundles of 5000
 * beside the gateway's own ~40 MB. One uplink per 32 KiB of heap limit (about 2,000 at 64 MB).
 * The size matters when many uplinks wait at once (a burst, sealed while the next goes on):
 * bench/gateway-udp.bench.ts peaked at 233/237 MB with bundles of 5,000, 217 with 2,000, 210/212
 * with 1,000. A farm's hourly bundle holds a few hundred uplinks either way, and a bundle's fixed
 * cost (header, signature, chain link: ~150 bytes) stays under 1 % of 2,000 records.
 */
export function bundleSizeFor(heapLimitBytes: number): number {
  return Math.max(500, Math.min(2000, Math.floor(heapLimitBytes / 32_768)));
}

/**
 * Uplinks between their MIC check and their publication past which the gateway counts as busy
 * and timed seals wait (Sealer's `busy`): more than two of the store's transactions carry. A
 * seal beside a burst held its documents on top of the burst's and took the event loop the burst
 * needed (bench/gateway-udp.bench.ts). A burst the pipeline keeps up with stays under this, so
 * the event loop's utilisation counts too (gateway/load-gauge.ts).
 */
export const SEALING_BUSY_UPLINKS = 1000;
