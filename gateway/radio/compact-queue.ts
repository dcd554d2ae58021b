/**
 * A first-in first-out queue of values kept as their V8 serialisation, packed
 * back to back in large byte chunks. An uplink waiting in the Semtech UDP
 * thread as objects (its PHYPayload, the receiver's metadata) costs ~1.4 KB
 * of heap; serialised it is a few hundred bytes outside it, and a queue of
 * tens of thousands (a burst the event loop drains slower than it arrives)
 * leaves no objects for the collector to walk. Values come back as the
 * structured clone algorithm gives them (a Buffer comes back as a Buffer).
 */
import { deserialize, serialize } from 'node:v8';

/** Bytes per chunk: one allocation holds a few thousand uplinks. */
const CHUNK_BYTES = 1024 * 1024;

interface Chunk {
  bytes: Buffer;
  /** Bytes written so far. */
  end: number;
}

export class CompactQueue<T> {
  private readonly chunks: Chunk[] = [];
  /** The length of every record, in order; the head record starts at `readOffset` of `chunks[0]`. */
  private lengths: number[] = [];
  private head = 0;
  private readOffset = 0;
  private bytes = 0;

  get size(): number {
    return this.lengths.length - this.head;
  }

  /** Bytes the records take (not the chunks' spare room). */
  get byteLength(): number {
    return this.bytes;
  }

  push(value: T): void {
    const record = serialize(value);
    let tail = this.chunks[this.chunks.length - 1];
    if (!tail || tail.end + record.length > tail.bytes.length) {
      // A record never straddles two chunks: a record larger than a chunk gets one of its own.
      tail = { bytes: Buffer.allocUnsafe(Math.max(CHUNK_BYTES, record.length)), end: 0 };
      this.chunks.push(tail);
    }
    record.copy(tail.bytes, tail.end);
    tail.end += record.length;
    this.lengths.push(record.length);
    this.bytes += record.length;
  }

  /** The oldest value, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    let chunk = this.chunks[0] as Chunk;
    if (this.readOffset === chunk.end) {
      // Every record of this chunk was read: the next record starts the next chunk.
      this.chunks.shift();
      chunk = this.chunks[0] as Chunk;
      this.readOffset = 0;
    }
    const length = this.lengths[this.head] as number;
    const value = deserialize(chunk.bytes.subarray(this.readOffset, this.readOffset + length)) as T;
    this.readOffset += length;
    this.head++;
    this.bytes -= length;
    if (this.head === this.lengths.length) this.clear();
    else if (this.head > 65_536) {
      this.lengths = this.lengths.slice(this.head);
      this.head = 0;
    }
    return value;
  }

  private clear(): void {
    this.chunks.length = 0;
    this.lengths = [];
    this.head = 0;
    this.readOffset = 0;
    this.bytes = 0;
  }
}
