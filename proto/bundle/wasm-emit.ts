/**
 * A small WebAssembly binary writer (WebAssembly Core 2.0, §5 binary format) for modules
 * generated from TypeScript in this repository: no toolchain and no prebuilt binary, the
 * module's bytes are the output of code that can be read and reviewed here. It knows only
 * what sha256-lanes.ts uses: one exported memory, functions over i32 and v128 locals,
 * structured control flow, the integer and SIMD instructions named below.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;
type ValueType = typeof I32 | typeof V128;

/** Unsigned LEB128 (§5.2.2). */
function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
}

/** Signed LEB128 of a 32-bit integer (§5.2.2). */
function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** A function body being written: declare locals, then emit instructions in order. */
export class FunctionBody {
  readonly code: number[] = [];
  private readonly locals: ValueType[] = [];

  constructor(readonly params: ValueType[]) {}

  /** A new local of `type`; its index. */
  local(type: ValueType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(this.code, opcode);
    return this;
  }

  private memarg(align: number, offset: number): this {
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  get(index: number): this {
    this.op(0x20);
    uleb(this.code, index);
    return this;
  }
  set(index: number): this {
    this.op(0x21);
    uleb(this.code, index);
    return this;
  }
  tee(index: number): this {
    this.op(0x22);
    uleb(this.code, index);
    return this;
  }

  // Control (§5.4.1): blocks without results.
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, depth);
  }
  brIf(depth: number): this {
    return this.op(0x0d, depth);
  }
  select(): this {
    return this.op(0x1b);
  }

  // i32 (§5.4.7).
  i32Const(value: number): this {
    this.op(0x41);
    sleb(this.code, value);
    return this;
  }
  i32Load(offset = 0): this {
    return this.op(0x28).memarg(2, offset);
  }
  i32Store(offset = 0): this {
    return this.op(0x36).memarg(2, offset);
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32GeU(): this {
    return this.op(0x4f);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32GtU(): this {
    return this.op(0x4b);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Shl(): this {
    return this.op(0x74);
  }

  /** memory.copy (bulk memory): [dest, src, n] → []. */
  memoryCopy(): this {
    return this.op(0xfc, 10, 0x00, 0x00);
  }

  // SIMD (§5.4.8).
  v128Load(offset = 0): this {
    return this.simd(0x00).memarg(4, offset);
  }
  v128Const(bytes: readonly number[]): this {
    this.simd(0x0c);
    return this.op(...bytes);
  }
  /** i8x16.shuffle of the two vectors on the stack by 16 lane indices (0-15 first, 16-31 second). */
  shuffle(lanes: readonly number[]): this {
    this.simd(0x0d);
    return this.op(...lanes);
  }
  swizzle(): this {
    return this.simd(0x0e);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i32x4ExtractLane(lane: number): this {
    this.simd(0x1b);
    return this.op(lane);
  }
  i32x4ReplaceLane(lane: number): this {
    this.simd(0x1c);
    return this.op(lane);
  }
  i32x4GtS(): this {
    return this.simd(0x3b);
  }
  and(): this {
    return this.simd(0x4e);
  }
  or(): this {
    return this.simd(0x50);
  }
  xor(): this {
    return this.simd(0x51);
  }
  /** v128.bitselect [v1, v2, c] → (v1 & c) | (v2 & ~c). */
  bitselect(): this {
    return this.simd(0x52);
  }
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  i32x4ShrU(): this {
    return this.simd(0xad);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }

  /** The body's bytes: locals grouped by type (§5.5.13), the code, `end`. */
  encode(): number[] {
    const groups: [number, ValueType][] = [];
    for (const type of this.locals) {
      const last = groups.at(-1);
      if (last && last[1] === type) last[0]++;
      else groups.push([1, type]);
    }
    const body: number[] = [];
    uleb(body, groups.length);
    for (const [count, type] of groups) {
      uleb(body, count);
      body.push(type);
    }
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(out, body.length);
    return out.concat(body);
  }
}

function section(id: number, content: number[]): number[] {
  const out = [id];
  uleb(out, content.length);
  return out.concat(content);
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  const out: number[] = [];
  uleb(out, bytes.length);
  return out.concat(bytes);
}

/**
 * A module of `functions` (each exported under its name, no results) and one memory of
 * `pages` 64 KiB pages, growable, exported as "memory".
 */
export function encodeModule(functions: { name: string; body: FunctionBody }[], pages: number): Uint8Array {
  const types: number[] = [];
  uleb(types, functions.length);
  for (const { body } of functions) {
    types.push(0x60);
    uleb(types, body.params.length);
    types.push(...body.params, 0x00);
  }
  const funcs: number[] = [];
  uleb(funcs, functions.length);
  for (let i = 0; i < functions.length; i++) uleb(funcs, i);
  const memory = [0x01, 0x00];
  uleb(memory, pages);
  const exports: number[] = [];
  uleb(exports, functions.length + 1);
  functions.forEach(({ name: n }, i) => {
    exports.push(...name(n), 0x00);
    uleb(exports, i);
  });
  exports.push(...name('memory'), 0x02, 0x00);
  const code: number[] = [];
  uleb(code, functions.length);
  for (const { body } of functions) code.push(...body.encode());
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
