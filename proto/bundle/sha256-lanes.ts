/**
 * SHA-256 over many independent short messages at once, four at a time in the four 32-bit
 * lanes of WebAssembly SIMD: a bundle's proof needs a salt (two compressions), a leaf hash
 * (two or three) and a node hash (two) per record, ~800 compressions a bundle, each the same
 * 64 rounds over a different message. Four lanes run those rounds for four messages with one
 * instruction each; the scalar JavaScript compression (sha256-blocks.ts) runs them one
 * message at a time. The module is generated here by wasm-emit.ts (no toolchain, no binary
 * in the repository) and checked against node:crypto in sha256-lanes.test.ts.
 *
 * `hash(descriptors, count)` takes `count` descriptors of four little-endian u32 each:
 *   [input offset, blocks (≥ 1), midstate offset, output offset]
 * and writes SHA-256's chaining value after `blocks` 64-byte blocks of input, started from the
 * 32-byte midstate (big-endian words, as a digest is written: the IV for a fresh hash), to the
 * output as 32 big-endian bytes. The input must already carry its padding (FIPS 180-4 §5.1.1)
 * for the value to be the message's digest; an unpadded whole block gives a midstate. Outputs
 * are written after every input of the same group of four is read; a caller's outputs must
 * not overlap inputs of later descriptors.
 * `nodes(source, pairs, slots)` copies 64 bytes from `source + 64k` to `slots + 128k + 1` for
 * each k < pairs: the children of Merkle nodes into their padded messages.
 */
import { SHA256_IV, SHA256_K } from './sha256-blocks.js';
import { encodeModule, FunctionBody, I32, V128 } from './wasm-emit.js';

export const DESCRIPTOR_BYTES = 16;
const LANES = 4;

/** Byte indices that reverse each 32-bit word of a vector (i8x16.swizzle): big- ↔ little-endian. */
const BYTE_SWAP = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
/** Interleaves words 0,1 (then 2,3) of two vectors: the first step of a 4×4 transpose. */
const LOW_PAIRS = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const HIGH_PAIRS = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
/** The second step, reversing each word's bytes on the way (message words are big-endian). */
const LOW_HALVES_SWAPPED = [3, 2, 1, 0, 7, 6, 5, 4, 19, 18, 17, 16, 23, 22, 21, 20];
const HIGH_HALVES_SWAPPED = [11, 10, 9, 8, 15, 14, 13, 12, 27, 26, 25, 24, 31, 30, 29, 28];

function splatBytes(word: number): number[] {
  const bytes: number[] = [];
  for (let lane = 0; lane < LANES; lane++)
    bytes.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
  return bytes;
}

/** Locals of the `hash` function: scalars per lane, vectors of four lanes. */
interface HashLocals {
  desc: number;
  count: number;
  end: number;
  d: number;
  b: number;
  maxBlocks: number;
  /** Per lane: input offset, block count, midstate offset, output offset, this block's offset. */
  input: number[];
  blocks: number[];
  from: number[];
  out: number[];
  at: number[];
  state: number[];
  saved: number[];
  /** Message schedule, 16 words kept (W[t] in w[t % 16]). */
  w: number[];
  x: number[];
  y: number[];
  t1: number;
  blocksV: number;
}

function hashLocals(f: FunctionBody): HashLocals {
  const lanes = (type: typeof I32 | typeof V128, n = LANES) => Array.from({ length: n }, () => f.local(type));
  return {
    desc: 0,
    count: 1,
    end: f.local(I32),
    d: f.local(I32),
    b: f.local(I32),
    maxBlocks: f.local(I32),
    input: lanes(I32),
    blocks: lanes(I32),
    from: lanes(I32),
    out: lanes(I32),
    at: lanes(I32),
    state: lanes(V128, 8),
    saved: lanes(V128, 8),
    w: lanes(V128, 16),
    x: lanes(V128),
    y: lanes(V128),
    t1: f.local(V128),
    blocksV: f.local(V128),
  };
}

/** Lane j takes descriptor j of the group; past the last one, the last one again (same output). */
function loadDescriptors(f: FunctionBody, l: HashLocals): void {
  for (let j = 0; j < LANES; j++) {
    const offset = DESCRIPTOR_BYTES * j;
    f.get(l.desc).i32Const(offset).i32Add();
    f.get(l.end).i32Const(DESCRIPTOR_BYTES).i32Sub();
    f.get(l.desc).i32Const(offset).i32Add().get(l.end).i32LtU();
    f.select().set(l.d);
    const fields = [l.input, l.blocks, l.from, l.out];
    for (let k = 0; k < fields.length; k++)
      f.get(l.d)
        .i32Load(4 * k)
        .set(fields[k][j]);
  }
  // Each lane's midstate: eight big-endian words.
  for (let i = 0; i < 8; i++) {
    f.get(l.from[0])
      .i32Load(4 * i)
      .i32x4Splat();
    for (let j = 1; j < LANES; j++)
      f.get(l.from[j])
        .i32Load(4 * i)
        .i32x4ReplaceLane(j);
    f.v128Const(BYTE_SWAP).swizzle().set(l.state[i]);
  }
  f.get(l.blocks[0]).i32x4Splat();
  for (let j = 1; j < LANES; j++) f.get(l.blocks[j]).i32x4ReplaceLane(j);
  f.set(l.blocksV);
  f.get(l.blocks[0]).set(l.maxBlocks);
  for (let j = 1; j < LANES; j++) {
    const n = l.blocks[j];
    f.get(n).get(l.maxBlocks).get(n).get(l.maxBlocks).i32GtU().select().set(l.maxBlocks);
  }
}

/**
 * Message words 0-15 of block b: lane j reads its block min(b, blocks_j - 1) (a lane whose
 * message has ended keeps its state, below), four words at a time, transposed so that vector
 * t holds word t of every lane.
 */
function loadMessage(f: FunctionBody, l: HashLocals): void {
  for (let j = 0; j < LANES; j++) {
    const last = () => f.get(l.blocks[j]).i32Const(1).i32Sub();
    f.get(l.b);
    last();
    f.get(l.b);
    last();
    f.i32LtU().select().i32Const(6).i32Shl().get(l.input[j]).i32Add().set(l.at[j]);
  }
  const [x0, x1, x2, x3] = l.x;
  const [y0, y1, y2, y3] = l.y;
  for (let k = 0; k < 4; k++) {
    for (let j = 0; j < LANES; j++)
      f.get(l.at[j])
        .v128Load(16 * k)
        .set(l.x[j]);
    f.get(x0).get(x1).shuffle(LOW_PAIRS).set(y0);
    f.get(x0).get(x1).shuffle(HIGH_PAIRS).set(y1);
    f.get(x2).get(x3).shuffle(LOW_PAIRS).set(y2);
    f.get(x2).get(x3).shuffle(HIGH_PAIRS).set(y3);
    const words = l.w.slice(4 * k, 4 * k + 4);
    f.get(y0).get(y2).shuffle(LOW_HALVES_SWAPPED).set(words[0]);
    f.get(y0).get(y2).shuffle(HIGH_HALVES_SWAPPED).set(words[1]);
    f.get(y1).get(y3).shuffle(LOW_HALVES_SWAPPED).set(words[2]);
    f.get(y1).get(y3).shuffle(HIGH_HALVES_SWAPPED).set(words[3]);
  }
}

/** The 64 rounds of FIPS 180-4 §6.2.2, unrolled; the working variables rename instead of moving. */
function rounds(f: FunctionBody, l: HashLocals): void {
  const rotr = (v: number, n: number) => {
    f.get(v).i32Const(n).i32x4ShrU();
    f.get(v)
      .i32Const(32 - n)
      .i32x4Shl()
      .or();
  };
  /** rotr(v, r1) ^ rotr(v, r2) ^ (rotr or shr)(v, r3): every Σ and σ of §4.1.2 has this shape. */
  const sigma = (v: number, r1: number, r2: number, r3: number, lastIsShift: boolean) => {
    rotr(v, r1);
    rotr(v, r2);
    f.xor();
    if (lastIsShift) f.get(v).i32Const(r3).i32x4ShrU();
    else rotr(v, r3);
    f.xor();
  };
  const { w, t1 } = l;
  let role = [...l.state];
  for (let t = 0; t < 64; t++) {
    const [a, b, c, d, e, ff, g, h] = role;
    const wt = w[t % 16];
    if (t >= 16) {
      f.get(wt);
      sigma(w[(t + 1) % 16], 7, 18, 3, true);
      f.i32x4Add()
        .get(w[(t + 9) % 16])
        .i32x4Add();
      sigma(w[(t + 14) % 16], 17, 19, 10, true);
      f.i32x4Add().set(wt);
    }
    f.get(h);
    sigma(e, 6, 11, 25, false);
    f.i32x4Add();
    f.get(ff).get(g).get(e).bitselect(); // Ch(e, f, g)
    f.i32x4Add().v128Const(splatBytes(SHA256_K[t])).i32x4Add().get(wt).i32x4Add().set(t1);
    f.get(d).get(t1).i32x4Add().set(d);
    f.get(t1);
    sigma(a, 2, 13, 22, false);
    f.i32x4Add();
    f.get(b).get(a).get(a).get(c).xor().bitselect(); // Maj(a, b, c)
    f.i32x4Add().set(h);
    role = [h, a, b, c, d, e, ff, g];
  }
}

/** The `hash` function: groups of four descriptors, each group's blocks compressed lane-parallel. */
function hashFunction(): FunctionBody {
  const f = new FunctionBody([I32, I32]);
  const l = hashLocals(f);
  f.get(l.desc).get(l.count).i32Const(4).i32Shl().i32Add().set(l.end);
  f.block().loop();
  f.get(l.desc).get(l.end).i32GeU().brIf(1);
  loadDescriptors(f, l);
  f.i32Const(0).set(l.b);
  f.block().loop();
  f.get(l.b).get(l.maxBlocks).i32GeU().brIf(1);
  loadMessage(f, l);
  for (let i = 0; i < 8; i++) f.get(l.state[i]).set(l.saved[i]);
  rounds(f, l);
  // Add the block's input state back; lanes past their last block keep the state they had.
  f.get(l.blocksV).get(l.b).i32x4Splat().i32x4GtS().set(l.t1);
  for (let i = 0; i < 8; i++) {
    const [s, saved] = [l.state[i], l.saved[i]];
    f.get(s).get(saved).i32x4Add().get(saved).get(l.t1).bitselect().set(s);
  }
  f.get(l.b).i32Const(1).i32Add().set(l.b);
  f.br(0).end().end();
  // Digests out: big-endian words, lane j's to its output offset.
  for (let i = 0; i < 8; i++) {
    const s = l.state[i];
    f.get(s).v128Const(BYTE_SWAP).swizzle().set(s);
    for (let j = 0; j < LANES; j++)
      f.get(l.out[j])
        .get(s)
        .i32x4ExtractLane(j)
        .i32Store(4 * i);
  }
  f.get(l.desc)
    .i32Const(LANES * DESCRIPTOR_BYTES)
    .i32Add()
    .set(l.desc);
  f.br(0).end().end();
  return f;
}

/** The `nodes` function: Merkle children copied into their padded node messages. */
function nodesFunction(): FunctionBody {
  const f = new FunctionBody([I32, I32, I32]);
  const [source, pairs, slots] = [0, 1, 2];
  f.block().loop();
  f.get(pairs).i32Eqz().brIf(1);
  f.get(slots).i32Const(1).i32Add().get(source).i32Const(64).memoryCopy();
  f.get(slots).i32Const(128).i32Add().set(slots);
  f.get(source).i32Const(64).i32Add().set(source);
  f.get(pairs).i32Const(1).i32Sub().set(pairs);
  f.br(0).end().end();
  return f;
}

/** The part of the WebAssembly JavaScript API used here (the project's TypeScript libs declare none of it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface Sha256LanesExports {
  memory: WasmMemory;
  hash(descriptors: number, count: number): void;
  nodes(source: number, pairs: number, slots: number): void;
}

/** The module's bytes (deterministic: the same on every call). */
export function sha256LanesModule(): Uint8Array {
  return encodeModule(
    [
      { name: 'hash', body: hashFunction() },
      { name: 'nodes', body: nodesFunction() },
    ],
    1,
  );
}

/**
 * A fresh instance with one page of memory. Throws where the runtime has no WebAssembly SIMD
 * (Node ≥ 16.4 on x86-64 with SSE4.1, or ARMv8, has it).
 */
export function instantiateSha256Lanes(): Sha256LanesExports {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) throw new Error('this JavaScript runtime has no WebAssembly');
  return new api.Instance(new api.Module(sha256LanesModule())).exports as Sha256LanesExports;
}

/** The IV as a midstate: eight big-endian words, what `hash` reads at a midstate offset. */
export function ivBytes(): Uint8Array {
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < SHA256_IV.length; i++) view.setInt32(4 * i, SHA256_IV[i] as number);
  return bytes;
}
