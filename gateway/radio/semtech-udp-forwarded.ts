/**
 * The event loop's half of a PUSH_DATA the Semtech UDP thread took in
 * (semtech-udp-thread-worker.ts): the thread checked it, answered it, counted
 * it and updated the routes, then handed over its bytes; here it becomes the
 * `uplink` and `stats` events the in-process backend (semtech-udp.ts) emits.
 * Decoding again is cheaper on both sides than moving decoded uplinks between
 * threads (a structured clone of every object, written on one heap and read
 * on the other), and bytes wait on the thread without a heap to grow.
 */
import type { GatewayStats, RadioUplink } from '../../proto/radio.js';
import { decodeDatagram } from '../../proto/semtech-udp/index.js';

export interface ForwardedPushDataListener {
  uplink(uplink: RadioUplink): void;
  stats(stats: GatewayStats): void;
}

/**
 * Emits what one forwarded PUSH_DATA carries. The thread decoded the same bytes with the same
 * decoder before forwarding them, so a throw here is a bug; the caller logs it.
 */
export function readForwardedPushData(
  datagram: Uint8Array,
  receivedAtMs: number,
  listener: ForwardedPushDataListener,
): void {
  const packet = decodeDatagram(datagram);
  if (packet.type !== 'PUSH_DATA') return;
  for (const outcome of packet.rxpk) {
    if (outcome.status === 'ok') listener.uplink({ ...outcome.uplink, receivedAtMs });
  }
  if (packet.stat) listener.stats({ ...packet.stat, receivedAtMs });
}
