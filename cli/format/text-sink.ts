/**
 * Text written line by line into one reused buffer, handed on only when it is
 * full. An export of 100,000 CSV lines written one `write(string)` at a time
 * makes 100,000 Buffers; those still queued at a scavenge are promoted and
 * their memory (outside the JS heap) comes back only at the next full GC, so
 * a long export held ~10 MB of dead buffers at its peak. Through this sink it
 * makes a few hundred writes of one buffer and allocates nothing per line.
 */

/** Receives a filled chunk; the bytes are reused once the returned promise settles. */
export type ChunkWriter = (chunk: Uint8Array) => Promise<void>;

export const TEXT_SINK_CAPACITY = 64 * 1024;

/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_BYTES_PER_UNIT = 3;

export class BufferedTextSink {
  private readonly buffer: Buffer;
  private used = 0;

  constructor(
    private readonly writeChunk: ChunkWriter,
    capacity: number = TEXT_SINK_CAPACITY,
  ) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  async write(text: string): Promise<void> {
    const room = this.buffer.length - this.used;
    // Most lines fit even at the worst-case width: skip measuring them.
    if (text.length * MAX_UTF8_BYTES_PER_UNIT > room) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > room) {
        await this.flush();
        if (bytes > this.buffer.length) {
          await this.writeChunk(Buffer.from(text, 'utf8'));
          return;
        }
      }
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
  }

  /** Hands on what is buffered (nothing when empty) and waits until it is written. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.writeChunk(this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}
