/**
 * Zigzag + unsigned LEB128 varints for the columnar telemetry block: small
 * signed deltas take one byte. Arithmetic (not 32-bit bitwise) so the whole
 * safe-integer range round-trips. Readers are bounded: at most 8 bytes per
 * varint and never past the end of the buffer.
 */
import { ErrorCode, MaverickError } from '../errors.js';

export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

export class VarintWriter {
  private buf = new Uint8Array(64);
  private length = 0;

  unsigned(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new MaverickError(
        ErrorCode.BundleMalformed,
        `varint needs a non-negative safe integer, got ${value}`,
      );
    }
    if (this.length + 8 > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  signed(value: number): void {
    if (!Number.isSafeInteger(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER / 2) {
      throw new MaverickError(
        ErrorCode.BundleMalformed,
        `value ${value} is out of the ±2^52 range of a bundle delta`,
      );
    }
    this.unsigned(zigzag(value));
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export class VarintReader {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  unsigned(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.bytes.length) {
        throw new MaverickError(ErrorCode.BundleMalformed, `${this.what}: varint runs past the end`);
      }
      const b = this.bytes[this.pos++] as number;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        // A final 0x00 after a continuation byte is a longer-than-needed form: one value, one encoding.
        if (b === 0 && i > 0)
          throw new MaverickError(ErrorCode.BundleNonCanonical, `${this.what}: overlong varint`);
        if (!Number.isSafeInteger(value)) break;
        return value;
      }
      scale *= 0x80;
    }
    throw new MaverickError(ErrorCode.BundleMalformed, `${this.what}: varint too long or beyond 2^53`);
  }

  signed(): number {
    const value = this.unsigned();
    // The writer's range is ±(2^53 − 1)/2: the one varint beyond it, 2^53 − 1, would be −2^52.
    if (value === Number.MAX_SAFE_INTEGER) {
      throw new MaverickError(ErrorCode.BundleMalformed, `${this.what}: value beyond the ±2^52 of a delta`);
    }
    return unzigzag(value);
  }

  /** Fails unless every byte was consumed (no hidden trailing data in a signed column). */
  finish(): void {
    if (!this.done) {
      throw new MaverickError(
        ErrorCode.BundleNonCanonical,
        `${this.what}: ${this.bytes.length - this.pos} unused trailing bytes`,
      );
    }
  }
}
