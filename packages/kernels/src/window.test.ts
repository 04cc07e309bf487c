import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceArray } from './device.js';
import { ShapeError, ValueError } from './errors.js';
import { windowGatherPlan } from './gl/sources.js';
import { backendsToTest, createDevice } from './select.js';
import { closeTo, stridesOf64, testData } from './testing/reference.js';
import type { WindowSpec } from './window.js';
import {
  padWindow,
  planWindow,
  sliceIndices,
  sliceWindow,
  unfoldWindow,
  windowGeometry2d,
  windowSpec2d,
} from './window.js';

// Window reads move values: they are compared for exact equality (Object.is, so -0 and NaN
// count). Scatter-adds sum in float64 on cpu/wasm (one rounding: within 1 float32 ulp of the
// float64 reference) and in float32 on gl: |got - want| <= 1e-5 + 1e-5 |want| for sums of at most
// ~100 terms of magnitude <= 3.
const SUM_ATOL = 1e-5;
const SUM_RTOL = 1e-5;

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function unravel(i: number, shape: readonly number[]): number[] {
  const st = stridesOf64(shape);
  return shape.map((d, k) => Math.floor(i / st[k]) % d);
}

/** Where output element `i` reads (flat input offset), or -1 for padding: straight from the definition. */
function source64(spec: WindowSpec, inShape: readonly number[], i: number): number {
  const o = unravel(i, spec.outShape);
  const ist = stridesOf64(inShape);
  let off = 0;
  for (let a = 0; a < inShape.length; a++) {
    let c = spec.offsets[a];
    for (let k = 0; k < o.length; k++) if (spec.axes[k] === a) c += spec.steps[k] * o[k];
    if (c < 0 || c >= inShape[a]) return -1;
    off += c * ist[a];
  }
  return off;
}

function window64(x: ArrayLike<number>, inShape: readonly number[], spec: WindowSpec): number[] {
  return Array.from({ length: size(spec.outShape) }, (_, i) => {
    const s = source64(spec, inShape, i);
    return s < 0 ? (spec.padValue ?? Number.NaN) : x[s];
  });
}

function scatter64(dy: ArrayLike<number>, inShape: readonly number[], spec: WindowSpec): number[] {
  const acc = new Array<number>(size(inShape)).fill(0);
  for (let i = 0; i < dy.length; i++) {
    const s = source64(spec, inShape, i);
    if (s >= 0) acc[s] += dy[i];
  }
  return acc;
}

function expectSame(got: Float32Array, want: readonly number[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], Math.fround(want[i]))) {
      expect.fail(`[${i}]: got ${Object.is(got[i], -0) ? '-0' : got[i]}, want ${want[i]}`);
    }
  }
}

/** Named cases: input shape and spec. */
const CASES: [string, number[], WindowSpec][] = [
  ['slice x[1:6:2]', [8], sliceWindow([8], [1], [6], [2])],
  ['reversed x[::-1, 1:]', [3, 4], sliceWindow([3, 4], [null, 1], [null, null], [-1, 1])],
  ['negative step slice x[5:0:-2, ::3]', [7, 5], sliceWindow([7, 5], [5, null], [0, null], [-2, 3])],
  [
    'pad [[1, 2], [0, 3]]',
    [2, 3],
    padWindow(
      [2, 3],
      [
        [1, 2],
        [0, 3],
      ],
    ),
  ],
  [
    'pad and crop [[-1, 1], [2, -2]], value -inf',
    [3, 4],
    padWindow(
      [3, 4],
      [
        [-1, 1],
        [2, -2],
      ],
      Number.NEGATIVE_INFINITY,
    ),
  ],
  ['broadcast [3] -> [2, 3]', [3], { outShape: [2, 3], axes: [-1, 0], steps: [0, 1], offsets: [0] }],
  [
    'broadcast size-1 axis with step 0',
    [2, 1],
    { outShape: [2, 4], axes: [0, 1], steps: [1, 0], offsets: [0, 0] },
  ],
  [
    'select index 2 of axis 1',
    [3, 4, 2],
    { outShape: [3, 2], axes: [0, 2], steps: [1, 1], offsets: [0, 2, 0] },
  ],
  ['unfold(0, 3, 2) of [7, 2]', [7, 2], unfoldWindow([7, 2], 0, 3, 2)],
  ['im2col windows 3x3 pad 1', [2, 3, 5, 6], windowSpec2d([2, 3, 5, 6], 3, { padding: 1 })],
  [
    'im2col columns stride 2 dilation 2 pad [1, 2]',
    [1, 2, 7, 8],
    windowSpec2d([1, 2, 7, 8], [2, 3], { stride: 2, dilation: 2, padding: [1, 2], layout: 'columns' }),
  ],
  [
    'im2col rows 2x2 stride [2, 1]',
    [2, 2, 4, 5],
    windowSpec2d([2, 2, 4, 5], 2, { stride: [2, 1], layout: 'rows' }),
  ],
  [
    'max-pool windows with -inf padding',
    [1, 1, 5, 5],
    windowSpec2d([1, 1, 5, 5], 3, { stride: 2, padding: 1, padValue: Number.NEGATIVE_INFINITY }),
  ],
  ['scalar output reading one element', [2, 3], { outShape: [], axes: [], steps: [], offsets: [1, 2] }],
  ['whole output in the padding', [2], { outShape: [3], axes: [0], steps: [1], offsets: [5], padValue: 7 }],
  ['zero-size output', [4], sliceWindow([4], [3], [1])],
];

describe('window planning (pure)', () => {
  it('sliceIndices follows Python slice.indices', () => {
    // Values from Python 3: slice(a, b, c).indices(n) and len(range(*...))
    expect(sliceIndices(5, -2, null, 1)).toEqual({ start: 3, stop: 5, length: 2 });
    expect(sliceIndices(5, null, null, -1)).toEqual({ start: 4, stop: -1, length: 5 });
    expect(sliceIndices(5, 10, -10, -2)).toEqual({ start: 4, stop: -1, length: 3 });
    expect(sliceIndices(5, -10, 10, 3)).toEqual({ start: 0, stop: 5, length: 2 });
    expect(sliceIndices(5, 3, 1, 1)).toEqual({ start: 3, stop: 1, length: 0 });
    expect(sliceIndices(0, null, null, -1)).toEqual({ start: -1, stop: -1, length: 0 });
  });

  it('windowGeometry2d follows Conv2d: OH = floor((H + 2p - d(k-1) - 1)/s) + 1', () => {
    expect(windowGeometry2d('t', [1, 1, 28, 28], 3, { padding: 1 }).out).toEqual([28, 28]);
    expect(
      windowGeometry2d('t', [1, 1, 7, 8], [2, 3], { stride: 2, dilation: 2, padding: [1, 2] }).out,
    ).toEqual([4, 4]);
    expect(windowGeometry2d('t', [1, 1, 3, 3], 3, {}).out).toEqual([1, 1]);
  });

  it('bounds and padded flag', () => {
    const p = planWindow('t', [8], sliceWindow([8], [1], [6], [2]));
    expect(p.bounds).toEqual([[1, 5]]);
    expect(p.padded).toBe(false);
    const q = planWindow('t', [2, 3, 5, 6], windowSpec2d([2, 3, 5, 6], 3, { padding: 1 }));
    expect(q.padded).toBe(true);
    expect(q.bounds).toEqual([
      [0, 1],
      [0, 2],
      [-1, 5],
      [-1, 6],
    ]);
  });

  it('gl solves the long axes and loops over the kernel taps (9 positions for 3x3)', () => {
    const p = planWindow('t', [2, 3, 5, 6], windowSpec2d([2, 3, 5, 6], 3, { padding: 1 }));
    expect(windowGatherPlan(p)).toEqual({ solved: [0, 1, 2, 3], looped: [4, 5], loop: 9 });
    const b = planWindow('t', [3], { outShape: [2, 3], axes: [-1, 0], steps: [0, 1], offsets: [0] });
    expect(windowGatherPlan(b)).toEqual({ solved: [1], looped: [0], loop: 2 });
  });

  it('errors name the op, the axis and the shapes', () => {
    const s = (spec: Partial<WindowSpec>): WindowSpec => ({
      outShape: [2],
      axes: [0],
      steps: [1],
      offsets: [0],
      ...spec,
    });
    expect(() => planWindow('window', [4], s({ offsets: [3] }))).toThrow(ShapeError);
    expect(() => planWindow('window', [4], s({ offsets: [3] }))).toThrow(
      'window: window reads coordinates 3..4 on axis 0 of input [4] (valid 0..3) for output [2]; give a padValue to read padding',
    );
    expect(() => planWindow('window', [4], s({ axes: [1] }))).toThrow(
      /axes\[0\] = 1 is not an input axis of \[4\]/,
    );
    expect(() => planWindow('window', [4], s({ axes: [0, 0] }))).toThrow(
      /axes must list 1 values \(the output rank 1\)/,
    );
    expect(() => planWindow('window', [4], s({ offsets: [] }))).toThrow(
      /offsets must list 1 values \(the input rank 1\)/,
    );
    expect(() => planWindow('window', [4], s({ steps: [0.5] }))).toThrow(ValueError);
    expect(() => planWindow('window', [4], s({ axes: [-1], steps: [1] }))).toThrow(
      /steps\[0\] = 1 must be 0/,
    );
    expect(() => planWindow('window', [4], s({ outShape: [-2] }))).toThrow(ShapeError);
    expect(() => planWindow('window', [4], s({ offsets: [2 ** 31], padValue: 0 }))).toThrow(/beyond ±2\^30/);
    expect(() => sliceWindow([4], [0], [4], [0])).toThrow(
      'slice: step on axis 0 must be a non-zero integer, got 0',
    );
    expect(() => sliceWindow([4], [0, 0], [4])).toThrow(/2 slice entries for input \[4\] of rank 1/);
    expect(() => padWindow([4], [[-3, -2]])).toThrow(
      'pad: pads[0] = [-3, -2] crops axis 0 of [4] below zero length',
    );
    expect(() => padWindow([4, 2], [[1, 1]])).toThrow(/one \[before, after\] pair per axis/);
    expect(() => unfoldWindow([4], 0, 5, 1)).toThrow(
      'unfold: size 5 is larger than axis 0 (length 4) of [4]',
    );
    expect(() => unfoldWindow([4], 0, 2, 0)).toThrow(/step must be a positive integer/);
    expect(() => windowSpec2d([1, 1, 2, 2], 3, { padding: 0 })).toThrow(
      'windows2d: the height 2 padded by 0 on each side (2) is smaller than the dilated kernel (3) for input [1,1,2,2]',
    );
    expect(() => windowSpec2d([1, 2, 2], 1)).toThrow(/expects a 4-D input/);
    expect(() => windowSpec2d([1, 1, 4, 4], 2, { stride: 0 })).toThrow(/stride must be an integer >= 1/);
  });
});

describe.each(backendsToTest())('window primitives on %s', (name) => {
  const d = createDevice({ backend: name });
  afterAll(() => d.destroy());

  it.each(CASES)('window: %s (exact)', (_, inShape, spec) => {
    const xs = testData(size(inShape), 7);
    xs[0] = -0;
    const x = d.array(xs, inShape);
    const y = d.window(x, spec);
    expect([...y.shape]).toEqual([...spec.outShape]);
    expectSame(y.read(), window64(xs, inShape, spec));
    x.dispose();
    y.dispose();
  });

  it('results do not depend on what freed storage held (buffers are recycled, not zeroed)', () => {
    // a padded read and a scatter-add of arrays large enough to be recycled (>= 16384 elements),
    // each after an array of the same length full of NaN was freed
    const inShape = [2, 3, 40, 40];
    const spec = windowSpec2d(inShape, 3, { padding: 2, stride: 2, layout: 'rows' });
    const xs = testData(size(inShape), 5);
    const junk = (n: number) => d.array(new Float32Array(n).fill(Number.NaN), [n]).dispose();
    junk(size(inShape));
    const x = d.array(xs, inShape);
    junk(size(spec.outShape));
    const y = d.window(x, spec);
    expectSame(y.read(), window64(xs, inShape, spec));
    junk(size(inShape));
    // a scatter of NaN into a larger array first: the float64 accumulator the scatters reuse
    // must be zeroed again, not carry the NaN over
    const nan = d.array(new Float32Array(2 * size(inShape)).fill(Number.NaN), [2 * size(inShape)]);
    d.windowScatterAdd(
      nan,
      { outShape: nan.shape, axes: [0], steps: [1], offsets: [0] },
      nan.shape,
    ).dispose();
    nan.dispose();
    const g = d.windowScatterAdd(y, spec, inShape);
    const m = closeTo(g.read(), scatter64(window64(xs, inShape, spec), inShape, spec), SUM_ATOL, SUM_RTOL);
    expect(m).toBeNull();
    junk(size(inShape));
    const t = d.transpose(x, [3, 1, 0, 2]);
    const perm = { outShape: [40, 3, 2, 40], axes: [3, 1, 0, 2], steps: [1, 1, 1, 1], offsets: [0, 0, 0, 0] };
    expectSame(t.read(), window64(xs, inShape, perm));
    for (const a of [x, y, g, t]) a.dispose();
  });

  it.each(CASES)('windowScatterAdd: %s (the adjoint, float64 reference)', (_, inShape, spec) => {
    const dys = testData(size(spec.outShape), 11);
    const dy = d.array(dys, spec.outShape);
    const g = d.windowScatterAdd(dy, spec, inShape);
    expect([...g.shape]).toEqual(inShape);
    const got = g.read();
    const m = closeTo(got, scatter64(dys, inShape, spec), SUM_ATOL, SUM_RTOL);
    expect(m, m ?? '').toBeNull();
    // <window(x), dy> = <x, scatter(dy)> in float64 (padding reads 0)
    const xs = testData(size(inShape), 5);
    const wx = window64(xs, inShape, { ...spec, padValue: 0 });
    const lhs = wx.reduce((s, v, i) => s + v * dys[i], 0);
    const rhs = Array.from(got).reduce((s, v, i) => s + v * xs[i], 0);
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(lhs)));
    dy.dispose();
    g.dispose();
  });

  it('padding values: NaN and ±inf are read as given; NaN in x stays where it is', () => {
    const x = d.array([1, Number.NaN, 3], [3]);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]) {
      const y = d.window(x, padWindow([3], [[1, 1]], v));
      expectSame(y.read(), [v, 1, Number.NaN, 3, v]);
      y.dispose();
    }
    x.dispose();
  });

  it('scatter-add over long loops (chunked on gl): broadcast over 3000 and a 33x33 kernel (1089 taps)', () => {
    const spec: WindowSpec = { outShape: [3000, 2], axes: [-1, 0], steps: [0, 1], offsets: [0] };
    const dys = testData(6000, 3);
    const dy = d.array(dys, [3000, 2]);
    const g = d.windowScatterAdd(dy, spec, [2]);
    // float32 on gl over 3000 terms in ~55 chunks: tolerance scaled by the term count
    const m = closeTo(g.read(), scatter64(dys, [2], spec), 3000 * 3 * 2 ** -23, 1e-5);
    expect(m, m ?? '').toBeNull();
    const spec2 = windowSpec2d([1, 1, 34, 34], 33);
    const dy2s = testData(size(spec2.outShape), 4);
    const dy2 = d.array(dy2s, spec2.outShape);
    const g2 = d.windowScatterAdd(dy2, spec2, [1, 1, 34, 34]);
    const m2 = closeTo(g2.read(), scatter64(dy2s, [1, 1, 34, 34], spec2), 1e-3, 1e-5);
    expect(m2, m2 ?? '').toBeNull();
    for (const a of [dy, g, dy2, g2]) a.dispose();
  });

  it('scatterAdd: repeated indices add up in order, out-of-range device indices drop, any axis', () => {
    const u = d.array([1, 2, 3, 4, 5, 6], [3, 2]);
    const g = d.scatterAdd(u, [2, 0, 2], 0, [4, 2]);
    expectSame(g.read(), [3, 4, 0, 0, 6, 8, 0, 0]);
    const ix = d.array([1, 7, -1], [3]);
    const g2 = d.scatterAdd(u, ix, 0, [2, 2]);
    expectSame(g2.read(), [0, 0, 1, 2]);
    const u3 = d.array(testData(2 * 3 * 4, 9), [2, 3, 4]);
    const g3 = d.scatterAdd(u3, [1, 1, 0], 1, [2, 2, 4]);
    const us = u3.read();
    const want = new Array<number>(16).fill(0);
    for (let p = 0; p < 2; p++)
      for (let j = 0; j < 3; j++)
        for (let q = 0; q < 4; q++) want[(p * 2 + [1, 1, 0][j]) * 4 + q] += us[(p * 3 + j) * 4 + q];
    const m = closeTo(g3.read(), want, SUM_ATOL, SUM_RTOL);
    expect(m, m ?? '').toBeNull();
    // more indices than one gl loop chunk
    const n = 5000;
    const idx = Array.from({ length: n }, (_, j) => (j * 7) % 13);
    const big = d.array(testData(n, 2), [n]);
    const bs = big.read();
    const g4 = d.scatterAdd(big, idx, 0, [13]);
    const want4 = new Array<number>(13).fill(0);
    for (let j = 0; j < n; j++) want4[idx[j]] += bs[j];
    const m4 = closeTo(g4.read(), want4, 1e-3, 1e-5);
    expect(m4, m4 ?? '').toBeNull();
    for (const a of [u, g, ix, g2, u3, g3, big, g4]) a.dispose();
    expect(() => d.scatterAdd(d.array([1, 2]), [0, 5], 0, [3])).toThrow(
      'scatterAdd: index 5 is out of range [0, 3) on axis 0',
    );
    expect(() => d.scatterAdd(d.array([1, 2]), [0], 0, [3])).toThrow(
      /updates \[2\] do not match \[1\] \(shape \[3\] with axis 0 replaced by the indices' shape \[1\]\)/,
    );
  });

  it('concat: values, -0 and NaN kept, zero-size parts, errors', () => {
    const a = d.array([-0, 1, Number.NaN, 3], [2, 2]);
    const b = d.array([4, 5], [1, 2]);
    const e = d.full([0, 2]);
    const c0 = d.concat([a, e, b], 0);
    expect([...c0.shape]).toEqual([3, 2]);
    expectSame(c0.read(), [-0, 1, Number.NaN, 3, 4, 5]);
    const c1 = d.concat([a, d.array([7, -0], [2, 1]), a], -1);
    expect([...c1.shape]).toEqual([2, 5]);
    expectSame(c1.read(), [-0, 1, 7, -0, 1, Number.NaN, 3, -0, Number.NaN, 3]);
    const c2 = d.concat([e, e], 0);
    expect([...c2.shape]).toEqual([0, 2]);
    expect(() => d.concat([a, d.array([1, 2, 3], [1, 3])], 0)).toThrow(
      'concat: shapes [2,2], [1,3] differ outside axis 0',
    );
    expect(() => d.concat([], 0)).toThrow(ShapeError);
    expect(() => d.concat([a], 2)).toThrow(/axis 2 is out of range/);
    for (const t of [a, b, e, c0, c1, c2]) t.dispose();
  });

  /** Pooling windows [N, C, KH, KW, OH, OW] (taps before positions), no padding. */
  const tapsMiddle = (inShape: number[], k: number, stride: number, dil = 1): WindowSpec => {
    const [N, C, H, W] = inShape;
    const OH = Math.floor((H - dil * (k - 1) - 1) / stride) + 1;
    const OW = Math.floor((W - dil * (k - 1) - 1) / stride) + 1;
    return {
      outShape: [N, C, k, k, OH, OW],
      axes: [0, 1, 2, 3, 2, 3],
      steps: [1, 1, dil, dil, stride, stride],
      offsets: [0, 0, 0, 0],
    };
  };
  const MAX_CASES: [string, number[], WindowSpec, number][] = [
    ['2x2 taps last (windows layout)', [2, 3, 7, 8], windowSpec2d([2, 3, 7, 8], 2), 4],
    ['3x3 stride 2, taps before positions', [2, 3, 9, 8], tapsMiddle([2, 3, 9, 8], 3, 2), 2],
    ['2x2 dilation 2 stride 1 (overlapping)', [1, 2, 6, 7], tapsMiddle([1, 2, 6, 7], 2, 1, 2), 2],
    [
      '3x3 stride 2 padding 1, -inf padding (composed)',
      [1, 2, 5, 6],
      windowSpec2d([1, 2, 5, 6], 3, { stride: 2, padding: 1, padValue: Number.NEGATIVE_INFINITY }),
      4,
    ],
  ];

  /** Few distinct values (ties), a NaN and a -inf here and there. */
  const tiedData = (n: number, seed: number): Float32Array => {
    const v = testData(n, seed).map((x) => Math.round(x * 2) / 2);
    for (let i = 5; i < n; i += 37) v[i] = Number.NaN;
    for (let i = 11; i < n; i += 29) v[i] = Number.NEGATIVE_INFINITY;
    return v;
  };

  /** max and first argmax (first NaN) of every window, and where each window's tap t reads. */
  const windowMax64 = (xs: ArrayLike<number>, inShape: number[], spec: WindowSpec, first: number) => {
    const w = window64(xs, inShape, spec);
    const out = spec.outShape;
    const pre = size(out.slice(0, first));
    const K = size(out.slice(first, first + 2));
    const post = size(out.slice(first + 2));
    const max: number[] = [];
    const index: number[] = [];
    const source: number[][] = [];
    for (let p = 0; p < pre; p++) {
      for (let q = 0; q < post; q++) {
        let bi = 0;
        const src: number[] = [];
        for (let t = 0; t < K; t++) {
          const flat = (p * K + t) * post + q;
          src.push(source64(spec, inShape, flat));
          const v = w[flat];
          const b = w[(p * K + bi) * post + q];
          if (!Number.isNaN(b) && (v > b || Number.isNaN(v))) bi = t;
        }
        max.push(w[(p * K + bi) * post + q]);
        index.push(bi);
        source.push(src);
      }
    }
    return { max, index, source };
  };

  it.each(MAX_CASES)('windowMax and windowScatterAt: %s', (_, inShape, spec, first) => {
    const xs = tiedData(size(inShape), 13);
    const x = d.array(xs, inShape);
    const [mx, ix] = d.windowMax(x, spec, first, 2);
    const kept = [...spec.outShape.slice(0, first), ...spec.outShape.slice(first + 2)];
    expect([...mx.shape]).toEqual(kept);
    expect([...ix.shape]).toEqual(kept);
    const want = windowMax64(xs, inShape, spec, first);
    expectSame(mx.read(), want.max);
    expectSame(ix.read(), want.index);
    // the gradient: dy[o] lands where the picked tap reads; bad indices (-1, K, 0.5) drop
    const dys = testData(size(kept), 17);
    const K = size(spec.outShape.slice(first, first + 2));
    const idx = Array.from(ix.read());
    idx[0] = -1;
    if (idx.length > 2) idx[1] = K;
    if (idx.length > 3) idx[2] = 0.5;
    const acc = new Array<number>(size(inShape)).fill(0);
    idx.forEach((t, o) => {
      const s = Number.isInteger(t) && t >= 0 && t < K ? want.source[o][t] : -1;
      if (s >= 0) acc[s] += dys[o];
    });
    const dy = d.array(dys, kept);
    const iv = d.array(idx, kept);
    const g = d.windowScatterAt(dy, iv, spec, first, 2, inShape);
    expect([...g.shape]).toEqual(inShape);
    const m = closeTo(g.read(), acc, SUM_ATOL, SUM_RTOL);
    expect(m, m ?? '').toBeNull();
    for (const a of [x, mx, ix, dy, iv, g]) a.dispose();
  });

  it('windowMax and windowScatterAt: errors name the op; memory stays flat', () => {
    const inShape = [1, 2, 4, 4];
    const spec = tapsMiddle(inShape, 2, 2);
    const x = d.array(testData(32, 3), inShape);
    const dy = d.array(testData(8, 2), [1, 2, 2, 2]);
    const before = d.memory();
    expect(() => d.windowMax(x, spec, 5, 2)).toThrow(ValueError);
    expect(() => d.windowMax(x, spec, 2, 0)).toThrow(/windowMax: the taps must be output axes/);
    expect(() => d.windowScatterAt(dy, dy, spec, 2, 1, inShape)).toThrow(
      /windowScatterAt: dy \[1, ?2, ?2, ?2\] does not have the window's shape without its taps/,
    );
    expect(d.memory().arrays).toBe(before.arrays);
    const step = () => {
      const [m, i] = d.windowMax(x, spec, 2, 2);
      d.windowScatterAt(m, i, spec, 2, 2, inShape).dispose();
      m.dispose();
      i.dispose();
    };
    step();
    const m0 = d.memory();
    for (let i = 0; i < 4; i++) step();
    const m1 = d.memory();
    expect([m1.arrays, m1.buffers, m1.bytes]).toEqual([m0.arrays, m0.buffers, m0.bytes]);
    for (const a of [x, dy]) a.dispose();
  });

  it('validates before launching: wrong dy shape, bad spec', () => {
    const x = d.array([1, 2, 3, 4]);
    const before = d.memory().kernels;
    expect(() => d.window(x, { outShape: [2], axes: [0], steps: [1], offsets: [3] })).toThrow(
      /window: window reads coordinates 3\.\.4 on axis 0 of input \[4\]/,
    );
    expect(() => d.windowScatterAdd(x, sliceWindow([8], [0], [3]), [8])).toThrow(
      "windowScatterAdd: dy [4] does not have the window's output shape [3]",
    );
    expect(d.memory().kernels).toBe(before);
    x.dispose();
  });

  it('memory stays flat over repeated window, scatter-add, scatterAdd and concat', () => {
    const spec = windowSpec2d([2, 3, 6, 6], 3, { padding: 1 });
    const x = d.array(testData(2 * 3 * 36, 1), [2, 3, 6, 6]);
    const step = () => {
      const w = d.window(x, spec);
      const g = d.windowScatterAdd(w, spec, x.shape);
      const s = d.scatterAdd(x, [1, 0], 0, [2, 3, 6, 6]);
      const c = d.concat([x, g, s], 1);
      for (const t of [w, g, s, c]) t.dispose();
    };
    step();
    const m0 = d.memory();
    for (let i = 0; i < 5; i++) step();
    const m1 = d.memory();
    expect(m1.arrays).toBe(m0.arrays);
    expect(m1.buffers).toBe(m0.buffers);
    expect(m1.bytes).toBe(m0.bytes);
    x.dispose();
  });

  it('timing: im2col [64,16,28,28] 3x3 pad 1 forward and backward (reported, not asserted)', async () => {
    const shape = [64, 16, 28, 28];
    const x = d.array(testData(size(shape), 1), shape);
    const time = async (f: () => DeviceArray): Promise<number> => {
      const w = f(); // warm-up (compiles)
      await w.readAsync();
      w.dispose();
      const t0 = performance.now();
      const r = f();
      await r.readAsync(); // wait for the device
      const dt = performance.now() - t0;
      r.dispose();
      return dt;
    };
    const report: string[] = [];
    for (const layout of ['rows', 'windows'] as const) {
      const spec = windowSpec2d(shape, 3, { padding: 1, layout });
      const fwd = await time(() => d.window(x, spec));
      const w = d.window(x, spec);
      const bwd = await time(() => d.windowScatterAdd(w, spec, shape));
      w.dispose();
      report.push(`${layout}: forward ${fwd.toFixed(1)} ms, backward ${bwd.toFixed(1)} ms`);
    }
    console.info(`[${name}] im2col [64,16,28,28] 3x3 pad 1 -> 7.2M values; ${report.join('; ')}`);
    x.dispose();
  }, 120_000);
});
