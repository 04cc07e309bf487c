// The WebAssembly binary encoding the element-wise JIT needs: LEB128 integers, named opcodes
// (core, 0xFC-prefixed and SIMD), a code writer and the module layout of one exported function
// that imports `env.memory`. Opcode values are those of the WebAssembly core specification 2.0
// (section 5.4, "Instructions") and its fixed-width SIMD proposal.

/** Value types. */
export const ValType = {
  i32: 0x7f,
  f32: 0x7d,
  v128: 0x7b,
} as const;

/** A value type byte. */
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Core (single-byte) opcodes. */
export const Op = {
  loop: 0x03,
  end: 0x0b,
  br_if: 0x0d,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  f32_load: 0x2a,
  f32_store: 0x38,
  i32_const: 0x41,
  f32_const: 0x43,
  i32_eqz: 0x45,
  i32_lt_u: 0x49,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  f32_convert_i32_s: 0xb2,
  i32_reinterpret_f32: 0xbc,
  f32_reinterpret_i32: 0xbe,
  /** Prefix of the saturating truncations (`0xFC n`). */
  prefix_fc: 0xfc,
  /** Prefix of the SIMD instructions (`0xFD n`, n as unsigned LEB128). */
  prefix_simd: 0xfd,
} as const;

/** The empty block type (a `loop` that takes and leaves nothing). */
export const BLOCK_VOID = 0x40;

/** `0xFC`-prefixed opcodes. */
export const FcOp = {
  i32_trunc_sat_f32_s: 0x00,
} as const;

/** Scalar f32 instructions, by the JIT's operation name (`eq`, `add`, ...): f32 in, f32 or i32 out. */
export const F32Op = {
  eq: 0x5b,
  ne: 0x5c,
  lt: 0x5d,
  gt: 0x5e,
  le: 0x5f,
  ge: 0x60,
  abs: 0x8b,
  neg: 0x8c,
  ceil: 0x8d,
  floor: 0x8e,
  trunc: 0x8f,
  nearest: 0x90,
  sqrt: 0x91,
  add: 0x92,
  sub: 0x93,
  mul: 0x94,
  div: 0x95,
  min: 0x96,
  max: 0x97,
} as const;

/** A float operation the JIT emits in either mode (f32 or f32x4). */
export type FloatOp = keyof typeof F32Op;

/** SIMD opcodes (after the `0xFD` prefix). */
export const SimdOp = {
  v128_load: 0x00,
  v128_load32_splat: 0x09,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i32x4_splat: 0x11,
  f32x4_splat: 0x13,
  f32x4_eq: 0x41,
  f32x4_ne: 0x42,
  f32x4_lt: 0x43,
  f32x4_gt: 0x44,
  f32x4_le: 0x45,
  f32x4_ge: 0x46,
  v128_not: 0x4d,
  v128_and: 0x4e,
  v128_or: 0x50,
  v128_bitselect: 0x52,
  f32x4_ceil: 0x67,
  f32x4_floor: 0x68,
  f32x4_trunc: 0x69,
  f32x4_nearest: 0x6a,
  i32x4_shl: 0xab,
  i32x4_shr_s: 0xac,
  i32x4_shr_u: 0xad,
  i32x4_add: 0xae,
  i32x4_sub: 0xb1,
  f32x4_abs: 0xe0,
  f32x4_neg: 0xe1,
  f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4,
  f32x4_sub: 0xe5,
  f32x4_mul: 0xe6,
  f32x4_div: 0xe7,
  f32x4_min: 0xe8,
  f32x4_max: 0xe9,
  i32x4_trunc_sat_f32x4_s: 0xf8,
  f32x4_convert_i32x4_s: 0xfa,
} as const;

/** The f32x4 instruction of each {@link FloatOp}. */
export const F32X4Op: Readonly<Record<FloatOp, number>> = {
  eq: SimdOp.f32x4_eq,
  ne: SimdOp.f32x4_ne,
  lt: SimdOp.f32x4_lt,
  gt: SimdOp.f32x4_gt,
  le: SimdOp.f32x4_le,
  ge: SimdOp.f32x4_ge,
  abs: SimdOp.f32x4_abs,
  neg: SimdOp.f32x4_neg,
  ceil: SimdOp.f32x4_ceil,
  floor: SimdOp.f32x4_floor,
  trunc: SimdOp.f32x4_trunc,
  nearest: SimdOp.f32x4_nearest,
  sqrt: SimdOp.f32x4_sqrt,
  add: SimdOp.f32x4_add,
  sub: SimdOp.f32x4_sub,
  mul: SimdOp.f32x4_mul,
  div: SimdOp.f32x4_div,
  min: SimdOp.f32x4_min,
  max: SimdOp.f32x4_max,
};

/** Appends `n` (0 <= n < 2^32) as unsigned LEB128. */
export function uleb(n: number, out: number[]): void {
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

/** Appends the 32-bit integer `n` as signed LEB128. */
export function sleb(n: number, out: number[]): void {
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** The four little-endian bytes of `v` as a float32. */
export function f32Bytes(v: number): number[] {
  return Array.from(new Uint8Array(Float32Array.of(v).buffer));
}

/** Appends instructions of one function body, with their immediates encoded. */
export class CodeWriter {
  /** The encoded instructions so far. */
  readonly code: number[] = [];

  /** A core instruction without immediates. */
  op(opcode: number): void {
    this.code.push(opcode);
  }
  /** A SIMD instruction without immediates. */
  simd(opcode: number): void {
    this.code.push(Op.prefix_simd);
    uleb(opcode, this.code);
  }
  /** A `0xFC`-prefixed instruction. */
  fc(opcode: number): void {
    this.code.push(Op.prefix_fc);
    uleb(opcode, this.code);
  }
  localGet(local: number): void {
    this.code.push(Op.local_get);
    uleb(local, this.code);
  }
  localSet(local: number): void {
    this.code.push(Op.local_set);
    uleb(local, this.code);
  }
  localTee(local: number): void {
    this.code.push(Op.local_tee);
    uleb(local, this.code);
  }
  i32Const(v: number): void {
    this.code.push(Op.i32_const);
    sleb(v, this.code);
  }
  f32Const(v: number): void {
    this.code.push(Op.f32_const, ...f32Bytes(v));
  }
  /** `v128.const` with `v` (as float32) in all four lanes. */
  f32x4Const(v: number): void {
    this.simd(SimdOp.v128_const);
    const b = f32Bytes(v);
    this.code.push(...b, ...b, ...b, ...b);
  }
  /** A memory instruction (core or SIMD) with its alignment (log2 bytes) and offset 0. */
  memory(opcode: number, alignLog2: number, simd = false): void {
    if (simd) this.simd(opcode);
    else this.op(opcode);
    uleb(alignLog2, this.code);
    uleb(0, this.code);
  }
  /** `loop` with the empty block type; close it with {@link end}. */
  loop(): void {
    this.code.push(Op.loop, BLOCK_VOID);
  }
  /** `br_if` to the `depth`-th enclosing block (0 = innermost). */
  brIf(depth: number): void {
    this.code.push(Op.br_if);
    uleb(depth, this.code);
  }
  end(): void {
    this.code.push(Op.end);
  }
}

/** Section ids of the module layout below. */
const Section = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;
const FUNC_TYPE = 0x60;
const EXTERNAL_FUNC = 0x00;
const EXTERNAL_MEMORY = 0x02;
const LIMITS_MIN_MAX = 0x01;
const LIMITS_MIN_MAX_SHARED = 0x03;
const MAGIC_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function name(s: string, out: number[]): void {
  uleb(s.length, out);
  for (const ch of s) out.push(ch.charCodeAt(0));
}

/** What {@link encodeModule} lays out. */
export interface FunctionModule {
  /** Parameter types of the one function (its locals 0..n-1). */
  readonly params: readonly ValType[];
  /** Types of its other locals, in order (locals n, n+1, ...). */
  readonly locals: readonly ValType[];
  /** Its instructions, without the final `end`. */
  readonly body: readonly number[];
  /** Its export name. */
  readonly exportName: string;
  /** Import `env.memory` as shared memory (threads) rather than plain. */
  readonly shared: boolean;
}

/**
 * A module with one function `(params) -> ()` exported as `exportName`, importing `env.memory`
 * (1 to 65536 pages, shared or not).
 */
export function encodeModule(f: FunctionModule): Uint8Array<ArrayBuffer> {
  const mod: number[] = [...MAGIC_VERSION];
  const section = (id: number, content: number[]) => {
    mod.push(id);
    uleb(content.length, mod);
    mod.push(...content);
  };
  const type: number[] = [1, FUNC_TYPE];
  uleb(f.params.length, type);
  type.push(...f.params);
  type.push(0); // no results
  section(Section.type, type);
  const imp: number[] = [1];
  name('env', imp);
  name('memory', imp);
  imp.push(EXTERNAL_MEMORY, f.shared ? LIMITS_MIN_MAX_SHARED : LIMITS_MIN_MAX);
  uleb(1, imp);
  uleb(65536, imp);
  section(Section.import, imp);
  section(Section.function, [1, 0]); // one function, of type 0
  const exp: number[] = [1];
  name(f.exportName, exp);
  exp.push(EXTERNAL_FUNC, 0);
  section(Section.export, exp);
  const fn: number[] = [];
  uleb(f.locals.length, fn);
  for (const t of f.locals) fn.push(1, t); // one local of each type, in order
  fn.push(...f.body, Op.end);
  const code: number[] = [1];
  uleb(fn.length, code);
  code.push(...fn);
  section(Section.code, code);
  return Uint8Array.from(mod);
}
