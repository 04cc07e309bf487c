import { afterAll, describe, expect, it } from 'vitest';
import type { ActivationGradOp, BinaryOp, UnaryOp } from './elementwise.js';
import { BackendError, DisposedError, ShapeError, ValueError } from './errors.js';
import { Rng } from './random.js';
import { availableBackends, backendsToTest, createDevice, getDevice, setDevice } from './select.js';
import {
  BINARY_REF,
  broadcastTo64,
  closeTo,
  GRAD_REF,
  matmul64,
  reduce64,
  testData,
  UNARY_REF,
} from './testing/reference.js';

// One test matrix over every backend that can start here (or GRADKIT_BACKEND alone).
// Tolerance for every element-wise result against its float64 reference:
//   |got - want| <= ATOL + RTOL * |want|   with ATOL = 1e-5, RTOL = 2e-5
// (float32 storage gives ~6e-8 relative; GL transcendentals and the erf approximation add ~1e-7 absolute).
const ATOL = 1e-5;
const RTOL = 2e-5;

// Input ranges of the unary ops (inside each domain); the references are in testing/reference.ts.
const UNARY_RANGE: Record<UnaryOp, [number, number]> = {
  neg: [-5, 5],
  abs: [-5, 5],
  sign: [-5, 5],
  exp: [-10, 10],
  log: [0.01, 100],
  sqrt: [0, 100],
  rsqrt: [0.01, 100],
  square: [-10, 10],
  reciprocal: [0.1, 10],
  floor: [-5, 5],
  ceil: [-5, 5],
  sin: [-3, 3],
  cos: [-3, 3],
  relu: [-5, 5],
  sigmoid: [-30, 30],
  tanh: [-10, 10],
  gelu: [-6, 6],
  geluTanh: [-12, 12],
  selu: [-5, 5],
  softplus: [-30, 30],
  elu: [-5, 5],
  erf: [-4, 4],
  logicalNot: [-2, 2],
  isFinite: [-5, 5],
  identity: [-5, 5],
};

const backends = backendsToTest();

describe('backend selection', () => {
  it('reports every backend with a reason when unavailable', () => {
    const all = availableBackends();
    expect(all.map((a) => a.name)).toEqual(['gl', 'wasm', 'cpu']);
    for (const a of all) if (!a.available) expect(a.reason.length).toBeGreaterThan(0);
    expect(all.find((a) => a.name === 'cpu')!.available).toBe(true);
  });

  it('an explicit request for an unavailable backend is a BackendError, not a fallback', () => {
    const missing = availableBackends().find((a) => !a.available);
    if (!missing) return; // every backend starts on this machine: nothing to refuse
    expect(() => createDevice({ backend: missing.name })).toThrow(BackendError);
    expect(() => createDevice({ backend: missing.name })).toThrow(/cannot start here/);
  });

  it('rejects an unknown backend name', () => {
    expect(() => createDevice({ backend: 'tpu' as 'cpu' })).toThrow(ValueError);
  });

  it('getDevice replaces a destroyed default device and keeps a live one', () => {
    const previous = getDevice();
    const d = setDevice('cpu');
    expect(getDevice()).toBe(d);
    d.destroy();
    expect(d.isDestroyed).toBe(true);
    const next = getDevice();
    expect(next).not.toBe(d);
    expect(next.isDestroyed).toBe(false);
    expect(getDevice()).toBe(next);
    expect(next.array(new Float32Array([1, 2]), [2]).read()).toEqual(new Float32Array([1, 2]));
    next.destroy();
    setDevice(previous.isDestroyed ? getDevice() : previous);
  });
});

describe.each(backends)('kernels on %s', (name) => {
  const d = createDevice({ backend: name });
  afterAll(() => d.destroy());

  it('reports what it runs on', () => {
    const info = d.info();
    expect(info.name).toBe(name);
    expect(info.reason).toMatch(/requested by option/);
    expect(info.precision).toBe('single');
    expect(info.maxElements).toBeGreaterThanOrEqual(2 ** 23);
    if (name === 'gl') expect(info.maxTextureSize).toBeGreaterThanOrEqual(4096);
  });

  it('uploads and reads back exactly, and counts read-backs', () => {
    const v = testData(1000, 1);
    const x = d.array(v, [10, 100]);
    const before = d.memory().readbacks;
    expect(x.read()).toEqual(v);
    expect(d.memory().readbacks).toBe(before + 1);
    x.dispose();
  });

  it.each(Object.keys(UNARY_RANGE) as UnaryOp[])('unary %s matches float64', (op) => {
    const ref = UNARY_REF[op];
    const [lo, hi] = UNARY_RANGE[op];
    const v = testData(257, 7, lo, hi);
    if (op === 'logicalNot') v[3] = 0;
    if (op === 'relu' || op === 'sign') v[5] = 0;
    const x = d.array(v);
    const y = d.unary(op, x);
    const err = closeTo(
      y.read(),
      Array.from(v, (x) => ref(x)),
      ATOL,
      RTOL,
    );
    expect(err).toBeNull();
    x.dispose();
    y.dispose();
  });

  it('isFinite flags NaN and infinities', () => {
    const x = d.array([1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -3]);
    expect(Array.from(d.unary('isFinite', x).read())).toEqual([1, 0, 0, 0, 1]);
  });

  it('scalar ops take their parameters as arguments', () => {
    const v = testData(64, 3, -4, 4);
    const x = d.array(v);
    const cases: [Parameters<typeof d.scalar>[0], number[], (x: number) => number][] = [
      ['addScalar', [0.5], (a) => a + 0.5],
      ['addScalar', [-2], (a) => a - 2],
      ['mulScalar', [3], (a) => a * 3],
      ['powScalar', [2], (a) => a * a],
      ['powScalar', [3], (a) => a ** 3],
      ['clamp', [-1, 2], (a) => Math.min(Math.max(a, -1), 2)],
      ['leakyRelu', [0.1], (a) => (a > 0 ? a : 0.1 * a)],
      ['affine', [2, -1], (a) => 2 * a - 1],
    ];
    for (const [op, p, ref] of cases) {
      const y = d.scalar(op, x, ...p);
      expect(closeTo(y.read(), Array.from(v, ref), ATOL, RTOL), `${op}(${p})`).toBeNull();
      y.dispose();
    }
    // a non-integer power of a negative base is NaN, as in PyTorch
    const neg = d.array([-2, 4]);
    const r = d.scalar('powScalar', neg, 0.5).read();
    expect(Number.isNaN(r[0])).toBe(true);
    expect(r[1]).toBeCloseTo(2, 6);
  });

  const SHAPES: [number[], number[]][] = [
    [[37], [37]],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [
      [5, 1],
      [1, 6],
    ],
    [[4, 3], []],
    [[], [2, 2]],
    [
      [2, 1, 3],
      [4, 1],
    ],
    [[8, 16], [16]],
  ];

  it.each(Object.keys(BINARY_REF) as BinaryOp[])('binary %s broadcasts like NumPy', (op) => {
    for (const [sa, sb] of SHAPES) {
      const na = sa.reduce((p, x) => p * x, 1);
      const nb = sb.reduce((p, x) => p * x, 1);
      const va = testData(na, 11, op === 'pow' ? 0.1 : -3, 3);
      const vb = testData(nb, 12, -3, 3);
      if (op.includes('qual') && na > 2 && nb > 0) va[1] = vb[0];
      const a = d.array(va, sa);
      const b = d.array(vb, sb);
      const y = d.binary(op, a, b);
      const rank = Math.max(sa.length, sb.length);
      const out: number[] = [];
      for (let i = 0; i < rank; i++) {
        const x1 = sa[sa.length - rank + i] ?? 1;
        const x2 = sb[sb.length - rank + i] ?? 1;
        out.push(Math.max(x1, x2));
      }
      expect(y.shape).toEqual(out);
      const A = broadcastTo64(va, sa, out);
      const B = broadcastTo64(vb, sb, out);
      const want = A.map((x, i) => BINARY_REF[op](x, B[i]));
      expect(closeTo(y.read(), want, ATOL, RTOL), `${op} ${JSON.stringify([sa, sb])}`).toBeNull();
      for (const t of [a, b, y]) t.dispose();
    }
  });

  it('pow with a negative base and an integer exponent follows PyTorch', () => {
    const a = d.array([-2, -2, -3, 2]);
    const b = d.array([2, 3, 0.5, 0.5]);
    const r = d.binary('pow', a, b).read();
    expect(r[0]).toBeCloseTo(4, 5);
    expect(r[1]).toBeCloseTo(-8, 5);
    expect(Number.isNaN(r[2])).toBe(true);
    expect(r[3]).toBeCloseTo(Math.SQRT2, 5);
  });

  it.each(Object.keys(GRAD_REF) as ActivationGradOp[])("fused %s matches dy * f'(x)", (op) => {
    const isOut = op === 'sigmoidGrad' || op === 'tanhGrad';
    const vx = testData(300, 21, isOut ? -0.99 : -6, isOut ? 0.99 : 6);
    const vdy = testData(300, 22, -2, 2);
    const x = d.array(vx, [3, 100]);
    const dy = d.array(vdy, [3, 100]);
    const y = op === 'leakyReluGrad' ? d.activationGrad(op, x, dy, 0.01) : d.activationGrad(op, x, dy);
    const want = Array.from(vx, (v, i) => GRAD_REF[op](v, vdy[i], 0.01));
    expect(closeTo(y.read(), want, ATOL, RTOL)).toBeNull();
  });

  it('broadcastTo and map with an output shape follow NumPy rules', () => {
    const x = d.array([1, 2, 3], [3]);
    const y = d.broadcastTo(x, [2, 3]);
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.read())).toEqual([1, 2, 3, 1, 2, 3]);
    const col = d.array([5, 6], [2, 1]);
    expect(Array.from(d.broadcastTo(col, [3, 2, 2]).read())).toEqual([5, 5, 6, 6, 5, 5, 6, 6, 5, 5, 6, 6]);
    expect(() => d.broadcastTo(col, [2, 1, 2])).toThrow(/do not broadcast to \[2,1,2\]/);
    expect(() => d.broadcastTo(x, [3, 2])).toThrow(
      /broadcastTo: shapes \[3\] and \[3,2\] cannot be broadcast/,
    );
    expect(() => d.broadcastTo(d.full([2, 3]), [3])).toThrow(/do not broadcast to \[3\]/);
  });

  it('map takes up to six inputs and rejects other arities', () => {
    const xs = [1, 2, 3, 4, 5, 6].map((k) => d.array([k, 10 * k], [2]));
    const six = { name: 'six', arity: 6, params: 1, expr: 'a + b + c + d + e + f * p0' };
    expect(Array.from(d.map(six, xs, [2]).read())).toEqual([
      1 + 2 + 3 + 4 + 5 + 12,
      10 + 20 + 30 + 40 + 50 + 120,
    ]);
    expect(() => d.map({ ...six, arity: 7 }, [...xs, xs[0]], [2])).toThrow(
      /six: arity must be an integer from 1 to 6, got 7/,
    );
    expect(() => d.map(six, xs.slice(1), [2])).toThrow(/six: expects 6 inputs, got 5/);
  });

  it('two specs with the same name but different bodies do not share compiled code', () => {
    const x = d.array([1, 2, 3]);
    const twice = d.map({ name: 'userOp', arity: 1, params: 0, expr: 'a * 2.0' }, [x]).read();
    const thrice = d.map({ name: 'userOp', arity: 1, params: 0, expr: 'a * 3.0' }, [x]).read();
    expect(Array.from(twice)).toEqual([2, 4, 6]);
    expect(Array.from(thrice)).toEqual([3, 6, 9]);
  });

  it('where selects with broadcasting', () => {
    const c = d.array([1, 0, 1], [3]);
    const x = d.array([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = d.array([-1], [1]);
    expect(Array.from(d.where(c, x, y).read())).toEqual([1, -1, 3, 4, -1, 6]);
  });

  const REDUCTIONS: [number[], number[]][] = [
    [[1000], [0]],
    [[7, 9], [0]],
    [[7, 9], [1]],
    [
      [3, 4, 5],
      [0, 1],
    ],
    [[3, 4, 5], [1]],
    [
      [3, 4, 5],
      [0, 2],
    ],
    [
      [2, 3, 4, 5],
      [1, 2],
    ],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
  ];

  it.each(['sum', 'mean', 'max', 'min', 'prod', 'logsumexp'] as const)('reduce %s along any axes', (op) => {
    for (const [shape, axes] of REDUCTIONS) {
      const n = shape.reduce((p, x) => p * x, 1);
      const v = testData(n, 31, op === 'prod' ? 0.8 : -3, op === 'prod' ? 1.2 : 3);
      const x = d.array(v, shape);
      const y = d.reduce(op, x, axes);
      const want = reduce64(op, v, shape, axes);
      // sums of n float32 terms: tolerance grows with n
      const count = axes.reduce((p, a) => p * shape[a], 1);
      expect(
        closeTo(y.read(), want, ATOL * Math.sqrt(count) * 4, RTOL * 4),
        `${op} ${shape} ${axes}`,
      ).toBeNull();
      const k = d.reduce(op, x, axes, true);
      expect(k.shape).toEqual(shape.map((s, i) => (axes.includes(i) ? 1 : s)));
      for (const t of [x, y, k]) t.dispose();
    }
  });

  it('argmax and argmin return the first extreme index along one axis', () => {
    const x = d.array([1, 5, 5, 0, 7, 7, 7, -1, 2, 2, -3, -3], [3, 4]);
    expect(Array.from(d.argmax(x, 1).read())).toEqual([1, 0, 0]);
    expect(Array.from(d.argmin(x, 1).read())).toEqual([3, 3, 2]);
    expect(Array.from(d.argmax(x, 0).read())).toEqual([1, 1, 1, 0]);
    const v = testData(12 * 50, 41);
    const big = d.array(v, [12, 50]);
    expect(Array.from(d.argmax(big, -1).read())).toEqual(reduce64('argmax', v, [12, 50], [1]));
    expect(() => d.reduce('argmax', x, [0, 1])).toThrow(ShapeError);
  });

  it('argmax, argmin, max and min over a middle axis: ties, NaN and -Infinity as along the last axis', () => {
    // [2, 4, 3]: column q of batch p holds the values over t; NaN first / later, ties, all -Infinity
    const I = Number.NEGATIVE_INFINITY;
    const cols = [
      [1, 3, 3, 2], // tie: first 3 wins (t = 1)
      [Number.NaN, 5, Number.NaN, 1], // first NaN (t = 0)
      [I, I, I, I], // all -Infinity: index 0
      [0, 2, Number.NaN, 9], // NaN at t = 2 beats the later 9
      [-1, -1, -2, -2], // argmin: first -2 (t = 2)
      [7, 6, 5, 4],
    ];
    const v = new Array<number>(24);
    cols.forEach((col, c) => {
      const p = Math.floor(c / 3);
      const q = c % 3;
      col.forEach((x, t) => {
        v[p * 12 + t * 3 + q] = x;
      });
    });
    const x = d.array(v, [2, 4, 3]);
    for (const op of ['argmax', 'argmin', 'max', 'min'] as const) {
      const got = Array.from(d.reduce(op, x, [1]).read());
      expect(got, op).toEqual(reduce64(op, v, [2, 4, 3], [1]));
    }
    expect(Array.from(d.argmax(x, 1).read())).toEqual([1, 0, 0, 2, 0, 0]);
    expect(Array.from(d.argmin(x, 1).read())).toEqual([0, 0, 0, 2, 2, 3]);
    // larger: the middle-axis result equals the last-axis result of the transposed array
    const w = testData(5 * 7 * 130, 43);
    const big = d.array(w, [5, 7, 130]);
    const t = d.transpose(big, [0, 2, 1]);
    for (const op of ['argmax', 'argmin', 'max', 'min', 'sum'] as const) {
      expect(Array.from(d.reduce(op, big, [1]).read()), op).toEqual(Array.from(d.reduce(op, t, [2]).read()));
    }
  });

  it('sum over a long axis (60000 elements) stays accurate', () => {
    const v = testData(60000, 5, 0, 1);
    const x = d.array(v);
    const want = reduce64('sum', v, [60000], [0])[0];
    const got = d.sum(x).read()[0];
    expect(Math.abs(got - want)).toBeLessThan(want * 1e-4);
  });

  it('softmax, log-softmax and logsumexp are stable for large logits', () => {
    const v = [1000, 1001, 1002, -1000, 0, 1000];
    const x = d.array(v, [2, 3]);
    const sm = d.softmax(x).read();
    const ls = d.logSoftmax(x).read();
    const lse = d.logsumexp(x, -1).read();
    const rows = [v.slice(0, 3), v.slice(3)];
    const wantLse = rows.map((r) => reduce64('logsumexp', Float32Array.from(r), [3], [0])[0]);
    expect(closeTo(lse, wantLse, 1e-4, 1e-6)).toBeNull();
    const wantLs = rows.flatMap((r, i) => r.map((z) => z - wantLse[i]));
    expect(closeTo(ls, wantLs, 2e-6, 2e-6)).toBeNull();
    expect(closeTo(sm, wantLs.map(Math.exp), 1e-7, 2e-6)).toBeNull();
    // softmax rows sum to one along axis 0 too
    const v2 = testData(5 * 7, 51);
    const s0 = d.softmax(d.array(v2, [5, 7]), 0);
    const col = d.sum(s0, 0).read();
    expect(closeTo(col, new Array(7).fill(1), 1e-6, 1e-5)).toBeNull();
  });

  it.each([
    [1, 1, 1],
    [7, 13, 5],
    [16, 16, 16],
    [33, 64, 17],
    [128, 784, 10],
  ])('matmul %i x %i x %i with every transpose', (m, k, n) => {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const va = testData(m * k, 61 + m);
        const vb = testData(k * n, 71 + n);
        const a = d.array(va, tA ? [k, m] : [m, k]);
        const b = d.array(vb, tB ? [n, k] : [k, n]);
        const c = d.matmul(a, b, { transA: tA, transB: tB });
        expect(c.shape).toEqual([m, n]);
        const { out, bound } = matmul64(va, vb, m, k, n, tA, tB);
        const got = c.read();
        for (let i = 0; i < out.length; i++) {
          // float32 accumulation: error <= k * eps * sum |a||b|
          const tol = 1e-6 + 2 * k * 6e-8 * bound[i];
          if (!(Math.abs(got[i] - out[i]) <= tol)) {
            throw new Error(`C[${i}] = ${got[i]}, want ${out[i]} (tA=${tA} tB=${tB}, tol ${tol})`);
          }
        }
        for (const t of [a, b, c]) t.dispose();
      }
    }
  });

  it('matmul rejects mismatched or non-2-D operands with the shapes in the message', () => {
    const a = d.full([2, 3], 1);
    const b = d.full([4, 5], 1);
    expect(() => d.matmul(a, b)).toThrow(ShapeError);
    expect(() => d.matmul(a, b)).toThrow(/matmul: inner sizes differ: A \[2,3\] and B \[4,5\] \(3 vs 4\)/);
    expect(() => d.matmul(a, d.full([3], 1))).toThrow(/expects 2-D operands/);
    expect(d.matmul(a, d.full([4, 2], 1), { transA: true, transB: true }).shape).toEqual([3, 4]);
    expect(() => d.matmul(a, b, { transA: true, transB: true })).toThrow(
      /A\^T \[2,3\] and B\^T \[4,5\] \(2 vs 5\)/,
    );
  });

  it('transpose permutes any axes', () => {
    const v = testData(2 * 3 * 4, 81);
    const x = d.array(v, [2, 3, 4]);
    const y = d.transpose(x, [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    const got = y.read();
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 4; k++) expect(got[k * 6 + i * 3 + j]).toBe(v[i * 12 + j * 4 + k]);
    expect(d.transpose(d.array(v, [4, 6])).shape).toEqual([6, 4]);
    expect(() => d.transpose(x, [0, 0, 1])).toThrow(ShapeError);
  });

  it('reshape is a view that shares storage', () => {
    const before = d.memory();
    const x = d.array([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = d.reshape(x, [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(d.memory().buffers).toBe(before.buffers + 1);
    expect(d.memory().arrays).toBe(before.arrays + 2);
    x.dispose();
    expect(Array.from(y.read())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(d.memory().buffers).toBe(before.buffers);
    expect(d.memory().bytes).toBe(before.bytes);
    expect(() => d.reshape(d.full([2, 3]), [4, 2])).toThrow(/cannot reshape 6 elements into \[4,2\]/);
  });

  it('gather and oneHot pick labels', () => {
    const table = d.array([0, 1, 2, 10, 11, 12, 20, 21, 22], [3, 3]);
    expect(Array.from(d.gather(table, [2, 0], 0).read())).toEqual([20, 21, 22, 0, 1, 2]);
    expect(Array.from(d.gather(table, [1, 1, 0], 1).read())).toEqual([1, 1, 0, 11, 11, 10, 21, 21, 20]);
    expect(() => d.gather(table, [3], 0)).toThrow(ValueError);
    const oh = d.oneHot(d.array([2, 0, 1]), 4);
    expect(oh.shape).toEqual([3, 4]);
    expect(Array.from(oh.read())).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
  });

  it('random draws are deterministic from the seed and have the right statistics', () => {
    const a = d.randomNormal([100000], new Rng(7)).read();
    const b = d.randomNormal([100000], new Rng(7)).read();
    expect(a).toEqual(b);
    const mean = a.reduce((p, x) => p + x, 0) / a.length;
    const vr = a.reduce((p, x) => p + (x - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.01); // 3 sigma = 0.0095
    expect(Math.abs(vr - 1)).toBeLessThan(0.015);
    const u = d.randomUniform([100000], new Rng(8), -2, 2).read();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(2);
    const m = d.randomBernoulli([100000], new Rng(9), 0.3).read();
    const rate = m.reduce((p, x) => p + x, 0) / m.length;
    expect(Math.abs(rate - 0.3)).toBeLessThan(0.005);
    expect(() => d.randomBernoulli([3], new Rng(1), 1.5)).toThrow(/p must be in \[0, 1\], got 1.5/);
  });

  it('arrays larger than 65536 elements (2-D texture packing) compute correctly', () => {
    const n = 300_001;
    const v = testData(n, 91);
    const x = d.array(v);
    const y = d.scalar('affine', x, 2, 1);
    const got = y.read();
    for (const i of [0, 1, 4095, 4096, 65535, 65536, 150000, n - 1])
      expect(got[i]).toBeCloseTo(2 * v[i] + 1, 5);
  });

  it('zero-size arrays work', () => {
    const z = d.full([0, 3]);
    expect(d.unary('exp', z).shape).toEqual([0, 3]);
    expect(Array.from(d.sum(z, 0).read())).toEqual([0, 0, 0]);
    expect(d.matmul(d.full([2, 0]), d.full([0, 3])).read()).toEqual(new Float32Array(6));
  });

  it('errors name the op and the shapes; disposed arrays are refused', () => {
    const a = d.full([2, 3]);
    const b = d.full([4]);
    expect(() => d.binary('add', a, b)).toThrow(/add: shapes \[2,3\] and \[4\] cannot be broadcast/);
    expect(() => d.sum(a, 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => d.array([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2,2\]/);
    b.dispose();
    expect(() => d.unary('exp', b)).toThrow(DisposedError);
    expect(() => b.read()).toThrow(DisposedError);
  });

  it('memory stays flat over repeated ops once results are disposed', () => {
    const x = d.array(testData(64 * 32, 3), [64, 32]);
    const w = d.array(testData(32 * 16, 4), [32, 16]);
    const step = () => {
      const h = d.matmul(x, w);
      const r = d.unary('relu', h);
      const s = d.sum(r);
      for (const t of [h, r, s]) t.dispose();
    };
    step();
    const m1 = d.memory();
    for (let i = 0; i < 50; i++) step();
    const m2 = d.memory();
    expect(m2.arrays).toBe(m1.arrays);
    expect(m2.buffers).toBe(m1.buffers);
    expect(m2.bytes).toBe(m1.bytes);
    expect(m2.readbacks).toBe(m1.readbacks);
  });
});
