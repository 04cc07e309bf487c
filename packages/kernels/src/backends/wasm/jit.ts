// Compiles element-wise kernel specs to WebAssembly SIMD at run time: an emitter from the parsed
// kernel (spec/, parsed once by defineKernel) to f32x4 code (four elements per step) and f32 code
// (the tail), encoded by encode.ts. Specs that use what f32x4 has no instruction for (sin,
// pow, ..., and log(1 + x), which float32 would round away) or layouts other than "contiguous rows, inputs full or broadcast" return null and run
// as generated JavaScript instead. Arithmetic is float32 per operation (as on a GPU), where the
// JavaScript path computes in float64 and rounds once on store.

import type { ElementwiseSpec } from '../../backend.js';
import type { BroadcastPlan } from '../../codegen.js';
import type { ComparisonOperator, KernelAst, KernelExpr, MathFunction } from '../../spec/ast.js';
import { parsedKernel } from '../../spec/define.js';
import type { FloatOp } from './encode.js';
import { CodeWriter, encodeModule, F32Op, F32X4Op, FcOp, Op, SimdOp, ValType } from './encode.js';

/** A spec the JIT does not handle; the caller falls back to JavaScript. */
class Unsupported extends Error {}

const CMP: Readonly<Record<ComparisonOperator, FloatOp>> = {
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
};
const ARITH: Readonly<Record<string, FloatOp>> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' };
const UNARY_FN: Partial<Readonly<Record<MathFunction, FloatOp>>> = {
  abs: 'abs',
  sqrt: 'sqrt',
  floor: 'floor',
  ceil: 'ceil',
  trunc: 'trunc',
};

/** 'f': a float (f32 or f32x4); 'm': a condition (i32 0/1, or v128 lanes of all ones / zeros). */
type Kind = 'f' | 'm';

/** Where the emitter finds the kernel's names: inputs, parameters and temporaries by local index. */
interface Scope {
  readonly inputs: readonly number[];
  readonly params: readonly number[];
  readonly temps: Map<string, number>;
}

/** Emits the instructions of kernel expressions in vector (f32x4) or scalar (f32) mode. */
class Emitter {
  readonly w = new CodeWriter();
  constructor(
    private readonly vec: boolean,
    private readonly scope: Scope,
    private readonly newLocal: (type: ValType) => number,
  ) {}

  /** A float instruction in the current mode. */
  private fop(name: FloatOp): void {
    if (this.vec) this.w.simd(F32X4Op[name]);
    else this.w.op(F32Op[name]);
  }
  /** `c ? t : f` for t, f, c on the stack (c a condition of the current mode). */
  private select(): void {
    if (this.vec) this.w.simd(SimdOp.v128_bitselect);
    else this.w.op(Op.select);
  }
  private num(v: number): void {
    if (this.vec) this.w.f32x4Const(v);
    else this.w.f32Const(v);
  }
  private floatType(): ValType {
    return this.vec ? ValType.v128 : ValType.f32;
  }

  /** Emits `n`, leaving its value on the stack, and returns its kind. */
  emit(n: KernelExpr): Kind {
    switch (n.kind) {
      case 'num':
        this.num(n.value);
        return 'f';
      case 'input':
        this.w.localGet(this.scope.inputs[n.index]);
        return 'f';
      case 'param':
        this.w.localGet(this.scope.params[n.index]);
        return 'f';
      case 'temp': {
        const local = this.scope.temps.get(n.name);
        if (local === undefined) throw new Error(`internal: temporary ${n.name} has no local`);
        this.w.localGet(local);
        return 'f';
      }
      case 'neg':
        this.float(n.arg);
        this.fop('neg');
        return 'f';
      case 'not':
        this.mask(n.arg);
        if (this.vec) this.w.simd(SimdOp.v128_not);
        else this.w.op(Op.i32_eqz);
        return 'm';
      case 'arith':
        this.float(n.left);
        this.float(n.right);
        this.fop(ARITH[n.op]);
        return 'f';
      case 'compare':
        this.float(n.left);
        this.float(n.right);
        this.fop(CMP[n.op]);
        return 'm';
      case 'logical':
        this.mask(n.left);
        this.mask(n.right);
        if (this.vec) this.w.simd(n.op === '&&' ? SimdOp.v128_and : SimdOp.v128_or);
        else this.w.op(n.op === '&&' ? Op.i32_and : Op.i32_or);
        return 'm';
      case 'cond':
        // Both branches are computed (they are pure), then selected lane by lane.
        this.float(n.then);
        this.float(n.otherwise);
        this.mask(n.test);
        this.select();
        return 'f';
      case 'call':
        return this.call(n.fn, n.args);
    }
  }

  private float(n: KernelExpr): void {
    if (this.emit(n) !== 'f') throw new Error('internal: a condition where the parser checked a number');
  }
  private mask(n: KernelExpr): void {
    if (this.emit(n) !== 'm') throw new Error('internal: a number where the parser checked a condition');
  }

  /** An i32 constant, splatted to four lanes in vector mode. */
  private int(v: number): void {
    this.w.i32Const(v);
    if (this.vec) this.w.simd(SimdOp.i32x4_splat);
  }

  /**
   * e^x for the value on the stack, float32 to about 1 ulp (Cephes' expf): x = n ln 2 + r with
   * |r| <= ln 2 / 2 (ln 2 split in two constants), a degree-6 polynomial for e^r, then times
   * 2^(n >> 1) and 2^(n - (n >> 1)), each built in the exponent bits, so that results down in the
   * denormals and up to overflow round as one multiplication would. x is clamped to [-104, 89]
   * first (beyond it the result is 0 or +Infinity anyway); NaN stays NaN.
   */
  private exp(): void {
    const F = this.floatType();
    const I = this.vec ? ValType.v128 : ValType.i32;
    const x = this.newLocal(F);
    const n = this.newLocal(F);
    const r = this.newLocal(F);
    const ni = this.newLocal(I);
    const n1 = this.newLocal(I);
    const w = this.w;
    this.num(-104.0);
    this.fop('max');
    this.num(89.0);
    this.fop('min');
    w.localSet(x);
    w.localGet(x);
    this.num(Math.LOG2E);
    this.fop('mul');
    this.fop('nearest');
    w.localSet(n);
    w.localGet(x);
    w.localGet(n);
    this.num(0.693359375);
    this.fop('mul');
    this.fop('sub');
    w.localGet(n);
    this.num(-2.1219444e-4);
    this.fop('mul');
    this.fop('sub');
    w.localSet(r);
    this.num(1.98756915e-4);
    for (const c of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) {
      w.localGet(r);
      this.fop('mul');
      this.num(c);
      this.fop('add');
    }
    w.localGet(r);
    this.fop('mul');
    w.localGet(r);
    this.fop('mul');
    w.localGet(r);
    this.fop('add');
    this.num(1);
    this.fop('add');
    // n as an integer, and its two halves n1 = n >> 1, n2 = n - n1
    w.localGet(n);
    if (this.vec) w.simd(SimdOp.i32x4_trunc_sat_f32x4_s);
    else w.fc(FcOp.i32_trunc_sat_f32_s);
    w.localSet(ni);
    w.localGet(ni);
    w.i32Const(1); // the shift count is an i32 in both modes
    if (this.vec) w.simd(SimdOp.i32x4_shr_s);
    else w.op(Op.i32_shr_s);
    w.localSet(n1);
    w.localGet(n1);
    this.pow2();
    this.fop('mul');
    w.localGet(ni);
    w.localGet(n1);
    if (this.vec) w.simd(SimdOp.i32x4_sub);
    else w.op(Op.i32_sub);
    this.pow2();
    this.fop('mul');
  }

  /**
   * ln x for the value on the stack, float32 within 1 ulp of `Math.fround(Math.log(x))` on a
   * sample of every 997th bit pattern (Cephes' logf): subnormals scaled by 2^23 first, x = 2^e m
   * from the bits with m in [sqrt(1/2), sqrt(2)), then m - 1 + a degree-9 polynomial and e ln 2
   * (ln 2 split in two constants). Special values as `Math.log`: log(±0) = -Infinity, log(x < 0)
   * = NaN, log(+Infinity) = +Infinity, NaN stays NaN.
   */
  private log(): void {
    const F = this.floatType();
    const I = this.vec ? ValType.v128 : ValType.i32;
    const w = this.w;
    const vec = this.vec;
    const x0 = this.newLocal(F);
    const small = this.newLocal(I);
    const bits = this.newLocal(I);
    const e = this.newLocal(F);
    const m = this.newLocal(F);
    const lt = this.newLocal(I);
    const z = this.newLocal(F);
    const r = this.newLocal(F);
    const iop = (v: number, s: number) => (vec ? w.simd(v) : w.op(s));
    w.localSet(x0);
    // subnormals: x 2^23, and 23 off the exponent
    w.localGet(x0);
    this.num(1.1754943508222875e-38);
    this.fop('lt');
    w.localSet(small);
    w.localGet(x0);
    this.num(8388608);
    this.fop('mul');
    w.localGet(x0);
    w.localGet(small);
    this.select();
    if (!vec) w.op(Op.i32_reinterpret_f32);
    w.localSet(bits);
    // e = (bits >> 23) - 126 - (small ? 23 : 0)
    w.localGet(bits);
    w.i32Const(23);
    iop(SimdOp.i32x4_shr_u, Op.i32_shr_u);
    iop(SimdOp.f32x4_convert_i32x4_s, Op.f32_convert_i32_s);
    this.num(149);
    this.num(126);
    w.localGet(small);
    this.select();
    this.fop('sub');
    w.localSet(e);
    // m = mantissa with exponent -1: [0.5, 1)
    w.localGet(bits);
    this.int(0x007fffff);
    iop(SimdOp.v128_and, Op.i32_and);
    this.int(0x3f000000);
    iop(SimdOp.v128_or, Op.i32_or);
    if (!vec) w.op(Op.f32_reinterpret_i32);
    w.localSet(m);
    w.localGet(m);
    this.num(Math.SQRT1_2); // sqrt(1/2), Cephes logf's split point
    this.fop('lt');
    w.localSet(lt);
    // e -= 1 and m = 2m - 1 below sqrt(1/2), else m = m - 1
    w.localGet(e);
    this.num(1);
    this.fop('sub');
    w.localGet(e);
    w.localGet(lt);
    this.select();
    w.localSet(e);
    w.localGet(m);
    w.localGet(m);
    this.fop('add');
    w.localGet(m);
    w.localGet(lt);
    this.select();
    this.num(1);
    this.fop('sub');
    w.localSet(m);
    w.localGet(m);
    w.localGet(m);
    this.fop('mul');
    w.localSet(z);
    this.num(7.0376836292e-2);
    for (const c of [
      -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1,
      -2.4999993993e-1, 3.3333331174e-1,
    ]) {
      w.localGet(m);
      this.fop('mul');
      this.num(c);
      this.fop('add');
    }
    w.localGet(m);
    this.fop('mul');
    w.localGet(z);
    this.fop('mul');
    w.localGet(e);
    this.num(-2.1219444e-4);
    this.fop('mul');
    this.fop('add');
    w.localGet(z);
    this.num(-0.5);
    this.fop('mul');
    this.fop('add');
    w.localGet(m);
    this.fop('add');
    w.localGet(e);
    this.num(0.693359375);
    this.fop('mul');
    this.fop('add');
    w.localSet(r);
    // +Infinity and NaN give themselves, x < 0 NaN, ±0 -Infinity
    w.localGet(r);
    w.localGet(x0);
    w.localGet(x0);
    this.num(Number.POSITIVE_INFINITY);
    this.fop('lt');
    this.select();
    w.localSet(r);
    this.num(Number.NaN);
    w.localGet(r);
    w.localGet(x0);
    this.num(0);
    this.fop('lt');
    this.select();
    w.localSet(r);
    this.num(Number.NEGATIVE_INFINITY);
    w.localGet(r);
    w.localGet(x0);
    this.num(0);
    this.fop('eq');
    this.select();
  }

  /** 2^k as a float, for the integer k on the stack (-126 <= k <= 127): exponent bits k + 127. */
  private pow2(): void {
    const w = this.w;
    this.int(127);
    if (this.vec) w.simd(SimdOp.i32x4_add);
    else w.op(Op.i32_add);
    w.i32Const(23);
    if (this.vec) {
      w.simd(SimdOp.i32x4_shl); // the lanes are read as f32x4 as they are
    } else {
      w.op(Op.i32_shl);
      w.op(Op.f32_reinterpret_i32);
    }
  }

  private call(fn: MathFunction, args: readonly KernelExpr[]): Kind {
    const simple = UNARY_FN[fn];
    if (simple !== undefined) {
      this.float(args[0]);
      this.fop(simple);
      return 'f';
    }
    switch (fn) {
      case 'fround': // every value is a float32 already
        this.float(args[0]);
        return 'f';
      case 'max':
      case 'min':
        this.float(args[0]);
        this.float(args[1]);
        this.fop(fn);
        return 'f';
      case 'exp':
        this.float(args[0]);
        this.exp();
        return 'f';
      case 'log': {
        // log(1 + x) (softplus and the like) stays in JavaScript: in float32, 1 + x drops x below
        // 2^-24 where the float64 path keeps it
        const a = args[0];
        if (
          a.kind === 'arith' &&
          a.op === '+' &&
          [a.left, a.right].some((t) => t.kind === 'num' && t.value === 1)
        )
          throw new Unsupported('Math.log(1 + x)');
        this.float(a);
        this.log();
        return 'f';
      }
      case 'sign': {
        // x > 0 ? 1 : (x < 0 ? -1 : x): keeps NaN, 0 and -0 as Math.sign does.
        const t = this.newLocal(this.floatType());
        this.float(args[0]);
        this.w.localSet(t);
        this.num(1);
        this.num(-1);
        this.w.localGet(t);
        this.w.localGet(t);
        this.num(0);
        this.fop('lt');
        this.select();
        this.w.localGet(t);
        this.num(0);
        this.fop('gt');
        this.select();
        return 'f';
      }
      default:
        throw new Unsupported(`Math.${fn}`);
    }
  }
}

/** The loop shape a compiled kernel runs: `outer` rows of `inner` elements. */
interface Layout {
  readonly outer: number;
  readonly inner: number;
  /** Per input: element stride between rows, and along a row (0 or 1). */
  readonly rowStride: readonly number[];
  readonly colStride: readonly number[];
}

function layoutOf(plan: BroadcastPlan): Layout | null {
  const r = plan.dims.length;
  if (r > 2) return null;
  const outer = r === 2 ? plan.dims[0] : 1;
  const inner = plan.dims[r - 1];
  const rowStride = plan.strides.map((s) => (r === 2 ? s[0] : 0));
  const colStride = plan.strides.map((s) => s[r - 1]);
  if (colStride.some((s) => s !== 0 && s !== 1)) return null;
  return { outer, inner, rowStride, colStride };
}

/**
 * The WebAssembly module of one element-wise kernel for one layout, or `null` when the spec or the
 * layout is outside what the JIT compiles (it then runs as JavaScript). The module imports `env.memory` (shared or not) and
 * exports `k(out, in0, ..., p0, ...)`: byte addresses, then float32 parameters.
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
export function compileElementwise(
  spec: ElementwiseSpec,
  plan: BroadcastPlan,
  shared: boolean,
): Uint8Array<ArrayBuffer> | null {
  const { ast } = parsedKernel(spec); // validates a spec not made by defineKernel
  const layout = layoutOf(plan);
  if (!layout) return null;
  try {
    return buildModule(spec, ast.lets, [ast.result], layout, shared);
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

/**
 * The module of several specs that share their arity, parameters and `stmts` (see
 * `Device.mapMulti`): the temporaries once per element, then one store per spec. It exports
 * `k(out0, ..., outN-1, in0, ..., p0, ...)`. `null` as for {@link compileElementwise}, and when
 * the specs' `stmts` differ.
 */
export function compileElementwiseMulti(
  specs: readonly ElementwiseSpec[],
  plan: BroadcastPlan,
  shared: boolean,
): Uint8Array<ArrayBuffer> | null {
  const asts = specs.map((s) => parsedKernel(s).ast);
  if (!specs.every((s) => s.stmts === specs[0].stmts)) return null;
  const layout = layoutOf(plan);
  if (!layout) return null;
  try {
    return buildModule(
      specs[0],
      asts[0].lets,
      asts.map((a) => a.result),
      layout,
      shared,
    );
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

/**
 * The function: for each of `outer` rows, a vector loop over the first `inner - inner % 4`
 * elements and a scalar loop over the rest, each step loading the inputs, computing the
 * temporaries and the result, and storing it.
 */
function buildModule(
  spec: ElementwiseSpec,
  lets: KernelAst['lets'],
  results: readonly KernelExpr[],
  L: Layout,
  shared: boolean,
): Uint8Array<ArrayBuffer> {
  const A = spec.arity;
  const P = spec.params;
  const N = results.length;
  // The function's parameters are locals 0..N-1 (outputs), N..N+A-1 (inputs), N+A.. (scalar
  // parameters); the declared locals follow.
  const params: ValType[] = [
    ...Array<ValType>(N).fill(ValType.i32),
    ...Array<ValType>(A).fill(ValType.i32),
    ...Array<ValType>(P).fill(ValType.f32),
  ];
  const locals: ValType[] = [];
  const newLocal = (type: ValType): number => {
    locals.push(type);
    return params.length + locals.length - 1;
  };
  const o = newLocal(ValType.i32);
  const i = newLocal(ValType.i32);
  // byte offset of the current element in every output
  const outp = newLocal(ValType.i32);
  const rows = Array.from({ length: A }, () => newLocal(ValType.i32));
  const pvec = Array.from({ length: P }, () => newLocal(ValType.v128));
  const vecIn = Array.from({ length: A }, () => newLocal(ValType.v128));
  const scaIn = Array.from({ length: A }, () => newLocal(ValType.f32));
  const w = new CodeWriter();

  /** One step (4 lanes or 1): loads, temporaries, result stored at outp, then outp and i advance. */
  const step = (vec: boolean): void => {
    for (let k = 0; k < A; k++) {
      // address = row_k + i * 4 * colStride_k
      w.localGet(rows[k]);
      if (L.colStride[k] === 1) {
        w.localGet(i);
        w.i32Const(2);
        w.op(Op.i32_shl);
        w.op(Op.i32_add);
      }
      if (vec) {
        const full = L.colStride[k] === 1;
        w.memory(full ? SimdOp.v128_load : SimdOp.v128_load32_splat, full ? 4 : 2, true);
      } else {
        w.memory(Op.f32_load, 2);
      }
      w.localSet(vec ? vecIn[k] : scaIn[k]);
    }
    const scope: Scope = {
      inputs: vec ? vecIn : scaIn,
      params: vec ? pvec : Array.from({ length: P }, (_, q) => N + A + q),
      temps: new Map(),
    };
    const em = new Emitter(vec, scope, newLocal);
    for (const { name, value } of lets) {
      em.emit(value);
      const local = newLocal(vec ? ValType.v128 : ValType.f32);
      em.w.localSet(local);
      scope.temps.set(name, local);
    }
    w.code.push(...em.w.code);
    em.w.code.length = 0;
    results.forEach((result, k) => {
      // address = out_k + outp
      w.localGet(k);
      w.localGet(outp);
      w.op(Op.i32_add);
      em.emit(result);
      w.code.push(...em.w.code);
      em.w.code.length = 0;
      if (vec) w.memory(SimdOp.v128_store, 4, true);
      else w.memory(Op.f32_store, 2);
    });
    // outp += 16 or 4 bytes; i += 4 or 1
    w.localGet(outp);
    w.i32Const(vec ? 16 : 4);
    w.op(Op.i32_add);
    w.localSet(outp);
    w.localGet(i);
    w.i32Const(vec ? 4 : 1);
    w.op(Op.i32_add);
    w.localSet(i);
  };

  for (let q = 0; q < P; q++) {
    w.localGet(N + A + q);
    w.simd(SimdOp.f32x4_splat);
    w.localSet(pvec[q]);
  }
  w.i32Const(0);
  w.localSet(outp);
  w.i32Const(0);
  w.localSet(o);
  const inner4 = L.inner - (L.inner % 4);
  w.loop(); // rows
  for (let k = 0; k < A; k++) {
    // row_k = in_k + o * 4 * rowStride_k
    w.localGet(N + k);
    if (L.rowStride[k] !== 0) {
      w.localGet(o);
      w.i32Const(4 * L.rowStride[k]);
      w.op(Op.i32_mul);
      w.op(Op.i32_add);
    }
    w.localSet(rows[k]);
  }
  w.i32Const(0);
  w.localSet(i);
  if (inner4 > 0) {
    w.loop(); // four lanes at a time
    step(true);
    w.localGet(i);
    w.i32Const(inner4);
    w.op(Op.i32_lt_u);
    w.brIf(0);
    w.end();
  }
  if (inner4 < L.inner) {
    w.loop(); // the scalar tail
    step(false);
    w.localGet(i);
    w.i32Const(L.inner);
    w.op(Op.i32_lt_u);
    w.brIf(0);
    w.end();
  }
  w.localGet(o);
  w.i32Const(1);
  w.op(Op.i32_add);
  w.localTee(o);
  w.i32Const(L.outer);
  w.op(Op.i32_lt_u);
  w.brIf(0); // next row
  w.end();
  return encodeModule({ params, locals, body: w.code, exportName: 'k', shared });
}
