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
 * One long-lived AES-128-ECB cipher per key, with its CMAC subkeys. ECB keeps
 * no state between blocks, so `update()` on whole blocks can be called forever
 * without `final()`: this saves creating an OpenSSL context per frame, which
 * dominates the cost for short LoRaWAN messages (see bench/lorawan.bench.ts).
 * Bounded: the oldest entry goes when the cache is full.
 */
interface KeyContext {
  ecb: Cipher;
  k1: Uint8Array;
  k2: Uint8Array;
}
const CACHE_LIMIT = 4096;
const contexts = new Map<string, KeyContext>();

function contextFor(key: Uint8Array): KeyContext {
  const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  let ctx = contexts.get(id);
  if (!ctx) {
    const ecb = createCipheriv('aes-128-ecb', key, null);
    ecb.setAutoPadding(false);
    const k1 = doubleBlock(ecb.update(ZERO_IV));
    ctx = { ecb, k1, k2: doubleBlock(k1) };
    if (contexts.size >= CACHE_LIMIT) contexts.delete(contexts.keys().next().value as string);
    contexts.set(id, ctx);
  }
  return ctx;
}

/** AES-128-ECB encryption of whole blocks (no padding). */
export function aesEncryptBlocks(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length % 16 !== 0)
    throw new MaverickError(
      ErrorCode.LorawanMalformed,
      `AES-ECB input must be whole 16-byte blocks, got ${data.length} bytes`,
    );
  return new Uint8Array(contextFor(key).ecb.update(data));
}

/** AES-128-ECB decryption of whole blocks (no padding). */
export function aesDecryptBlocks(key: Uint8Array, data: Uint8Array): Uint8Array {
  const decipher = createDecipheriv('aes-128-ecb', key, null);
  decipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([decipher.update(data), decipher.final()]));
}

/** RFC 4493 §2.3: left shift by one bit, XOR Rb (0x87) when the MSB was set. */
function doubleBlock(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 15; i++) out[i] = ((block[i] << 1) | (block[i + 1] >>> 7)) & 0xff;
  out[15] = (block[15] << 1) & 0xff;
  if (block[0] & 0x80) out[15] ^= 0x87;
  return out;
}

/** AES-CMAC (RFC 4493 §2.4): CBC-MAC over the padded message, last block XOR K1 (complete) or K2 (padded). */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const { ecb, k1, k2 } = contextFor(key);
  const blocks = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const padded = new Uint8Array(blocks * 16);
  padded.set(message);
  if (!complete) padded[message.length] = 0x80;
  const last = (blocks - 1) * 16;
  const subkey = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) padded[last + i] ^= subkey[i];
  let x: Uint8Array = new Uint8Array(16);
  for (let b = 0; b < blocks; b++) {
    const offset = b * 16;
    for (let i = 0; i < 16; i++) x[i] ^= padded[offset + i];
    x = ecb.update(x);
  }
  return new Uint8Array(x);
}

/**
 * The B0 / Ai block prefix shared by MIC and encryption (LoRaWAN 1.0.3 §4.3.3.1,
 * §4.4): first byte, 4 zero bytes, Dir, DevAddr (LE), the full 32-bit FCnt (LE), 0x00, last byte.
 */
function counterBlock(first: number, dir: 0 | 1, devAddrLE: Uint8Array, fCnt32: number, last: number) {
  const block = new Uint8Array(16);
  block[0] = first;
  block[5] = dir;
  block.set(devAddrLE, 6);
  writeUintLE(block, 10, fCnt32 >>> 0, 4);
  block[15] = last;
  return block;
}

/** MIC = cmac(key, B0 | msg)[0..3] (LoRaWAN 1.0.3 §4.4). `msg` is MHDR | FHDR | FPort | FRMPayload. */
export function b0Mic(key: Uint8Array, dir: 0 | 1, devAddrLE: Uint8Array, fCnt32: number, msg: Uint8Array) {
  const input = new Uint8Array(16 + msg.length);
  input.set(counterBlock(0x49, dir, devAddrLE, fCnt32, msg.length & 0xff), 0);
  input.set(msg, 16);
  return aesCmac(key, input).subarray(0, 4);
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
  for (let i = 0; i < blocks; i++) a.set(counterBlock(0x01, dir, devAddrLE, fCnt32, i + 1), i * 16);
  const s = aesEncryptBlocks(key, a);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ s[i];
  return out;
}

/** Constant-time comparison of two MICs. */
export function micEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
