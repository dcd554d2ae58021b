/**
 * How much garbage V8 lets `maverick run`'s heaps gather between full
 * collections. After each full collection V8 lets the old generation grow to
 * its live size times a factor before the next one starts: up to 1.4 under
 * the unit's --max-old-space-size=512, up to 4 with V8's defaults. The
 * gateway's live heap in a burst is mostly uplinks in flight, promoted by the
 * young generation's small semi-spaces and dead soon after, so that headroom
 * is resident memory holding garbage. 1.15 keeps the peak of the 5,000/s,
 * 1,000-device burst of bench/gateway-udp.bench.ts ~7 MB lower (165-172 MB
 * against 171-179 with the factor V8 chose, side by side; 10 % was no lower,
 * at more collections) at the same CPU per uplink: a full collection of the
 * gateway's ~40 MB heap is mostly concurrent marking on V8's helper threads.
 *
 * V8 reads the flag whenever it sets the next limit, so setting it at start
 * (before the helper threads, which share V8's flags) covers every heap of the
 * process. Node does not take it in NODE_OPTIONS, which is why it is set here
 * and not in the systemd unit.
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation grows to its live size plus this percentage between full collections. */
export const HEAP_GROWING_PERCENT = 15;

/** Sets the gateway's heap growing factor for every heap of this process (call before starting threads). */
export function applyGatewayHeapPolicy(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
