/**
 * A first-in first-out queue of datagrams with their reception times, kept
 * as bytes back to back in large chunks, and taken out in batches packed into
 * one ArrayBuffer of exactly their size (to be transferred to another thread,
 * not copied). The Semtech UDP thread keeps the PUSH_DATA it has answered here
 * until the event loop takes them: no objects wait, whatever the backlog, so
 * the thread's heap stays a few megabytes and the collector has nothing to walk.
 *
 * Record layout, in the chunks and in a batch alike:
 *   u32 length (little endian) | f64 receivedAtMs (little endian) | the datagram's bytes
 */

/** Bytes per chunk: a few hundred datagrams; a larger datagram gets a chunk of its own. */
const CHUNK_BYTES = 256 * 1024;
/**
 * Emptied chunks kept for the next pushes (1 MiB). A chunk let go is freed only when this
 * thread's heap has a full collection, seconds apart on a thread that makes little garbage:
 * in a burst the queue is emptied at its head as fast as it fills at its tail, so letting
 * each emptied chunk go kept two to three times the queue's bytes resident (bench/gateway-udp:
 * 13.7 MB of buffers holding a 3.8 MB queue); at a trickle every batch emptied the queue and
 * the next datagram allocated a fresh 256 KiB chunk. Reused, the chunks in use and spare are
 * the queue's bytes plus at most this.
 */
const SPARE_CHUNKS = 4;
const HEADER_BYTES = 12;

export interface DatagramQueueOptions {
  /** Bytes per chunk (tests use small ones to cross chunks often). */
  chunkBytes?: number;
  /** Emptied chunks kept for reuse. */
  spareChunks?: number;
}

interface Chunk {
  bytes: Buffer;
  /** Bytes written so far. */
  end: number;
}

export class DatagramQueue {
  readonly #chunks: Chunk[] = [];
  /** Emptied chunks of the regular size, reused before a new one is allocated. */
  readonly #spare: Buffer[] = [];
  readonly #chunkBytes: number;
  readonly #spareChunks: number;
  /** Where the oldest record starts in `#chunks[0]`. */
  #readOffset = 0;
  #size = 0;
  #byteLength = 0;
  #chunksAllocated = 0;

  constructor(options: DatagramQueueOptions = {}) {
    this.#chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    this.#spareChunks = options.spareChunks ?? SPARE_CHUNKS;
  }

  /** Chunks allocated so far (reused ones are not counted again). */
  get chunksAllocated(): number {
    return this.#chunksAllocated;
  }

  /** Emptied chunks waiting for reuse. */
  get spareChunks(): number {
    return this.#spare.length;
  }

  /** Datagrams waiting. */
  get size(): number {
    return this.#size;
  }

  /** Bytes the waiting records take (headers included, not the chunks' spare room). */
  get byteLength(): number {
    return this.#byteLength;
  }

  push(datagram: Uint8Array, receivedAtMs: number): void {
    const recordBytes = HEADER_BYTES + datagram.byteLength;
    let tail = this.#chunks[this.#chunks.length - 1];
    if (!tail || tail.end + recordBytes > tail.bytes.length) {
      // A record never straddles two chunks.
      tail = { bytes: this.#newChunk(recordBytes), end: 0 };
      this.#chunks.push(tail);
    }
    tail.bytes.writeUInt32LE(datagram.byteLength, tail.end);
    tail.bytes.writeDoubleLE(receivedAtMs, tail.end + 4);
    tail.bytes.set(datagram, tail.end + HEADER_BYTES);
    tail.end += recordBytes;
    this.#size++;
    this.#byteLength += recordBytes;
  }

  /**
   * The oldest `max` datagrams at most (all when fewer wait), removed and packed into one
   * ArrayBuffer for readDatagramBatch; an empty one when nothing waits.
   */
  take(max: number): ArrayBuffer {
    // First the ranges, so the batch is allocated once at its exact size.
    const ranges: { chunk: Chunk; from: number; to: number }[] = [];
    let total = 0;
    let count = 0;
    let chunkIndex = 0;
    let offset = this.#readOffset;
    while (count < max && count < this.#size) {
      const chunk = this.#chunks[chunkIndex] as Chunk;
      if (offset === chunk.end) {
        chunkIndex++;
        offset = 0;
        continue;
      }
      const from = offset;
      while (count < max && offset < chunk.end) {
        offset += HEADER_BYTES + chunk.bytes.readUInt32LE(offset);
        count++;
      }
      ranges.push({ chunk, from, to: offset });
      total += offset - from;
    }
    const batch = new Uint8Array(total);
    let at = 0;
    for (const { chunk, from, to } of ranges) {
      batch.set(chunk.bytes.subarray(from, to), at);
      at += to - from;
    }
    this.#size -= count;
    this.#byteLength -= total;
    if (this.#size === 0) {
      // Empty: a few chunks are kept for reuse, the rest are let go (a burst's backlog must
      // not stay resident).
      this.#release(this.#chunks.splice(0));
      this.#readOffset = 0;
    } else {
      this.#release(this.#chunks.splice(0, chunkIndex));
      this.#readOffset = offset;
    }
    return batch.buffer;
  }

  #newChunk(recordBytes: number): Buffer {
    if (recordBytes > this.#chunkBytes) {
      this.#chunksAllocated++;
      return Buffer.allocUnsafe(recordBytes);
    }
    const spare = this.#spare.pop();
    if (spare) return spare;
    this.#chunksAllocated++;
    return Buffer.allocUnsafe(this.#chunkBytes);
  }

  /** Emptied chunks: regular ones are kept for reuse up to the spare count. */
  #release(chunks: Chunk[]): void {
    for (const chunk of chunks) {
      if (this.#spare.length >= this.#spareChunks) return;
      if (chunk.bytes.length === this.#chunkBytes) this.#spare.push(chunk.bytes);
    }
  }
}

/** Calls `each` with every datagram of a batch made by DatagramQueue.take, in order. */
export function readDatagramBatch(
  batch: ArrayBuffer,
  each: (datagram: Buffer, receivedAtMs: number) => void,
): void {
  const bytes = Buffer.from(batch);
  let offset = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(offset);
    const receivedAtMs = bytes.readDoubleLE(offset + 4);
    const start = offset + HEADER_BYTES;
    each(bytes.subarray(start, start + length), receivedAtMs);
    offset = start + length;
  }
}
