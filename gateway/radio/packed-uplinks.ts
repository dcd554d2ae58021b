/**
 * Uplinks waiting in the Semtech UDP thread, kept as bytes (V8's serialization, what postMessage
 * would do to them anyway) rather than as objects: a waiting uplink then takes ~400 bytes of
 * malloc'd buffer instead of ~1,400 bytes of the thread's heap, which the garbage collector
 * copies and later sweeps, and a batch crosses to the event loop as one buffer.
 */
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import type { RadioUplink } from '../../proto/radio.js';

/** What a packed uplink takes, roughly: its serialized metadata (~370 bytes) and its PHYPayload. */
export function packedCost(uplink: RadioUplink): number {
  return 400 + uplink.phyPayload.length;
}

/** One batch being packed. */
export class UplinkPacker {
  #serializer = UplinkPacker.#fresh();
  #count = 0;
  #bytes = 0;

  static #fresh(): DefaultSerializer {
    const serializer = new DefaultSerializer();
    serializer.writeHeader();
    return serializer;
  }

  add(uplink: RadioUplink): void {
    this.#serializer.writeValue(uplink);
    this.#count++;
    this.#bytes += packedCost(uplink);
  }

  get count(): number {
    return this.#count;
  }

  /** packedCost() of the uplinks packed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The packed uplinks; the packer starts over empty. */
  take(): { packed: Uint8Array; count: number } {
    const batch = { packed: this.#serializer.releaseBuffer(), count: this.#count };
    this.#serializer = UplinkPacker.#fresh();
    this.#count = 0;
    this.#bytes = 0;
    return batch;
  }
}

/** The uplinks of a packed batch, each PHYPayload copied out (a view would keep the whole batch alive). */
export function unpackUplinks(packed: Uint8Array, count: number): RadioUplink[] {
  const deserializer = new DefaultDeserializer(packed);
  deserializer.readHeader();
  const uplinks: RadioUplink[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const uplink = deserializer.readValue() as RadioUplink;
    uplink.phyPayload = new Uint8Array(uplink.phyPayload);
    uplinks[i] = uplink;
  }
  return uplinks;
}
