/**
 * Reads only the fixed headers of an MQTT byte stream (MQTT 3.1.1 §2.2: one
 * type byte, then the Remaining Length as 1..4 base-128 digits) and skips the
 * bodies, so a broker can refuse a packet by its declared size before a byte of
 * its body is buffered. It never copies data: it only counts.
 */

/** What feeding a chunk found: nothing wrong, or the first problem in the stream. */
export type FrameVerdict =
  | { kind: 'ok' }
  | { kind: 'oversize'; declaredBytes: number; limitBytes: number }
  | { kind: 'malformed'; reason: string };

/** §2.2.3: at most four length bytes, so at most 268,435,455. */
const MAX_LENGTH_DIGITS = 4;

export class MqttFrameScanner {
  /** Bytes of the current packet's body still to skip; -1 while reading a header. */
  #bodyLeft = -1;
  #lengthValue = 0;
  #lengthDigits = 0;
  #inLength = false;
  #failed: FrameVerdict | undefined;
  /** Packets whose header was complete, in order (tests compare them with an encoder's). */
  readonly declaredLengths: number[] = [];

  /** @param limitBytes the largest Remaining Length accepted; change it with `setLimit` (e.g. after login). */
  constructor(
    private limitBytes: number,
    private readonly keepLengths = false,
  ) {}

  setLimit(limitBytes: number): void {
    this.limitBytes = limitBytes;
  }

  feed(chunk: Uint8Array): FrameVerdict {
    if (this.#failed) return this.#failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.#bodyLeft > 0) {
        const skip = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (!this.#inLength) {
        // The type byte; its flags are the parser's business.
        this.#inLength = true;
        this.#lengthValue = 0;
        this.#lengthDigits = 0;
        continue;
      }
      this.#lengthValue += (byte & 0x7f) * 128 ** this.#lengthDigits;
      this.#lengthDigits++;
      if (byte & 0x80) {
        if (this.#lengthDigits >= MAX_LENGTH_DIGITS) {
          this.#failed = { kind: 'malformed', reason: 'remaining length longer than 4 bytes' };
          return this.#failed;
        }
        continue;
      }
      this.#inLength = false;
      if (this.keepLengths) this.declaredLengths.push(this.#lengthValue);
      if (this.#lengthValue > this.limitBytes) {
        this.#failed = { kind: 'oversize', declaredBytes: this.#lengthValue, limitBytes: this.limitBytes };
        return this.#failed;
      }
      this.#bodyLeft = this.#lengthValue;
    }
    return { kind: 'ok' };
  }
}
