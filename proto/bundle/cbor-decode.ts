/**
 * The strict decoder paired with cbor-encode.ts: it accepts exactly the
 * core-deterministic encodings (RFC 8949 §4.2.1) of the bundle data model and
 * rejects everything else with a typed error: non-shortest heads, indefinite
 * lengths, unsorted or duplicate map keys, floats, tags and trailing bytes are
 * BundleNonCanonical; truncation, reserved values, invalid UTF-8 and integers
 * beyond 2^53 are BundleMalformed. Hostile input is bounded: nesting depth is
 * capped and no length is trusted beyond the bytes actually present, so
 * nothing is allocated that the input does not already pay for.
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { type CborKey, type CborMap, type CborValue, compareBytes } from './cbor-encode.js';

export interface DecodeOptions {
  /** Maximum nesting of arrays/maps (default 16). */
  maxDepth?: number;
  /** If set, the top level must be this tag (and only there may a tag appear). */
  topLevelTag?: number;
  /**
   * Byte strings as views of `bytes` instead of copies: only for input the caller owns and
   * never changes while the values live (an inflated telemetry block, made for this decode).
   */
  byteStringViews?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function nonCanonical(message: string, offset: number): MaverickError {
  return new MaverickError(ErrorCode.BundleNonCanonical, `non-canonical CBOR at byte ${offset}: ${message}`, {
    context: { offset },
  });
}

function malformed(message: string, offset: number): MaverickError {
  return new MaverickError(ErrorCode.BundleMalformed, `malformed CBOR at byte ${offset}: ${message}`, {
    context: { offset },
  });
}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly maxDepth: number,
    readonly views: boolean,
  ) {}

  need(n: number): void {
    if (n > this.bytes.length - this.pos) {
      throw malformed(`needs ${n} more bytes, only ${this.bytes.length - this.pos} left`, this.pos);
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  /** The argument of the last head read (head() returns its major type): no pair allocated per item. */
  arg = 0;

  /** Reads a head; returns its major type and leaves its argument in `arg`, after checking the shortest form. */
  head(): number {
    const start = this.pos;
    const initial = this.u8();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info < 24) {
      this.arg = info;
      return major;
    }
    if (info === 31) throw nonCanonical('indefinite length', start);
    if (info > 27) throw malformed(`reserved additional information ${info}`, start);
    if (major === 7) {
      // Major 7 with 1/2/4/8 following bytes: a simple value in two bytes or a float.
      if (info === 24) throw malformed('two-byte simple values are not in the bundle data model', start);
      throw nonCanonical('floating-point numbers are not allowed (use fixed-point integers)', start);
    }
    const size = 1 << (info - 24);
    this.need(size);
    let arg = 0;
    if (size === 8) {
      const hi = this.readUint(4);
      const lo = this.readUint(4);
      if (hi > 0x1fffff) throw malformed('integer or length beyond 2^53', start);
      arg = hi * 0x100000000 + lo;
    } else {
      arg = this.readUint(size);
    }
    const minimum = size === 1 ? 24 : size === 2 ? 0x100 : size === 4 ? 0x10000 : 0x100000000;
    if (arg < minimum) throw nonCanonical(`argument ${arg} not in its shortest form`, start);
    this.arg = arg;
    return major;
  }

  private readUint(size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + (this.bytes[this.pos++] as number);
    return v;
  }

  value(depth: number): CborValue {
    if (depth > this.maxDepth) throw malformed(`nesting deeper than ${this.maxDepth}`, this.pos);
    const start = this.pos;
    const major = this.head();
    const arg = this.arg;
    switch (major) {
      case 0:
        if (arg > Number.MAX_SAFE_INTEGER) throw malformed('integer beyond 2^53', start);
        return arg;
      case 1:
        if (arg > Number.MAX_SAFE_INTEGER - 1) throw malformed('integer beyond -2^53', start);
        return -1 - arg;
      case 2:
        this.need(arg);
        this.pos += arg;
        return this.views
          ? this.bytes.subarray(this.pos - arg, this.pos)
          : this.bytes.slice(this.pos - arg, this.pos);
      case 3: {
        this.need(arg);
        this.pos += arg;
        try {
          return utf8.decode(this.bytes.subarray(this.pos - arg, this.pos));
        } catch {
          throw malformed('text string is not valid UTF-8', start);
        }
      }
      case 4: {
        // Every item takes at least one byte: a count beyond the bytes left is a lie.
        this.need(arg);
        const items: CborValue[] = [];
        for (let i = 0; i < arg; i++) items.push(this.value(depth + 1));
        return items;
      }
      case 5:
        return this.map(arg, depth);
      case 6:
        throw nonCanonical('tags are not allowed inside the bundle data model', start);
      default:
        return this.simple(arg, start);
    }
  }

  private map(count: number, depth: number): CborMap {
    this.need(count * 2);
    const map: CborMap = new Map();
    let previousKey: Uint8Array | undefined;
    for (let i = 0; i < count; i++) {
      const keyStart = this.pos;
      const key = this.value(depth + 1);
      const keyBytes = this.bytes.subarray(keyStart, this.pos);
      if (typeof key !== 'number' && typeof key !== 'string') {
        throw malformed('map keys must be integers or text', keyStart);
      }
      if (previousKey) {
        const order = compareBytes(previousKey, keyBytes);
        if (order === 0) throw nonCanonical(`duplicate map key ${JSON.stringify(key)}`, keyStart);
        if (order > 0) throw nonCanonical(`map key ${JSON.stringify(key)} out of bytewise order`, keyStart);
      }
      previousKey = keyBytes;
      map.set(key as CborKey, this.value(depth + 1));
    }
    return map;
  }

  private simple(arg: number, start: number): CborValue {
    if (arg === 20) return false;
    if (arg === 21) return true;
    if (arg === 22) return null;
    throw malformed(`simple value ${arg} is not in the bundle data model`, start);
  }
}

/** Decodes one complete, canonical CBOR item; anything else throws a Bundle* MaverickError. */
export function decodeCbor(bytes: Uint8Array, options: DecodeOptions = {}): CborValue {
  const reader = new Reader(bytes, options.maxDepth ?? 16, options.byteStringViews === true);
  if (options.topLevelTag !== undefined) {
    const major = reader.head();
    if (major !== 6 || reader.arg !== options.topLevelTag) {
      throw malformed(`expected CBOR tag ${options.topLevelTag} at the top level`, 0);
    }
  }
  const value = reader.value(0);
  if (reader.pos !== bytes.length)
    throw nonCanonical(`${bytes.length - reader.pos} trailing bytes`, reader.pos);
  return value;
}
