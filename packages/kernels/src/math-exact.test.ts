import { afterAll, describe, expect, it } from 'vitest';
import { backendsToTest, createDevice } from './select.js';
import { defineKernel } from './spec/define.js';

// The Math functions of the kernel language whose float32 result is exact (abs, sign, floor, ceil,
// round, trunc, fround, max, min) on every backend against JavaScript's Math applied to the
// float32 inputs (issue 16): bit for bit, signed zeros by Object.is, NaN for NaN. GLSL leaves
// their NaN, signed-zero and large-value behaviour open (its max/min return the other operand of a
// NaN; gpu.js's round is floor(x + 0.5), wrong at 0.49999997 and above 2^23), so the gl backend
// computes them with its own GLSL (src/gl/glsl-math.ts). Each function runs on same-length inputs
// (gl: the backend's own shader) and with a broadcast operand (gl: a gpu.js kernel); both must
// give JavaScript's value. Inputs stay normal: GPUs flush subnormals, so a subnormal input may
// reach the function as 0 (ceil(1e-40) would be 0, not 1).

type MathFn = (...v: number[]) => number;
const MATH = Math as unknown as Record<string, MathFn>;

const UNARY = ['abs', 'sign', 'floor', 'ceil', 'round', 'trunc', 'fround'] as const;
const BINARY = ['max', 'min'] as const;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The float32 next to finite non-zero float32 `x`, away from zero (`up`) or toward it. */
function step(x: number, up: boolean): number {
  F32[0] = x;
  I32[0] += up ? 1 : -1;
  return F32[0];
}

/** The neighbours of `x` in float32 (both directions), for `x` finite and non-zero. */
const around = (x: number): number[] => [step(x, true), Math.fround(x), step(x, false)];

const SPECIAL = [
  Number.NaN,
  0,
  -0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  3.4e38,
  -3.4e38,
  0.5,
  -0.5,
  1.5,
  -1.5,
  2.5,
  -2.5,
  0.49999997,
  -0.49999997,
  0.50000006,
  -0.50000006,
  2 ** 23 - 0.5,
  -(2 ** 23 - 0.5),
  2 ** 22 + 0.5,
  -(2 ** 22 + 0.5),
  8388609,
  -8388609,
  2 ** 24 + 2,
  1e20,
  -1e20,
  1e-30,
  -1e-30,
  -0.4,
  0.4,
  -0.7,
  0.7,
  -1,
  1,
  -0.9999999,
  0.9999999,
];

/**
 * {@link SPECIAL}, the float32 neighbours of integers and of halves (0.5 to 2^23, both signs),
 * and random values in [-10, 10], in [-1e7, 1e7] and log-uniform from 2^-30 to 2^127 (both signs).
 */
function unaryInputs(): Float32Array {
  const xs: number[] = [...SPECIAL];
  for (const k of [1, 2, 3, 10, 100, 12345, 2 ** 22, 2 ** 23 - 1, 2 ** 23, 2 ** 24]) {
    for (const s of [1, -1]) {
      xs.push(...around(s * k));
      if (k < 2 ** 23) xs.push(...around(s * (k + 0.5)));
      if (k < 2 ** 22) xs.push(...around(s * (k - 0.5)));
    }
  }
  const r = rng(23);
  for (let i = 0; i < 500; i++) xs.push(-10 + 20 * r());
  for (let i = 0; i < 500; i++) xs.push(-1e7 + 2e7 * r());
  for (let i = 0; i < 500; i++) xs.push((r() < 0.5 ? -1 : 1) * 2 ** (-30 + 157 * r()));
  return Float32Array.from(xs);
}

/** Every pair of a set of special and ordinary values (both orders, equal ones too), then random pairs. */
function binaryInputs(): [Float32Array, Float32Array] {
  const vals = [
    Number.NaN,
    0,
    -0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    3.4e38,
    -3.4e38,
    1,
    -1,
    0.5,
    -0.5,
    1e-30,
    -1e-30,
    2.5,
    -7,
    1e20,
  ];
  const a: number[] = [];
  const b: number[] = [];
  for (const x of vals)
    for (const y of vals) {
      a.push(x);
      b.push(y);
    }
  const r = rng(29);
  for (let i = 0; i < 1000; i++) {
    a.push(-10 + 20 * r());
    b.push(r() < 0.1 ? a[a.length - 1] : -10 + 20 * r());
  }
  return [Float32Array.from(a), Float32Array.from(b)];
}

/** What `got` computes where it differs from `Math[fn]` on the float32 inputs (Object.is, NaN = NaN); '' when nowhere. */
function wrong(fn: string, got: Float32Array, args: Float32Array[]): string {
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const xs = args.map((a) => a[i]);
    const want = Math.fround(MATH[fn](...xs));
    const g = got[i];
    if (Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want))) continue;
    const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
    bad.push(`${fn}(${xs.map(show).join(', ')}) = ${show(g)}, want ${show(want)}`);
  }
  return bad.length === 0 ? '' : `${bad.length} wrong: ${bad.slice(0, 24).join('; ')}`;
}

describe.each(backendsToTest())('exact Math functions on %s', (name) => {
  const d = createDevice({ backend: name, threads: 1 });
  afterAll(() => d.destroy());
  const zero = new Float32Array([0]);

  it.each(UNARY)(
    '%s: as JavaScript on float32 (NaN, signed zeros, halves, 2^23 and beyond), both code paths',
    (fn) => {
      const x = unaryInputs();
      const same = defineKernel({ name: `test.exact.${fn}`, arity: 1, params: 0, expr: `Math.${fn}(a)` });
      const bcast = defineKernel({
        name: `test.exact.${fn}.broadcast`,
        arity: 2,
        params: 0,
        expr: `b == 0.0 ? Math.${fn}(a) : 0.0`,
      });
      const xa = d.array(x, [x.length]);
      const za = d.array(zero, [1]);
      const y1 = d.map(same, [xa]);
      const y2 = d.map(bcast, [xa, za]);
      const got = y1.read();
      const got2 = y2.read();
      for (const t of [xa, za, y1, y2]) t.dispose();
      expect({ same: wrong(fn, got, [x]), broadcast: wrong(fn, got2, [x]) }).toEqual({
        same: '',
        broadcast: '',
      });
    },
  );

  it.each(BINARY)(
    '%s: NaN in either argument, signed zeros, infinities as JavaScript, both code paths',
    (fn) => {
      const [av, bv] = binaryInputs();
      const same = defineKernel({ name: `test.exact.${fn}`, arity: 2, params: 0, expr: `Math.${fn}(a, b)` });
      const bcast = defineKernel({
        name: `test.exact.${fn}.broadcast`,
        arity: 3,
        params: 0,
        expr: `c == 0.0 ? Math.${fn}(a, b) : 0.0`,
      });
      const aa = d.array(av, [av.length]);
      const ba = d.array(bv, [bv.length]);
      const za = d.array(zero, [1]);
      const y1 = d.map(same, [aa, ba]);
      const y2 = d.map(bcast, [aa, ba, za]);
      const got = y1.read();
      const got2 = y2.read();
      for (const t of [aa, ba, za, y1, y2]) t.dispose();
      expect({ same: wrong(fn, got, [av, bv]), broadcast: wrong(fn, got2, [av, bv]) }).toEqual({
        same: '',
        broadcast: '',
      });
    },
  );

  it('the listed cases: sign(-0) = -0, round(-0.4) = -0, ceil(-0.5) = -0, trunc(-0.7) = -0, abs(-0) = +0, max(-0, 0) = +0, min(0, -0) = -0', () => {
    const spec = (expr: string) =>
      defineKernel({ name: `test.exact.case.${expr}`, arity: 1, params: 0, expr });
    const cases: [string, number, number][] = [
      ['Math.sign(a)', -0, -0],
      ['Math.sign(a)', Number.NaN, Number.NaN],
      ['Math.round(a)', -0.4, -0],
      ['Math.round(a)', 0.49999997, 0],
      ['Math.round(a)', -0.50000006, -1],
      ['Math.round(a)', -2.5, -2],
      ['Math.round(a)', 2 ** 23 - 0.5, 2 ** 23],
      ['Math.round(a)', 8388609, 8388609],
      ['Math.ceil(a)', -0.5, -0],
      ['Math.trunc(a)', -0.7, -0],
      ['Math.abs(a)', -0, 0],
      ['Math.max(a, 0.0)', -0, 0],
      ['Math.max(0.0, a)', -0, 0],
      ['Math.min(a, 0.0)', -0, -0],
      ['Math.min(0.0, a)', -0, -0],
      ['Math.max(a, 1.0)', Number.NaN, Number.NaN],
      ['Math.min(1.0, a)', Number.NaN, Number.NaN],
    ];
    const bad: string[] = [];
    for (const [expr, x, want] of cases) {
      const xa = d.array(new Float32Array([x, x, x, x]), [4]);
      const y = d.map(spec(expr), [xa]);
      const got = y.read()[0];
      xa.dispose();
      y.dispose();
      if (!Object.is(got, want))
        bad.push(`${expr} at a = ${Object.is(x, -0) ? '-0' : x}: got ${Object.is(got, -0) ? '-0' : got}`);
    }
    expect(bad).toEqual([]);
  });
});
