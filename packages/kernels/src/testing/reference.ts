// Float64 reference implementations for the kernel tests, written independently of the kernels.
import type { ActivationGradOp, BinaryOp, ScalarOp, UnaryOp } from '../elementwise.js';
import { PORTABLE_MATH } from '../gl/glsl-math.js';

/** erf in float64: Taylor series below 2.5, Laplace continued fraction for erfc above. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/**
 * Deterministic pseudo-random numbers in [-scale, scale) from a linear congruential generator
 * (the float64 values; uploading them rounds to float32).
 */
export function lcgValues(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(((s / 2 ** 32) * 2 - 1) * scale);
  }
  return out;
}

/** The IEEE-754 bit patterns of float32 values, for bit-for-bit comparisons (NaN payloads included). */
export const float32Bits = (x: Float32Array): number[] =>
  Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

/** Deterministic pseudo-random test data in [lo, hi). */
export function testData(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

export function stridesOf64(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Broadcasts `x` (shape `xs`) to `out` by explicit multi-index arithmetic. */
export function broadcastTo64(x: ArrayLike<number>, xs: readonly number[], out: readonly number[]): number[] {
  const n = out.reduce((p, d) => p * d, 1);
  const os = stridesOf64(out);
  const pad = [...new Array(out.length - xs.length).fill(1), ...xs];
  const ps = stridesOf64(pad);
  const res: number[] = [];
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < out.length; d++) {
      const c = Math.floor(i / os[d]) % out[d];
      off += (pad[d] === 1 ? 0 : c) * ps[d];
    }
    res.push(x[off]);
  }
  return res;
}

/**
 * `op(A) * op(B)` in float64 for row-major A (`m x k`, or `k x m` with `tA`) and B (`k x n`, or
 * `n x k` with `tB`): `out`, and `bound` = sum |a b| per element (the scale of rounding errors).
 */
export function matmul64(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
): { out: number[]; bound: number[] } {
  const out: number[] = [];
  const bound: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const av = tA ? a[p * m + i] : a[i * k + p];
        const bv = tB ? b[j * k + p] : b[p * n + j];
        s += av * bv;
        abs += Math.abs(av * bv);
      }
      out.push(s);
      bound.push(abs);
    }
  }
  return { out, bound };
}

/**
 * A reduction over `axes` of a row-major `x` in float64, the kept axes in order: sum, mean, prod,
 * max, min (NaN anywhere gives NaN), argmax/argmin (the first extreme; the first NaN where there
 * is one, as PyTorch), logsumexp (the max itself when it is not finite).
 */
export function reduce64(
  op: 'sum' | 'mean' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'logsumexp',
  x: ArrayLike<number>,
  shape: readonly number[],
  axes: readonly number[],
): number[] {
  const st = stridesOf64(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outN = kept.reduce((p, d) => p * shape[d], 1);
  const groups: number[][] = Array.from({ length: outN }, () => []);
  for (let f = 0; f < x.length; f++) {
    let o = 0;
    for (const d of kept) o = o * shape[d] + (Math.floor(f / st[d]) % shape[d]);
    groups[o].push(x[f]);
  }
  const extreme = (g: number[], better: (a: number, b: number) => boolean): number => {
    let bi = 0;
    for (let i = 0; i < g.length; i++) {
      if (Number.isNaN(g[i])) return i;
      if (better(g[i], g[bi])) bi = i;
    }
    return bi;
  };
  return groups.map((g) => {
    switch (op) {
      case 'sum':
        return g.reduce((p, v) => p + v, 0);
      case 'mean':
        return g.reduce((p, v) => p + v, 0) / g.length;
      case 'prod':
        return g.reduce((p, v) => p * v, 1);
      case 'max':
        return Math.max(...g);
      case 'min':
        return Math.min(...g);
      case 'argmax':
        return extreme(g, (a, b) => a > b);
      case 'argmin':
        return extreme(g, (a, b) => a < b);
      default: {
        // logsumexp
        const m = Math.max(...g);
        if (!Number.isFinite(m)) return m;
        return m + Math.log(g.reduce((p, v) => p + Math.exp(v - m), 0));
      }
    }
  });
}

/** Asserts |got - want| <= atol + rtol |want| element-wise; NaN must match NaN. */
export function closeTo(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) return `[${i}]: got ${g}, want NaN`;
      continue;
    }
    if (!Number.isFinite(w)) {
      if (g !== w) return `[${i}]: got ${g}, want ${w}`;
      continue;
    }
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w)))
      return `[${i}]: got ${g}, want ${w} (atol ${atol}, rtol ${rtol})`;
  }
  return null;
}

// ------------------------------------------------------------------------------------------------
// float64 references of the element-wise tables (UNARY, SCALAR, BINARY, ACTIVATION_GRAD), shared by
// device.test.ts (every backend through Device) and gl/backend.test.ts (the gl backend directly).
// Written from the definitions (PyTorch's), not from the kernels' expressions.

/** A float64 reference of one element-wise op: inputs first, then the scalar parameters. */
export type Ref64 = (...v: number[]) => number;

/** SELU's alpha and scale (Klambauer et al. 2017, as PyTorch). */
export const SELU_ALPHA = 1.6732632423543772;
/** SELU's alpha and scale (Klambauer et al. 2017, as PyTorch). */
export const SELU_SCALE = 1.0507009873554805;

/** The logistic sigmoid in float64. */
export const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x));
/** sqrt(2/pi), the constant of GELU's tanh form. */
const GELU_K = Math.sqrt(2 / Math.PI);
/** The standard normal density in float64. */
const phi64 = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/** `UNARY` ops: `f(x)`. */
export const UNARY_REF: Record<UnaryOp, Ref64> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign, // sign(NaN) is NaN, as PyTorch
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  floor: Math.floor,
  ceil: Math.ceil,
  sin: Math.sin,
  cos: Math.cos,
  relu: (x) => Math.max(x, 0), // relu(NaN) is NaN, as Math.max gives
  sigmoid: sigmoid64,
  tanh: Math.tanh,
  gelu: (x) => 0.5 * x * (1 + erf64(x / Math.SQRT2)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x ** 3))),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  erf: erf64,
  logicalNot: (x) => (x === 0 ? 1 : 0),
  isFinite: (x) => (Number.isFinite(x) ? 1 : 0),
  identity: (x) => x,
};

/** `SCALAR` ops: `f(x, p0, p1)`. */
export const SCALAR_REF: Record<ScalarOp, Ref64> = {
  addScalar: (x, p) => x + p,
  mulScalar: (x, p) => x * p,
  powScalar: (x, p) => x ** p,
  clamp: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
  leakyRelu: (x, p) => (x > 0 ? x : p * x),
  affine: (x, p, q) => p * x + q,
};

/** `BINARY` ops: `f(a, b)` (already broadcast). */
export const BINARY_REF: Record<BinaryOp, Ref64> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: Math.max,
  minimum: Math.min,
  equal: (a, b) => (a === b ? 1 : 0),
  notEqual: (a, b) => (a !== b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  squaredDifference: (a, b) => (a - b) * (a - b),
};

/**
 * `ACTIVATION_GRAD` ops: `dy * f'(x)` as `f(x, dy, p0)`; sigmoidGrad and tanhGrad take the forward
 * output `y` for `x`, leakyReluGrad its negative slope as `p0`.
 */
export const GRAD_REF: Record<ActivationGradOp, Ref64> = {
  reluGrad: (x, dy) => (x > 0 ? dy : 0),
  sigmoidGrad: (y, dy) => dy * y * (1 - y),
  tanhGrad: (y, dy) => dy * (1 - y * y),
  geluGrad: (x, dy) => dy * (0.5 * (1 + erf64(x / Math.SQRT2)) + x * phi64(x)),
  geluTanhGrad: (x, dy) => {
    // PyTorch's GeluBackward formula for approximate='tanh', in float64
    const th = Math.tanh(GELU_K * (x + 0.044715 * x ** 3));
    return dy * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_K * (1 + 3 * 0.044715 * x * x));
  },
  seluGrad: (x, dy) => dy * SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x)),
  softplusGrad: (x, dy) => (x > 20 ? dy : dy * sigmoid64(x)),
  eluGrad: (x, dy) => dy * (x > 0 ? 1 : Math.exp(x)),
  leakyReluGrad: (x, dy, p) => (x > 0 ? dy : p * dy),
};

/**
 * gpu.js kernel text as a JavaScript function, to run it without a GPU: the calls of the gl
 * backend's GLSL math functions that kernel-language text gets in gpu.js sources (`gk_floor(`,
 * `gk_exp(`, ...: see `portableKernelText`) call JavaScript's `Math` function of the same name.
 */
export function kernelTextFunction<K>(source: string): K {
  const entries = Object.entries(PORTABLE_MATH);
  const math = Math as unknown as Record<string, unknown>;
  // evaluating generated kernel text is the point of the tests that call this
  return new Function(...entries.map(([, m]) => m.glsl), `return (${source});`)(
    ...entries.map(([fn]) => math[fn]),
  ) as K;
}

/** A gpu.js kernel as JavaScript: `this.thread.x` is the output position. */
type ThreadKernel = (this: { thread: { x: number } }, ...args: (Float32Array | number)[]) => number;

/**
 * Runs gpu.js kernel text (see {@link kernelTextFunction}) as JavaScript once per output position
 * `0..outputs-1`, as gpu.js runs it once per thread, and returns the outputs in float32.
 *
 * @example
 * ```ts
 * runKernelText('function (x) { return x[this.thread.x] * 2; }', 2, [Float32Array.of(1, 2)]); // [2, 4]
 * ```
 */
export function runKernelText(
  source: string,
  outputs: number,
  args: (Float32Array | number)[],
): Float32Array {
  const f = kernelTextFunction<ThreadKernel>(source);
  const out = new Float32Array(outputs);
  for (let x = 0; x < outputs; x++) out[x] = f.call({ thread: { x } }, ...args);
  return out;
}
