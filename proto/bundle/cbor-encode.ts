/**
 * A deterministic CBOR encoder for exactly Maverick's bundle data model
 * (RFC 8949 §4.2.1 core deterministic encoding): safe integers, byte and text
 * strings, arrays, maps with integer or text keys, booleans and null.
 * Shortest-form heads, definite lengths, map keys sorted bytewise by their
 * encoding, no floats, no tags (the COSE tag 18 is added by cose.ts only).
 * Written rather than configuring cbor-x because the verifier must also
 * *reject* non-canonical input, which no general decoder does; one small
 * codec for one data model keeps both directions provably in step.
 */
import { ErrorCode, MaverickError } from '../errors.js';

export type CborKey = number | string;
export type CborValue = number | Uint8Array | string | boolean | null | CborValue[] | CborMap;
export type CborMap = Map<CborKey, CborValue>;

const textEncoder = new TextEncoder();
/** Byte strings up to this long are copied byte by byte (ByteWriter.bytes). */
const SHORT_COPY = 32;

/**
 * Writes a major type + argument in its shortest form (RFC 8949 §4.2.1) at buf[at…] (room for
 * 9 bytes made by the caller); returns where it ends.
 */
export function headAt(buf: Uint8Array, at: number, major: number, arg: number): number {
  const m = major << 5;
  if (arg < 24) {
    buf[at] = m | arg;
    return at + 1;
  }
  if (arg < 0x100) {
    buf[at] = m | 24;
    buf[at + 1] = arg;
    return at + 2;
  }
  if (arg < 0x10000) {
    buf[at] = m | 25;
    buf[at + 1] = arg >>> 8;
    buf[at + 2] = arg & 0xff;
    return at + 3;
  }
  if (arg < 0x100000000) {
    buf[at] = m | 26;
    buf[at + 1] = arg >>> 24;
    buf[at + 2] = (arg >>> 16) & 0xff;
    buf[at + 3] = (arg >>> 8) & 0xff;
    buf[at + 4] = arg & 0xff;
    return at + 5;
  }
  // Unix milliseconds take this path: every record's reception time.
  const hi = Math.floor(arg / 0x100000000);
  const lo = arg % 0x100000000;
  buf[at] = m | 27;
  buf[at + 1] = hi >>> 24;
  buf[at + 2] = (hi >>> 16) & 0xff;
  buf[at + 3] = (hi >>> 8) & 0xff;
  buf[at + 4] = hi & 0xff;
  buf[at + 5] = lo >>> 24;
  buf[at + 6] = (lo >>> 16) & 0xff;
  buf[at + 7] = (lo >>> 8) & 0xff;
  buf[at + 8] = lo & 0xff;
  return at + 9;
}

class ByteWriter {
  private buf = new Uint8Array(256);

  protected subarrayOfBuffer(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  length = 0;

  protected reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    if (n <= SHORT_COPY) {
      // A leaf's salt, DevEUI and names: a loop the JIT keeps inline costs less than the call `set` makes.
      const buf = this.buf;
      for (let i = 0, at = this.length; i < n; i++, at++) buf[at] = b[i] as number;
    } else this.buf.set(b, this.length);
    this.length += n;
  }

  /** A major type + argument in its shortest form (RFC 8949 §4.2.1), room made once. */
  writeHead(major: number, arg: number): void {
    this.reserve(9);
    this.length = headAt(this.buf, this.length, major, arg);
  }

  /** Room for `n` more bytes: the buffer to write from `length` on; then `advanceTo` the end written. */
  room(n: number): Uint8Array {
    this.reserve(n);
    return this.buf;
  }

  advanceTo(end: number): void {
    this.length = end;
  }

  /** Text whose every character is below U+0080 (the caller checked). */
  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.length++] = text.charCodeAt(i);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * A reusable writer for callers that encode many small values in a row (a bundle's proof
 * leaves): `reset` keeps the buffer, `view` reads what was written without copying it.
 */
export class CborWriter extends ByteWriter {
  head(major: number, arg: number): void {
    writeHead(this, major, arg);
  }

  value(value: CborValue): void {
    writeValue(this, value, 0);
  }

  /** An integer, as `value` writes it, without the type dispatch (a record's numbers). */
  int(value: number): void {
    if (!Number.isSafeInteger(value))
      writeValue(this, value, 0); // throws the data model's error
    else if (value >= 0) this.writeHead(0, value);
    else this.writeHead(1, -1 - value);
  }

  /** A byte string, as `value` writes it. */
  byteString(value: Uint8Array): void {
    this.writeHead(2, value.length);
    this.bytes(value);
  }

  /** A text string, as `value` writes it. */
  text(value: string): void {
    writeText(this, value);
  }

  reset(): void {
    this.length = 0;
  }

  /** The bytes written since the last reset; valid until the next write. */
  view(): Uint8Array {
    return this.subarrayOfBuffer();
  }
}

/** Writes a major type + argument in its shortest form (RFC 8949 §4.2.1). */
function writeHead(w: ByteWriter, major: number, arg: number): void {
  w.writeHead(major, arg);
}

/**
 * A text string. ASCII (field names, plot ids, claims) is its own UTF-8: written byte by byte
 * without a TextEncoder round, which cost more than the rest of a record's leaf.
 */
function writeText(w: ByteWriter, text: string): void {
  const n = text.length;
  let ascii = n <= 64;
  for (let i = 0; ascii && i < n; i++) if (text.charCodeAt(i) >= 0x80) ascii = false;
  if (!ascii) {
    const utf8 = textEncoder.encode(text);
    writeHead(w, 3, utf8.length);
    w.bytes(utf8);
    return;
  }
  writeHead(w, 3, n);
  w.ascii(text);
}

/** Encoded map keys, kept: the data model's keys are a few small integers and short names. */
const keyCache = new Map<CborKey, Uint8Array>();
const KEY_CACHE_LIMIT = 1024;

/** The encoding of a map key (what canonical key order compares). */
function keyBytes(key: CborKey): Uint8Array {
  let bytes = keyCache.get(key);
  if (bytes) return bytes;
  bytes = encodeCbor(key);
  // Bounded: a map of arbitrary text keys (a plot definition's properties) cannot grow it for good.
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(key, bytes);
  return bytes;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

function writeValue(w: ByteWriter, value: CborValue, depth: number): void {
  if (depth > 64) throw new MaverickError(ErrorCode.BundleMalformed, 'value nests deeper than 64 levels');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new MaverickError(
        ErrorCode.BundleMalformed,
        `bundle values are integers (fixed-point), got ${value}`,
        {
          hint: 'scale the reading to an integer with a decimal scale',
        },
      );
    }
    if (value >= 0) writeHead(w, 0, value);
    else writeHead(w, 1, -1 - value);
  } else if (value instanceof Uint8Array) {
    writeHead(w, 2, value.length);
    w.bytes(value);
  } else if (typeof value === 'string') {
    writeText(w, value);
  } else if (Array.isArray(value)) {
    writeHead(w, 4, value.length);
    for (const item of value) writeValue(w, item, depth + 1);
  } else if (value instanceof Map) {
    const entries = [...value.entries()].map(([k, v]) => ({ key: keyBytes(k), value: v }));
    entries.sort((a, b) => compareBytes(a.key, b.key));
    writeHead(w, 5, entries.length);
    for (const entry of entries) {
      w.bytes(entry.key);
      writeValue(w, entry.value, depth + 1);
    }
  } else if (value === false) {
    w.byte(0xf4);
  } else if (value === true) {
    w.byte(0xf5);
  } else if (value === null) {
    w.byte(0xf6);
  } else {
    throw new MaverickError(ErrorCode.BundleMalformed, `cannot encode ${typeof value} in a bundle`);
  }
}

/** Core-deterministic CBOR bytes of `value`. Same value, same bytes. */
export function encodeCbor(value: CborValue): Uint8Array {
  const w = new ByteWriter();
  writeValue(w, value, 0);
  return w.result();
}

/** Encodes `value` wrapped in CBOR tag `tag` (used only for the COSE_Sign1 tag 18). */
export function encodeTaggedCbor(tag: number, value: CborValue): Uint8Array {
  const w = new ByteWriter();
  writeHead(w, 6, tag);
  writeValue(w, value, 0);
  return w.result();
}

/**
 * Whether two values of the data model have the same canonical encoding, without encoding
 * them: the encoding is a function of the value (maps by their key set, whatever the insertion
 * order) and differs for different values, so equal values and equal bytes are the same test.
 */
export function cborEqual(a: CborValue | undefined, b: CborValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === b) return true;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && compareBytes(a, b) === 0;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!cborEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [key, value] of a) if (!cborEqual(value, b.get(key))) return false;
    return true;
  }
  return false;
}

export { compareBytes };
