import { afterAll, describe, expect, it } from 'vitest';
import { backendsToTest, createDevice } from './select.js';
import { defineKernel } from './spec/define.js';

// The transcendental Math functions of the kernel language on every backend against float64
// Math (issue 16): GLSL leaves exp/log/pow of special values undefined and gives its builtin
// sin/cos no precision, so the gl backend computes exp, log, log2, pow, sin, cos, tan and sqrt
// with its own GLSL (src/gl/glsl-math.ts); these tests hold every backend to IEEE/JavaScript
// special values (NaN in, NaN out; log(0) = -inf; exp overflow inf; pow as Math.pow) and, for
// finite results, to a few float32 ulp of the correctly rounded value. Each function runs twice:
// on same-length inputs (gl: the backend's own shader) and with a broadcast operand (gl: a
// gpu.js kernel), which must agree bit for bit.

/**
 * Largest error in float32 ulps of the correctly rounded result (measured: see the README's gl
 * section). pow is exp(y log x) in float32: its error grows with |y log x| = |log result| (at most
 * 88.7 for a finite result): held to 4 + 3 |log result| ulp (the rounding of log x, about 1.5 ulp,
 * scaled by |y log x|).
 */
const ULPS: Record<string, number> = {
  exp: 4,
  log: 4,
  log2: 4,
  sin: 4,
  cos: 4,
  tan: 8,
  sqrt: 1,
  pow: 4,
  log10: 4,
  expm1: 4,
  log1p: 4,
  sinh: 4,
  cosh: 4,
  tanh: 4,
  asinh: 4,
  acosh: 4,
  atanh: 4,
  cbrt: 4,
  asin: 4,
  acos: 4,
  atan: 4,
  atan2: 4,
};
/** Results below the smallest normal float32 may be flushed to zero (GPUs flush subnormals). */
const MIN_NORMAL = 2 ** -126;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The spacing of float32 values at |w| (normal range). */
const ulp = (w: number): number => 2 ** (Math.floor(Math.log2(Math.max(Math.abs(w), MIN_NORMAL))) - 23);

const SPECIAL = [
  Number.NaN,
  0,
  -0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e30,
  -1e30,
  3.4e38,
  -3.4e38,
  1,
  -1,
  0.5,
  -0.5,
  2,
  -2,
  3,
  -3,
  8,
  1024,
  1e-30,
  -1e-30,
  88.7,
  -87,
  88.72283935546875,
  100,
  -100,
  1e-3,
];

/** Special values, then random ones in [-6, 6], in [-1e4, 1e4] and log-uniform up to 2^127 (both signs). */
function inputs(): Float32Array {
  const r = rng(7);
  const xs: number[] = [...SPECIAL];
  for (let i = 0; i < 1000; i++) xs.push(-6 + 12 * r());
  for (let i = 0; i < 1000; i++) xs.push(-1e4 + 2e4 * r());
  for (let i = 0; i < 1000; i++) xs.push((r() < 0.5 ? -1 : 1) * 2 ** (-30 + 157 * r()));
  return Float32Array.from(xs);
}

/**
 * {@link inputs}, plus what the functions with a bounded domain or a cancellation near a point need:
 * random values in [-1, 1] (asin, acos, atanh, log1p), in [1, 10] (acosh), log-uniform ones from
 * 2^-30 to 1 (expm1, log1p near 0), and values within 2^-20 of ±1 and 0.
 */
function inputsWide(): Float32Array {
  const r = rng(13);
  const xs: number[] = [...inputs(), 0.625, -0.625, 9.5, -9.5, 44, 45, -45, 89, 89.4, 89.5, 0.3, 4096, 5000];
  for (let i = 0; i < 1000; i++) xs.push(-1 + 2 * r());
  for (let i = 0; i < 500; i++) xs.push(1 + 9 * r());
  for (let i = 0; i < 500; i++) xs.push((r() < 0.5 ? -1 : 1) * 2 ** (-30 * r()));
  for (let i = 0; i < 300; i++) {
    const t = 2 ** (-20 * r());
    xs.push(1 - t * 2 ** -4, -1 + t * 2 ** -4, 1 + t);
  }
  return Float32Array.from(xs);
}

/** The largest error in float32 ulps of finite, normal results (for the README's numbers). */
function maxUlp(fn: string, got: Float32Array, args: Float32Array[]): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const want = Math.fround(MATH[fn](...args.map((a) => a[i])));
    if (!Number.isFinite(want) || Math.abs(want) < MIN_NORMAL * 1.0001 || !Number.isFinite(got[i])) continue;
    worst = Math.max(worst, Math.abs(got[i] - want) / ulp(want));
  }
  return worst;
}

type MathFn = (...v: number[]) => number;
const MATH = Math as unknown as Record<string, MathFn>;

/** The first disagreement of `got` with float64 `fn` on the inputs, or null. */
function check(fn: string, got: Float32Array, args: Float32Array[]): string | null {
  for (let i = 0; i < got.length; i++) {
    const xs = args.map((a) => a[i]);
    const want = Math.fround(MATH[fn](...xs));
    const g = got[i];
    const where = `${fn}(${xs.join(', ')}) = ${g}, want ${want}`;
    if (!Number.isFinite(want) || !Number.isFinite(g) || want === 0) {
      if (!(Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want)))) return where;
      continue;
    }
    // within the error bound of the subnormal range: a GPU may flush the result to zero
    if (Math.abs(want) < MIN_NORMAL * 1.0001) {
      if (!(Math.abs(g - want) <= MIN_NORMAL)) return where;
      continue;
    }
    const allowed = ULPS[fn] + (fn === 'pow' ? 3 * Math.abs(Math.log(Math.abs(want))) : 0);
    if (!(Math.abs(g - want) <= allowed * ulp(want)))
      return `${where} (${Math.abs(g - want) / ulp(want)} ulp)`;
  }
  return null;
}

describe.each(backendsToTest())('Math functions on %s', (name) => {
  const d = createDevice({ backend: name, threads: 1 });
  afterAll(() => d.destroy());
  const zero = new Float32Array([0]);

  const unary = ['exp', 'log', 'log2', 'sin', 'cos', 'tan', 'sqrt'];
  const more = ['log10', 'expm1', 'log1p', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'cbrt'];
  for (const fn of [...unary, ...more, 'asin', 'acos', 'atan']) {
    it(`${fn}: special values exact, finite values within ${ULPS[fn]} ulp, both code paths equal`, () => {
      const x = unary.includes(fn) ? inputs() : inputsWide();
      const same = defineKernel({ name: `test.math.${fn}`, arity: 1, params: 0, expr: `Math.${fn}(a)` });
      const bcast = defineKernel({
        name: `test.math.${fn}.broadcast`,
        arity: 2,
        params: 0,
        expr: `b == 0.0 ? Math.${fn}(a) : 0.0`,
      });
      const got = d.map(same, [d.array(x, [x.length])]).read();
      const got2 = d.map(bcast, [d.array(x, [x.length]), d.array(zero, [1])]).read();
      if (process.env.GRADKIT_MATH_REPORT) console.log(`${name} ${fn}: max ${maxUlp(fn, got, [x])} ulp`);
      expect(check(fn, got, [x])).toBeNull();
      expect(Array.from(got2)).toEqual(Array.from(got));
    });
  }

  it(`atan2: Math.atan2's signed zeros and infinities exact, finite values within ${ULPS.atan2} ulp, both code paths equal`, () => {
    const vals = [...SPECIAL, 0.25, 1.5, -1.5, 4, -4, 10, 0.1];
    const r = rng(17);
    const a: number[] = [];
    const b: number[] = [];
    for (const y of vals)
      for (const x of vals) {
        a.push(y);
        b.push(x);
      }
    for (let i = 0; i < 2000; i++) {
      a.push(-10 + 20 * r());
      b.push(-10 + 20 * r());
    }
    for (let i = 0; i < 1000; i++) {
      a.push((r() < 0.5 ? -1 : 1) * 2 ** (-60 + 120 * r()));
      b.push((r() < 0.5 ? -1 : 1) * 2 ** (-60 + 120 * r()));
    }
    const av = Float32Array.from(a);
    const bv = Float32Array.from(b);
    const same = defineKernel({ name: 'test.math.atan2', arity: 2, params: 0, expr: 'Math.atan2(a, b)' });
    const bcast = defineKernel({
      name: 'test.math.atan2.broadcast',
      arity: 3,
      params: 0,
      expr: 'c == 0.0 ? Math.atan2(a, b) : 0.0',
    });
    const got = d.map(same, [d.array(av, [av.length]), d.array(bv, [bv.length])]).read();
    const got2 = d
      .map(bcast, [d.array(av, [av.length]), d.array(bv, [bv.length]), d.array(zero, [1])])
      .read();
    if (process.env.GRADKIT_MATH_REPORT)
      console.log(`${name} atan2: max ${maxUlp('atan2', got, [av, bv])} ulp`);
    expect(check('atan2', got, [av, bv])).toBeNull();
    expect(Array.from(got2)).toEqual(Array.from(got));
  });

  it(`pow: Math.pow's special cases exact, finite values within 4 + 3 |log result| ulp, both code paths equal`, () => {
    const base = [...SPECIAL, 0.25, 1.5, -1.5, 4, -4, 10, 0.1];
    const expo = [...SPECIAL, 0.25, 1.5, -1.5, 4, -4, 10, 0.1, 127, -126];
    const r = rng(11);
    const a: number[] = [];
    const b: number[] = [];
    for (const x of base)
      for (const y of expo) {
        a.push(x);
        b.push(y);
      }
    for (let i = 0; i < 2000; i++) {
      a.push(8 * r());
      b.push(-20 + 40 * r());
    }
    const av = Float32Array.from(a);
    const bv = Float32Array.from(b);
    const same = defineKernel({ name: 'test.math.pow', arity: 2, params: 0, expr: 'Math.pow(a, b)' });
    const bcast = defineKernel({
      name: 'test.math.pow.broadcast',
      arity: 3,
      params: 0,
      expr: 'c == 0.0 ? Math.pow(a, b) : 0.0',
    });
    const got = d.map(same, [d.array(av, [av.length]), d.array(bv, [bv.length])]).read();
    const got2 = d
      .map(bcast, [d.array(av, [av.length]), d.array(bv, [bv.length]), d.array(zero, [1])])
      .read();
    expect(check('pow', got, [av, bv])).toBeNull();
    expect(Array.from(got2)).toEqual(Array.from(got));
  });
});
