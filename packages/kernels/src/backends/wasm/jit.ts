// Compiles element-wise kernel specs (the JavaScript subset of ElementwiseSpec) to WebAssembly
// SIMD at run time: a small parser, a code generator for f32x4 (four elements per step) and f32
// (the tail), and a binary encoder. Specs that use what f32x4 has no instruction for (exp, log,
// tanh, pow, ...) or layouts other than "contiguous rows, inputs full or broadcast" return null and
// run as generated JavaScript instead. Arithmetic is float32 per operation (as on a GPU), where the
// JavaScript path computes in float64 and rounds once on store.

import type { ElementwiseSpec } from '../../backend.js';
import type { BroadcastPlan } from '../../codegen.js';

type Node =
  | { k: 'num'; v: number }
  | { k: 'var'; name: string }
  | { k: 'un'; op: string; x: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'cond'; c: Node; t: Node; f: Node }
  | { k: 'call'; fn: string; args: Node[] };

/** A spec the JIT does not handle; the caller falls back to JavaScript. */
class Unsupported extends Error {}

const CONSTANTS: Record<string, number> = {
  'Math.PI': Math.PI,
  'Math.E': Math.E,
  'Math.LN2': Math.LN2,
  'Math.LN10': Math.LN10,
  'Math.LOG2E': Math.LOG2E,
  'Math.LOG10E': Math.LOG10E,
  'Math.SQRT2': Math.SQRT2,
  'Math.SQRT1_2': Math.SQRT1_2,
};

const TOKEN =
  /\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)|(===|!==|==|!=|<=|>=|&&|\|\||[-+*/%!?:(),;=<>]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new Unsupported(`cannot read '${src.slice(pos, pos + 10)}'`);
    out.push(m[1] ?? m[2] ?? m[3]);
    pos = TOKEN.lastIndex;
  }
  return out;
}

class Parser {
  private p = 0;
  constructor(private readonly t: string[]) {}
  peek(): string | undefined {
    return this.t[this.p];
  }
  next(): string {
    const s = this.t[this.p++];
    if (s === undefined) throw new Unsupported('unexpected end');
    return s;
  }
  expect(s: string): void {
    if (this.next() !== s) throw new Unsupported(`expected ${s}`);
  }
  done(): boolean {
    return this.p >= this.t.length;
  }
  expr(): Node {
    const c = this.binary(0);
    if (this.peek() !== '?') return c;
    this.next();
    const t = this.expr();
    this.expect(':');
    const f = this.expr();
    return { k: 'cond', c, t, f };
  }
  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['||'],
    ['&&'],
    ['===', '!==', '==', '!='],
    ['<', '<=', '>', '>='],
    ['+', '-'],
    ['*', '/', '%'],
  ];
  private binary(level: number): Node {
    if (level === Parser.LEVELS.length) return this.unary();
    let l = this.binary(level + 1);
    for (;;) {
      const op = this.peek();
      if (op === undefined || !Parser.LEVELS[level].includes(op)) return l;
      this.next();
      l = { k: 'bin', op, l, r: this.binary(level + 1) };
    }
  }
  private unary(): Node {
    const s = this.peek();
    if (s === '-' || s === '+' || s === '!') {
      this.next();
      return { k: 'un', op: s, x: this.unary() };
    }
    return this.primary();
  }
  private primary(): Node {
    const s = this.next();
    if (s === '(') {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (/^[\d.]/.test(s)) return { k: 'num', v: Number(s) };
    if (s in CONSTANTS) return { k: 'num', v: CONSTANTS[s] };
    if (s.startsWith('Math.')) {
      this.expect('(');
      const args: Node[] = [];
      if (this.peek() !== ')') {
        args.push(this.expr());
        while (this.peek() === ',') {
          this.next();
          args.push(this.expr());
        }
      }
      this.expect(')');
      return { k: 'call', fn: s.slice(5), args };
    }
    if (/^[A-Za-z_$]/.test(s)) return { k: 'var', name: s };
    throw new Unsupported(`unexpected '${s}'`);
  }
}

/** Parses `stmts` (only `let`/`const` declarations) and `expr`. */
function parseSpec(spec: ElementwiseSpec): { lets: [string, Node][]; result: Node } {
  const lets: [string, Node][] = [];
  if (spec.stmts) {
    const p = new Parser(tokenize(spec.stmts));
    while (!p.done()) {
      const kw = p.next();
      if (kw !== 'let' && kw !== 'const') throw new Unsupported(`statement '${kw}'`);
      const name = p.next();
      p.expect('=');
      lets.push([name, p.expr()]);
      if (!p.done()) p.expect(';');
    }
  }
  const p = new Parser(tokenize(spec.expr));
  const result = p.expr();
  if (!p.done()) throw new Unsupported('trailing tokens');
  return { lets, result };
}

// ------------------------------------------------------------------------------------------------
// binary encoding

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(n: number, out: number[]): void {
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(n: number, out: number[]): void {
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

const f32Bytes = (v: number): number[] => Array.from(new Uint8Array(Float32Array.of(v).buffer));

const SIMD: Record<string, number> = {
  load: 0x00,
  load32_splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  i32splat: 0x11,
  splat: 0x13,
  eq: 0x41,
  ne: 0x42,
  lt: 0x43,
  gt: 0x44,
  le: 0x45,
  ge: 0x46,
  not: 0x4d,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  ceil: 0x67,
  floor: 0x68,
  trunc: 0x69,
  nearest: 0x6a,
  i32shl: 0xab,
  i32shr_s: 0xac,
  i32add: 0xae,
  i32sub: 0xb1,
  i32trunc: 0xf8,
  abs: 0xe0,
  neg: 0xe1,
  sqrt: 0xe3,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
  min: 0xe8,
  max: 0xe9,
};

const SCALAR: Record<string, number> = {
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
};

const CMP: Record<string, string> = {
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '===': 'eq',
  '==': 'eq',
  '!==': 'ne',
  '!=': 'ne',
};
const ARITH: Record<string, string> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' };
const UNARY_FN: Record<string, string> = {
  abs: 'abs',
  sqrt: 'sqrt',
  floor: 'floor',
  ceil: 'ceil',
  trunc: 'trunc',
};

/** 'f': a float (f32 or f32x4); 'm': a comparison mask (i32 or v128 lanes of all ones / zeros). */
type Kind = 'f' | 'm';

/** Emits one function body in vector (f32x4) or scalar (f32) mode. */
class Emitter {
  readonly code: number[] = [];
  constructor(
    private readonly vec: boolean,
    private readonly vars: Map<string, { local: number; kind: Kind }>,
    private readonly newLocal: (type: number) => number,
  ) {}

  op(...bytes: number[]): void {
    this.code.push(...bytes);
  }
  simd(name: string): void {
    this.code.push(0xfd);
    uleb(SIMD[name], this.code);
  }
  /** A float instruction in the current mode. */
  fop(name: string): void {
    if (this.vec) this.simd(name);
    else this.op(SCALAR[name]);
  }
  get(local: number): void {
    this.op(0x20);
    uleb(local, this.code);
  }
  set(local: number): void {
    this.op(0x21);
    uleb(local, this.code);
  }
  num(v: number): void {
    if (this.vec) {
      this.simd('const');
      const b = f32Bytes(v);
      this.op(...b, ...b, ...b, ...b);
    } else {
      this.op(0x43, ...f32Bytes(v));
    }
  }

  /** Emits `n` and returns its kind. */
  emit(n: Node): Kind {
    switch (n.k) {
      case 'num':
        this.num(n.v);
        return 'f';
      case 'var': {
        const v = this.vars.get(n.name);
        if (!v) throw new Unsupported(`unknown name ${n.name}`);
        this.get(v.local);
        return v.kind;
      }
      case 'un': {
        if (n.op === '+') {
          this.float(n.x);
          return 'f';
        }
        if (n.op === '-') {
          this.float(n.x);
          this.fop('neg');
          return 'f';
        }
        this.mask(n.x);
        if (this.vec) this.simd('not');
        else this.op(0x45); // i32.eqz
        return 'm';
      }
      case 'bin': {
        if (n.op in ARITH) {
          this.float(n.l);
          this.float(n.r);
          this.fop(ARITH[n.op]);
          return 'f';
        }
        if (n.op in CMP) {
          this.float(n.l);
          this.float(n.r);
          this.fop(CMP[n.op]);
          return 'm';
        }
        if (n.op === '&&' || n.op === '||') {
          this.mask(n.l);
          this.mask(n.r);
          if (this.vec) this.simd(n.op === '&&' ? 'and' : 'or');
          else this.op(n.op === '&&' ? 0x71 : 0x72);
          return 'm';
        }
        throw new Unsupported(`operator ${n.op}`);
      }
      case 'cond': {
        // Both branches are computed (they are pure), then selected lane by lane.
        const kt = this.emit(n.t);
        const kf = this.emit(n.f);
        if (kt !== 'f' || kf !== 'f') throw new Unsupported('a ternary must choose between numbers');
        this.mask(n.c);
        if (this.vec) this.simd('bitselect');
        else this.op(0x1b); // select
        return 'f';
      }
      case 'call':
        return this.call(n.fn, n.args);
    }
  }

  private float(n: Node): void {
    if (this.emit(n) !== 'f') throw new Unsupported('a comparison used as a number');
  }

  /** Emits a condition: a mask, or a number's truthiness (not zero and not NaN). */
  private mask(n: Node): void {
    if (this.emit(n) === 'm') return;
    const t = this.newLocal(this.vec ? V128 : F32);
    this.op(0x22); // local.tee
    uleb(t, this.code);
    this.num(0);
    this.fop('ne');
    this.get(t);
    this.get(t);
    this.fop('eq');
    if (this.vec) this.simd('and');
    else this.op(0x71);
  }

  /** An i32 constant splatted to four lanes in vector mode. */
  private int(v: number): void {
    this.op(0x41);
    sleb(v, this.code);
    if (this.vec) this.simd('i32splat');
  }

  /**
   * e^x for the value on the stack, float32 to about 1 ulp (Cephes' expf): x = n ln 2 + r with
   * |r| <= ln 2 / 2 (ln 2 split in two constants), a degree-6 polynomial for e^r, then times
   * 2^(n >> 1) and 2^(n - (n >> 1)), each built in the exponent bits, so that results down in the
   * denormals and up to overflow round as one multiplication would. x is clamped to [-104, 89]
   * first (beyond it the result is 0 or +Infinity anyway); NaN stays NaN.
   */
  private exp(): void {
    const F = this.vec ? V128 : F32;
    const I = this.vec ? V128 : I32;
    const x = this.newLocal(F);
    const n = this.newLocal(F);
    const r = this.newLocal(F);
    const ni = this.newLocal(I);
    const n1 = this.newLocal(I);
    this.num(-104.0);
    this.fop('max');
    this.num(89.0);
    this.fop('min');
    this.set(x);
    this.get(x);
    this.num(Math.LOG2E);
    this.fop('mul');
    this.fop('nearest');
    this.set(n);
    this.get(x);
    this.get(n);
    this.num(0.693359375);
    this.fop('mul');
    this.fop('sub');
    this.get(n);
    this.num(-2.1219444e-4);
    this.fop('mul');
    this.fop('sub');
    this.set(r);
    this.num(1.98756915e-4);
    for (const c of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) {
      this.get(r);
      this.fop('mul');
      this.num(c);
      this.fop('add');
    }
    this.get(r);
    this.fop('mul');
    this.get(r);
    this.fop('mul');
    this.get(r);
    this.fop('add');
    this.num(1);
    this.fop('add');
    // n as an integer, and its two halves n1 = n >> 1, n2 = n - n1
    this.get(n);
    if (this.vec) this.simd('i32trunc');
    else this.op(0xfc, 0x00); // i32.trunc_sat_f32_s
    this.set(ni);
    this.get(ni);
    this.op(0x41, 1);
    if (this.vec) this.simd('i32shr_s');
    else this.op(0x75);
    this.set(n1);
    this.get(n1);
    this.pow2();
    this.fop('mul');
    this.get(ni);
    this.get(n1);
    if (this.vec) this.simd('i32sub');
    else this.op(0x6b);
    this.pow2();
    this.fop('mul');
  }

  /** 2^k as a float, for the integer k on the stack (-126 <= k <= 127): exponent bits k + 127. */
  private pow2(): void {
    this.int(127);
    if (this.vec) this.simd('i32add');
    else this.op(0x6a);
    this.op(0x41, 23); // i32.const 23
    if (this.vec) this.simd('i32shl');
    else this.op(0x74, 0xbe); // i32.shl, f32.reinterpret_i32
  }

  private call(fn: string, args: Node[]): Kind {
    if (fn in UNARY_FN && args.length === 1) {
      this.float(args[0]);
      this.fop(UNARY_FN[fn]);
      return 'f';
    }
    if (fn === 'fround' && args.length === 1) {
      this.float(args[0]);
      return 'f';
    }
    if ((fn === 'max' || fn === 'min') && args.length >= 2) {
      this.float(args[0]);
      for (let i = 1; i < args.length; i++) {
        this.float(args[i]);
        this.fop(fn);
      }
      return 'f';
    }
    if (fn === 'exp' && args.length === 1) {
      this.float(args[0]);
      this.exp();
      return 'f';
    }
    if (fn === 'sign' && args.length === 1) {
      // x > 0 ? 1 : (x < 0 ? -1 : x): keeps NaN, 0 and -0 as Math.sign does.
      const t = this.newLocal(this.vec ? V128 : F32);
      this.float(args[0]);
      this.set(t);
      this.num(1);
      this.num(-1);
      this.get(t);
      this.get(t);
      this.num(0);
      this.fop('lt');
      this.op(...(this.vec ? [0xfd, SIMD.bitselect] : [0x1b]));
      this.get(t);
      this.num(0);
      this.fop('gt');
      this.op(...(this.vec ? [0xfd, SIMD.bitselect] : [0x1b]));
      return 'f';
    }
    throw new Unsupported(`Math.${fn}`);
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
 * layout is outside what the JIT compiles. The module imports `env.memory` (shared or not) and
 * exports `k(out, in0, ..., p0, ...)`: byte addresses, then float32 parameters.
 */
export function compileElementwise(
  spec: ElementwiseSpec,
  plan: BroadcastPlan,
  shared: boolean,
): Uint8Array<ArrayBuffer> | null {
  const layout = layoutOf(plan);
  if (!layout) return null;
  try {
    return buildModule(spec, layout, shared);
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

const INPUTS = ['a', 'b', 'c', 'd', 'e', 'f'];

function buildModule(spec: ElementwiseSpec, L: Layout, shared: boolean): Uint8Array<ArrayBuffer> {
  const { lets, result } = parseSpec(spec);
  const A = spec.arity;
  const P = spec.params;
  // locals: params first (out, inputs, scalar params), then declared ones
  const localTypes: number[] = [];
  const base = 1 + A + P;
  const newLocal = (type: number): number => {
    localTypes.push(type);
    return base + localTypes.length - 1;
  };
  const o = newLocal(I32);
  const i = newLocal(I32);
  const outp = newLocal(I32);
  const rows = INPUTS.slice(0, A).map(() => newLocal(I32));
  const body: number[] = [];
  const put = (...b: number[]) => body.push(...b);
  const get = (l: number) => {
    put(0x20);
    uleb(l, body);
  };
  const set = (l: number) => {
    put(0x21);
    uleb(l, body);
  };
  const i32c = (v: number) => {
    put(0x41);
    sleb(v, body);
  };
  const memarg = (align: number) => {
    uleb(align, body);
    uleb(0, body);
  };

  // vector-mode parameter splats
  const pvec = Array.from({ length: P }, () => newLocal(V128));
  const vecIn = INPUTS.slice(0, A).map(() => newLocal(V128));
  const scaIn = INPUTS.slice(0, A).map(() => newLocal(F32));

  /** The loop body for one step (4 lanes or 1), leaving the value stored at outp. */
  const step = (vec: boolean): void => {
    const vars = new Map<string, { local: number; kind: Kind }>();
    for (let k = 0; k < A; k++) {
      // address = row_k + i * 4 * colStride_k
      get(rows[k]);
      if (L.colStride[k] === 1) {
        get(i);
        i32c(2);
        put(0x74, 0x6a); // i32.shl, i32.add
      }
      if (vec) {
        put(0xfd);
        uleb(L.colStride[k] === 1 ? SIMD.load : SIMD.load32_splat, body);
        memarg(L.colStride[k] === 1 ? 4 : 2);
      } else {
        put(0x2a); // f32.load
        memarg(2);
      }
      set(vec ? vecIn[k] : scaIn[k]);
      vars.set(INPUTS[k], { local: vec ? vecIn[k] : scaIn[k], kind: 'f' });
    }
    for (let q = 0; q < P; q++) vars.set(`p${q}`, { local: vec ? pvec[q] : 1 + A + q, kind: 'f' });
    const em = new Emitter(vec, vars, newLocal);
    for (const [name, node] of lets) {
      const kind = em.emit(node);
      const l = newLocal(vec ? V128 : kind === 'm' ? I32 : F32);
      em.set(l);
      vars.set(name, { local: l, kind });
    }
    get(outp);
    body.push(...em.code);
    em.code.length = 0;
    if (em.emit(result) !== 'f') throw new Unsupported('the result is a comparison');
    body.push(...em.code);
    if (vec) {
      put(0xfd);
      uleb(SIMD.store, body);
      memarg(4);
    } else {
      put(0x38); // f32.store
      memarg(2);
    }
    // outp += 4 lanes or 1; i += 4 or 1
    get(outp);
    i32c(vec ? 16 : 4);
    put(0x6a);
    set(outp);
    get(i);
    i32c(vec ? 4 : 1);
    put(0x6a);
    set(i);
  };

  for (let q = 0; q < P; q++) {
    get(1 + A + q);
    put(0xfd);
    uleb(SIMD.splat, body);
    set(pvec[q]);
  }
  get(0);
  set(outp);
  i32c(0);
  set(o);
  const inner4 = L.inner - (L.inner % 4);
  put(0x03, 0x40); // loop (outer)
  for (let k = 0; k < A; k++) {
    // row_k = in_k + o * 4 * rowStride_k
    get(1 + k);
    if (L.rowStride[k] !== 0) {
      get(o);
      i32c(4 * L.rowStride[k]);
      put(0x6c, 0x6a); // i32.mul, i32.add
    }
    set(rows[k]);
  }
  i32c(0);
  set(i);
  if (inner4 > 0) {
    put(0x03, 0x40); // loop (vector)
    step(true);
    get(i);
    i32c(inner4);
    put(0x49, 0x0d, 0x00); // i32.lt_u, br_if 0
    put(0x0b);
  }
  if (inner4 < L.inner) {
    put(0x03, 0x40); // loop (scalar tail)
    step(false);
    get(i);
    i32c(L.inner);
    put(0x49, 0x0d, 0x00);
    put(0x0b);
  }
  get(o);
  i32c(1);
  put(0x6a);
  put(0x22); // local.tee o
  uleb(o, body);
  i32c(L.outer);
  put(0x49, 0x0d, 0x00); // br_if outer
  put(0x0b); // end loop
  put(0x0b); // end function

  // ---- module
  const mod: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]) => {
    mod.push(id);
    uleb(content.length, mod);
    mod.push(...content);
  };
  const type: number[] = [1, 0x60];
  uleb(1 + A + P, type);
  for (let k = 0; k < 1 + A; k++) type.push(I32);
  for (let q = 0; q < P; q++) type.push(F32);
  type.push(0);
  section(1, type);
  const imp: number[] = [1];
  const str = (s: string, out: number[]) => {
    uleb(s.length, out);
    for (const ch of s) out.push(ch.charCodeAt(0));
  };
  str('env', imp);
  str('memory', imp);
  imp.push(0x02, shared ? 0x03 : 0x01);
  uleb(1, imp);
  uleb(65536, imp);
  section(2, imp);
  section(3, [1, 0]);
  const exp: number[] = [1];
  str('k', exp);
  exp.push(0x00, 0);
  section(7, exp);
  const fn: number[] = [];
  uleb(localTypes.length, fn);
  for (const t of localTypes) fn.push(1, t);
  fn.push(...body);
  const code: number[] = [1];
  uleb(fn.length, code);
  code.push(...fn);
  section(10, code);
  return Uint8Array.from(mod);
}
