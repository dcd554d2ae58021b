/**
 * LoRaWAN 1.0.x cryptography on node:crypto (native AES): AES-CMAC (RFC 4493),
 * the B0 MIC and the Ai keystream of FRMPayload encryption (LoRaWAN 1.0.3
 * §4.3.3 and §4.4), the join-request / join-accept MIC, and session-key
 * derivation (§6.2.5). lora-packet implements the same on crypto-js (pure JS);
 * we keep it as the independent oracle in tests and as the bench baseline.
 */
import { type Cipher, createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { ErrorCode, MaverickError } from '../errors.js';
import { writeUintLE } from './bytes.js';

const ZERO_IV = Buffer.alloc(16);

/**
 * Long-lived AES-128 contexts per key, with its CMAC subkeys. ECB keeps no
 * state between blocks, so `update()` on whole blocks can be called forever
 * without `final()`: this saves creating an OpenSSL context per frame, which
 * dominates the cost for short LoRaWAN messages (see bench/lorawan.bench.ts).
 * The CBC context computes a whole CBC-MAC in one `update()` instead of one
 * call (and one Buffer) per block; it does carry state (its last output
 * block, kept in `chain`), which each CMAC cancels by XOR-ing it into its
 * first block, so every message starts from a zero IV as RFC 4493 wants.
 *
 * Each context is made on first use: a session's AppSKey only ever needs ECB
 * (the FRMPayload keystream) and its NwkSKey mostly CBC (MICs), so a device
 * costs two OpenSSL contexts, not four (a gateway keeps one entry per key of
 * every active device: 1,000 devices held 4,000 contexts). Bounded: the
 * oldest entry goes when the cache is full.
 */
interface KeyContext {
  /** The key these contexts were made for: a lookup by array identity checks it still holds it. */
  key: Uint8Array;
  ecb: Cipher | undefined;
  cbc: Cipher | undefined;
  /**
   * CMAC state in one buffer, made with `cbc`: bytes 0-15 the CBC context's last output block
   * (its IV for the next `update()`), 16-31 the subkey K1, 32-47 K2.
   */
  cmac: Uint8Array | undefined;
}
const CACHE_LIMIT = 4096;
const contexts = new Map<string, KeyContext>();
/**
 * The same contexts by key array: callers that keep their key bytes (the
 * network server's per-session key cache) skip building the Map's string key.
 * An array changed in place since fails the byte check and takes the slow path.
 */
const byArray = new WeakMap<Uint8Array, KeyContext>();

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Drops a context from both caches (its key array no longer matches anything). */
function forget(ctx: KeyContext): void {
  const id = Buffer.from(ctx.key.buffer, ctx.key.byteOffset, ctx.key.byteLength).toString('latin1');
  if (contexts.get(id) === ctx) contexts.delete(id);
  ctx.key = new Uint8Array(0);
}

function contextFor(key: Uint8Array): KeyContext {
  const known = byArray.get(key);
  if (known && sameKey(known.key, key)) return known;
  const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  let ctx = contexts.get(id);
  if (!ctx) {
    // Checks the key now (a wrong length throws here, as it always did), then lets it go.
    ecbContext(key);
    ctx = { key: Uint8Array.from(key), ecb: undefined, cbc: undefined, cmac: undefined };
    if (contexts.size >= CACHE_LIMIT) contexts.delete(contexts.keys().next().value as string);
    contexts.set(id, ctx);
  }
  byArray.set(key, ctx);
  return ctx;
}

function ecbContext(key: Uint8Array): Cipher {
  const ecb = createCipheriv('aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  return ecb;
}

function ecbOf(ctx: KeyContext): Cipher {
  ctx.ecb ??= ecbContext(ctx.key);
  return ctx.ecb;
}

/** The CBC context and the CMAC state of `ctx`, made on first use. */
function cmacOf(ctx: KeyContext): { cbc: Cipher; cmac: Uint8Array } {
  if (!ctx.cbc || !ctx.cmac) {
    const cbc = createCipheriv('aes-128-cbc', ctx.key, ZERO_IV);
    cbc.setAutoPadding(false);
    // K1 from a one-off ECB context unless this key has one: a NwkSKey usually never needs ECB.
    const l = (ctx.ecb ?? ecbContext(ctx.key)).update(ZERO_IV);
    const cmac = new Uint8Array(48);
    doubleBlock(l, cmac.subarray(16, 32));
    doubleBlock(cmac.subarray(16, 32), cmac.subarray(32, 48));
    ctx.cbc = cbc;
    ctx.cmac = cmac;
  }
  return { cbc: ctx.cbc, cmac: ctx.cmac };
}

/** Which OpenSSL contexts the key cache holds for `key` (undefined: none); what a key costs, for tests. */
export function cachedCipherContexts(key: Uint8Array): { ecb: boolean; cbc: boolean } | undefined {
  const ctx = contexts.get(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  return ctx && { ecb: ctx.ecb !== undefined, cbc: ctx.cbc !== undefined };
}

/** AES-128-ECB encryption of whole blocks (no padding). */
export function aesEncryptBlocks(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length % 16 !== 0)
    throw new MaverickError(
      ErrorCode.LorawanMalformed,
      `AES-ECB input must be whole 16-byte blocks, got ${data.length} bytes`,
    );
  return new Uint8Array(ecbOf(contextFor(key)).update(data));
}

/** AES-128-ECB decryption of whole blocks (no padding). */
export function aesDecryptBlocks(key: Uint8Array, data: Uint8Array): Uint8Array {
  const decipher = createDecipheriv('aes-128-ecb', key, null);
  decipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([decipher.update(data), decipher.final()]));
}

/** RFC 4493 §2.3: left shift by one bit, XOR Rb (0x87) when the MSB was set; written to `out`. */
function doubleBlock(block: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < 15; i++) out[i] = ((block[i] << 1) | (block[i + 1] >>> 7)) & 0xff;
  out[15] = (block[15] << 1) & 0xff;
  if (block[0] & 0x80) out[15] ^= 0x87;
}

/** AES-CMAC (RFC 4493 §2.4): CBC-MAC over the padded message, last block XOR K1 (complete) or K2 (padded). */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(message.length / 16));
  const padded = new Uint8Array(blocks * 16);
  padded.set(message);
  return cmacPadded(contextFor(key), padded, message.length).slice();
}

/**
 * CMAC of the first `length` bytes of `padded` (whole blocks, zero beyond
 * `length`; changed in place). Returns the tag as a view of the cipher's output.
 */
function cmacPadded(ctx: KeyContext, padded: Uint8Array, length: number): Uint8Array {
  const complete = length > 0 && length % 16 === 0;
  if (!complete) padded[length] = 0x80;
  const last = padded.length - 16;
  const { cbc, cmac } = cmacOf(ctx);
  const subkey = complete ? 16 : 32;
  for (let i = 0; i < 16; i++) {
    padded[last + i] ^= cmac[subkey + i];
    // Cancels the CBC context's carried state: the chain now starts from a zero IV.
    padded[i] ^= cmac[i];
  }
  const out = cbc.update(padded);
  if (out.length !== padded.length) {
    // The context's chain state is unknown now: forget it, the next call builds a fresh one.
    forget(ctx);
    throw new MaverickError(
      ErrorCode.LorawanMalformed,
      `AES-CBC returned ${out.length} of ${padded.length} bytes`,
    );
  }
  // A plain Uint8Array view (not a Buffer, whose slice() would not copy).
  const tag = new Uint8Array(out.buffer, out.byteOffset + last, 16);
  cmac.set(tag);
  return tag;
}

/**
 * Writes the B0 / Ai block (LoRaWAN 1.0.3 §4.3.3.1, §4.4) at `offset` of `into`:
 * first byte, 4 zero bytes, Dir, DevAddr (LE), the full 32-bit FCnt (LE), 0x00, last byte.
 * `into` must be zero there already.
 */
function writeCounterBlock(
  into: Uint8Array,
  offset: number,
  first: number,
  dir: 0 | 1,
  devAddrLE: Uint8Array,
  fCnt32: number,
  last: number,
): void {
  into[offset] = first;
  into[offset + 5] = dir;
  into.set(devAddrLE, offset + 6);
  writeUintLE(into, offset + 10, fCnt32 >>> 0, 4);
  into[offset + 15] = last;
}

/** MIC = cmac(key, B0 | msg)[0..3] (LoRaWAN 1.0.3 §4.4). `msg` is MHDR | FHDR | FPort | FRMPayload. */
export function b0Mic(key: Uint8Array, dir: 0 | 1, devAddrLE: Uint8Array, fCnt32: number, msg: Uint8Array) {
  // B0 | msg, padded to whole blocks, in one array: the CMAC runs over it in place.
  const length = 16 + msg.length;
  const padded = new Uint8Array(Math.ceil(length / 16) * 16);
  writeCounterBlock(padded, 0, 0x49, dir, devAddrLE, fCnt32, msg.length & 0xff);
  padded.set(msg, 16);
  return cmacPadded(contextFor(key), padded, length).subarray(0, 4);
}

/** FRMPayload encryption and decryption are the same XOR with the Ai keystream (LoRaWAN 1.0.3 §4.3.3.1). */
export function frmCrypt(
  key: Uint8Array,
  dir: 0 | 1,
  devAddrLE: Uint8Array,
  fCnt32: number,
  data: Uint8Array,
): Uint8Array {
  if (data.length === 0) return new Uint8Array(0);
  const blocks = Math.ceil(data.length / 16);
  const a = new Uint8Array(blocks * 16);
  for (let i = 0; i < blocks; i++) writeCounterBlock(a, i * 16, 0x01, dir, devAddrLE, fCnt32, i + 1);
  const s = ecbOf(contextFor(key)).update(a);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ s[i];
  return out;
}

/** Constant-time comparison of two MICs. */
export function micEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
