/**
 * Keeps RxDB's per-collection change-event buffers at their limit.
 *
 * RxDB 17 keeps the last `limit` (100) change events of a collection for
 * event-reduce, but a single write of more documents than that replaces the
 * buffer with the whole write (`events.slice(events.length * -1)` in
 * change-event-buffer.js): every document of the last large write, with its
 * previous version, stays reachable until the next write. The gateway writes
 * up to 500 uplinks per commit and every active device's session once a
 * second, so with 1,000 devices the buffers held ~1,000 sessions twice over
 * and ~500 uplink documents (heap snapshots of bench/gateway-udp.bench.ts).
 * After each write the buffer is cut back to its limit, as RxDB does for
 * smaller writes; a query whose last run is older than the buffer runs again
 * against the storage, as it would after 100 small writes.
 */
import type { RxCollection } from 'rxdb';

/** The parts of RxDB's (private) ChangeEventBuffer this touches. */
interface ChangeEventBufferInternals {
  limit: number;
  buffer: unknown[];
  _handleChangeEvents: (events: unknown[]) => void;
}

function internalsOf(collection: RxCollection): ChangeEventBufferInternals | undefined {
  const buffer = (collection as unknown as { _changeEventBuffer?: Partial<ChangeEventBufferInternals> })
    ._changeEventBuffer;
  // Another RxDB version may shape it differently: then it is left as it is.
  if (
    !buffer ||
    typeof buffer._handleChangeEvents !== 'function' ||
    !Array.isArray(buffer.buffer) ||
    typeof buffer.limit !== 'number'
  ) {
    return undefined;
  }
  return buffer as ChangeEventBufferInternals;
}

/** Bounds the change-event buffer of every collection given; returns how many it bounded. */
export function boundChangeEventBuffers(collections: readonly RxCollection[]): number {
  let bounded = 0;
  for (const collection of collections) {
    const buffer = internalsOf(collection);
    if (!buffer) continue;
    const handle = buffer._handleChangeEvents.bind(buffer);
    buffer._handleChangeEvents = (events: unknown[]) => {
      handle(events);
      if (buffer.buffer.length > buffer.limit) buffer.buffer = buffer.buffer.slice(-buffer.limit);
    };
    bounded++;
  }
  return bounded;
}
