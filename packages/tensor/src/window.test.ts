import { readFileSync } from 'node:fs';
import { expectGradcheck, expectValues, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { concat } from './concat.js';
import { tensor, zeros } from './creation.js';
import { ShapeError, ValueError } from './errors.js';
import { gather } from './gather.js';
import { memory, scope } from './scope.js';
import { pad, slice } from './slice.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { ref, smooth, unravel } from './testing/reference.js';
import { im2col, unfold, window, windows2d } from './window.js';

// Movement ops copy values: forward results are compared exactly (atol = rtol = 0) with PyTorch
// 1.13 (fixtures/movement.json, float64 references of float32-exact inputs) and with independent
// float64 loops below. Gradients of sum(out * w): sums of at most ~10 products of values exact
// in float32 with 6 significant bits, so |got - want| <= 1e-6 (gl adds in float32).
// Finite differences: the repo's gradcheck tolerance (eps 1e-2, atol 1e-3, rtol 1e-2).
const EQ = { atol: 0, rtol: 0 };
const GRAD = { atol: 1e-6, rtol: 1e-6 };

interface FixtureCase {
  name: string;
  op: 'slice' | 'pad' | 'concat' | 'unfold' | 'im2col';
  args: Record<string, unknown>;
  reference: string;
  inputs: Ref[];
  weight: number[];
  out: Ref;
  grads: number[][];
}
const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/movement.json', import.meta.url), 'utf8')) as {
  cases: FixtureCase[];
};

type Pairs = [number, number][];
type Pair = number | [number, number];

function run(c: FixtureCase, xs: Tensor[]): Tensor {
  const a = c.args;
  switch (c.op) {
    case 'slice':
      return slice(xs[0], a.starts as (number | null)[], a.ends as (number | null)[], a.steps as number[]);
    case 'pad':
      return pad(xs[0], a.pads as Pairs, a.value as number);
    case 'concat':
      return concat(xs, a.axis as number);
    case 'unfold':
      return unfold(xs[0], a.dim as number, a.size as number, a.step as number);
    case 'im2col':
      return im2col(xs[0], a.kernelSize as Pair, {
        stride: a.stride as Pair | undefined,
        padding: a.padding as Pair | undefined,
        dilation: a.dilation as Pair | undefined,
      });
  }
}

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
/** n distinct values in [-2, 2) on a 1/64 grid (exact in float32; smooth() cannot give more than 80). */
const spread = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 97) % 256) / 64 - 2);

/** Independent im2col: out[n, (c*KH + u)*KW + v, i*OW + j] = x[n, c, i*s - p + u*d, ...] or 0. */
function im2col64(
  x: Ref,
  k: [number, number],
  s: [number, number],
  p: [number, number],
  dl: [number, number],
): Ref {
  const [N, C, H, W] = x.shape;
  const OH = Math.floor((H + 2 * p[0] - dl[0] * (k[0] - 1) - 1) / s[0]) + 1;
  const OW = Math.floor((W + 2 * p[1] - dl[1] * (k[1] - 1) - 1) / s[1]) + 1;
  const shape = [N, C * k[0] * k[1], OH * OW];
  const data: number[] = [];
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let u = 0; u < k[0]; u++)
        for (let v = 0; v < k[1]; v++)
          for (let i = 0; i < OH; i++)
            for (let j = 0; j < OW; j++) {
              const h = i * s[0] - p[0] + u * dl[0];
              const w = j * s[1] - p[1] + v * dl[1];
              data.push(h < 0 || h >= H || w < 0 || w >= W ? 0 : x.data[((n * C + c) * H + h) * W + w]);
            }
  return { shape, data };
}

describe.each(testBackends)('movement ops on %s', (backend) => {
  useBackend(backend);

  it.each(FIXTURE.cases.map((c) => [c.name, c] as const))(
    'PyTorch fixture: %s (values exact, gradient of sum(out * w))',
    (_, c) =>
      scope(() => {
        const xs = c.inputs.map((r) => t(r, true));
        const y = run(c, xs);
        expectValues(y, c.out, EQ);
        y.mul(tensor(c.weight, c.out.shape)).sum().backward();
        xs.forEach((x, i) => {
          expectValues(x.grad!, ref(c.grads[i], c.inputs[i].shape), GRAD);
        });
      }),
  );

  it.each(FIXTURE.cases.filter((c) => c.out.data.length > 0).map((c) => [c.name, c] as const))(
    'gradcheck: %s',
    (_, c) =>
      scope(() => {
        const w = tensor(c.weight, c.out.shape);
        expectGradcheck(
          (...xs) => run(c, xs).mul(w),
          c.inputs.map((r) => t(r, true)),
        );
      }),
  );

  it('im2col and windows2d against an independent float64 loop, layouts agree', () =>
    scope(() => {
      const x = ref(spread(2 * 3 * 6 * 5), [2, 3, 6, 5]);
      expectValues(im2col(t(x), 3, { padding: 1 }), im2col64(x, [3, 3], [1, 1], [1, 1], [1, 1]), EQ);
      expectValues(
        im2col(t(x), [2, 3], { stride: [2, 1], padding: [0, 2], dilation: [2, 2] }),
        im2col64(x, [2, 3], [2, 1], [0, 2], [2, 2]),
        EQ,
      );
      // windows [N, C, OH, OW, KH, KW] permuted to [N, C, KH, KW, OH, OW] is im2col's columns
      const wnd = windows2d(t(x), 3, { padding: 1 });
      expect(wnd.shape).toEqual([2, 3, 6, 5, 3, 3]);
      const cols = wnd.transpose([0, 1, 4, 5, 2, 3]).reshape([2, 27, 30]);
      expect(Array.from(cols.dataSync())).toEqual(Array.from(im2col(t(x), 3, { padding: 1 }).dataSync()));
      const rows = windows2d(t(x), 3, { padding: 1, layout: 'rows' });
      expect(rows.shape).toEqual([2, 6, 5, 3, 3, 3]);
      expect(Array.from(rows.dataSync())).toEqual(Array.from(wnd.transpose([0, 2, 3, 1, 4, 5]).dataSync()));
      // max-pooling from windows with -inf padding: every window max is a value of x
      const pooled = windows2d(t(x), 3, { stride: 2, padding: 1, padValue: Number.NEGATIVE_INFINITY }).max([
        4, 5,
      ]);
      expect(pooled.shape).toEqual([2, 3, 3, 3]);
      expect(Array.from(pooled.dataSync()).every((v) => x.data.includes(v))).toBe(true);
      expectGradcheck(
        (a) => windows2d(a, [2, 3], { stride: [1, 2], padding: 1, dilation: [2, 1] }),
        [t(x, true)],
      );
    }));

  it('slice: Python semantics (negative indices, clamping, reversal, empty) and its gradient', () =>
    scope(() => {
      const x = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const vals = (y: Tensor) => Array.from(y.dataSync());
      expect(vals(slice(x, [1], [8], [3]))).toEqual([1, 4, 7]);
      expect(vals(slice(x, [-3], [null]))).toEqual([7, 8, 9]);
      expect(vals(slice(x, [null], [null], [-2]))).toEqual([9, 7, 5, 3, 1]);
      expect(vals(slice(x, [-100], [100]))).toEqual(vals(x));
      expect(vals(slice(x, [8], [2], [-3]))).toEqual([8, 5]);
      expect(slice(x, [5], [5]).shape).toEqual([0]);
      expect(slice(x, [20], [30]).shape).toEqual([0]);
      expect(x.slice([2], [4]).shape).toEqual([2]);
      const m = tensor(smooth(12, 5), [3, 4]);
      expect(slice(m, [1], [null]).shape).toEqual([2, 4]); // missing axes are taken whole
      expectGradcheck(
        (a) => slice(a, [null, 3], [null, 0], [-1, -2]),
        [tensor(smooth(12, 6), [3, 4], { requiresGrad: true })],
      );
      const g = tensor(smooth(5, 7), [5], { requiresGrad: true });
      slice(g, [4], [null], [-3]).sum().backward(); // elements 4 and 1
      expect(vals(g.grad!)).toEqual([0, 1, 0, 0, 1]);
      // a zero-size slice: gradient all zero, no crash
      const e = tensor([1, 2, 3], [3], { requiresGrad: true });
      slice(e, [2], [1]).sum().backward();
      expect(vals(e.grad!)).toEqual([0, 0, 0]);
      expect(() => slice(x, [0], [3], [0])).toThrow(ValueError);
      expect(() => slice(x, [0], [3], [0])).toThrow(
        'slice: step on axis 0 must be a non-zero integer, got 0',
      );
      expect(() => slice(x, [0.5], [3])).toThrow(
        'slice: start on axis 0 must be an integer or null, got 0.5',
      );
      expect(() => slice(x, [0, 0], [1, 1])).toThrow(ShapeError);
    }));

  it('pad: values (NaN, -inf), crops, gradient; errors', () =>
    scope(() => {
      const x = tensor([1, 2, 3], [3], { requiresGrad: true });
      const y = pad(x, [[2, 1]], Number.NEGATIVE_INFINITY);
      expect(Array.from(y.dataSync())).toEqual([
        Number.NEGATIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        1,
        2,
        3,
        Number.NEGATIVE_INFINITY,
      ]);
      expect(Array.from(pad(x, [[1, 0]], Number.NaN).dataSync())).toEqual([Number.NaN, 1, 2, 3]);
      expect(Array.from(x.pad([[-1, -1]]).dataSync())).toEqual([2]);
      pad(x, [[-1, 2]])
        .mul(tensor([10, 20, 30, 40]))
        .sum()
        .backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([0, 10, 20]);
      expect(() => pad(x, [[-2, -2]])).toThrow(
        'pad: pads[0] = [-2, -2] crops axis 0 of [3] below zero length',
      );
      expect(() =>
        pad(x, [
          [1, 1],
          [1, 1],
        ]),
      ).toThrow(/pad: expects one \[before, after\] pair per axis of \[3\] \(1\), got 2/);
      expect(() => pad(x, [[1.5, 0]])).toThrow(ValueError);
      expect(
        pad(zeros([0, 2]), [
          [1, 1],
          [0, 0],
        ]).toArray(),
      ).toEqual([
        [0, 0],
        [0, 0],
      ]);
    }));

  it('concat: values, gradient split, zero-size parts, errors', () =>
    scope(() => {
      const a = tensor([1, 2], [1, 2], { requiresGrad: true });
      const b = tensor([3, 4, 5, 6], [2, 2], { requiresGrad: true });
      const e = zeros([0, 2]);
      const c = concat([a, e, b], 0);
      expect(c.toArray()).toEqual([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      c.mul(tensor([1, 2, 3, 4, 5, 6], [3, 2]))
        .sum()
        .backward();
      expect(a.grad!.toArray()).toEqual([[1, 2]]);
      expect(b.grad!.toArray()).toEqual([
        [3, 4],
        [5, 6],
      ]);
      expect(() => concat([], 0)).toThrow('concat: expects a non-empty array of tensors');
      expect(() => concat([a, tensor([1, 2, 3], [1, 3])], 0)).toThrow(
        'concat: shapes [1,2], [1,3] differ outside axis 0',
      );
      expect(() => concat([a], 2)).toThrow(ShapeError);
    }));

  it('unfold and im2col errors name the op and the shapes', () =>
    scope(() => {
      const x = zeros([2, 5]);
      expect(() => unfold(x, 1, 6, 1)).toThrow('unfold: size 6 is larger than axis 1 (length 5) of [2,5]');
      expect(() => unfold(x, 2, 1, 1)).toThrow(/unfold: dim 2 is out of range for input \[2,5\]/);
      expect(() => unfold(x, 1, 2, 0)).toThrow('unfold: step must be a positive integer, got 0');
      expect(unfold(x, 1, 0, 1).shape).toEqual([2, 6, 0]); // as PyTorch: size 0 gives len + 1 empty slices
      expect(() => im2col(x, 3)).toThrow('im2col: expects a 4-D input [N, C, H, W], got [2,5]');
      expect(() => im2col(zeros([1, 1, 2, 2]), 3, { padding: 0 })).toThrow(
        'im2col: the height 2 padded by 0 on each side (2) is smaller than the dilated kernel (3) for input [1,1,2,2]',
      );
      expect(() => im2col(zeros([1, 1, 4, 4]), 2, { dilation: 0 })).toThrow(
        /im2col: dilation must be an integer >= 1/,
      );
      expect(() => window(x, { outShape: [3], axes: [1], steps: [3], offsets: [0, 0] })).toThrow(
        'window: window reads coordinates 0..6 on axis 1 of input [2,5] (valid 0..4) for output [3]; give a padValue to read padding',
      );
    }));

  it('gather backward is a scatter-add: repeated indices, inner axis, index tensor (gradcheck)', () =>
    scope(() => {
      const x = tensor(smooth(24, 41), [2, 4, 3], { requiresGrad: true });
      gather(x, [3, 0, 3, 3], 1).sum().backward();
      const g = Array.from(x.grad!.dataSync());
      const want = Array.from({ length: 24 }, (_, i) => {
        const [, j] = unravel(i, [2, 4, 3]);
        return j === 3 ? 3 : j === 0 ? 1 : 0;
      });
      expect(g).toEqual(want);
      expectGradcheck(
        (a) =>
          gather(
            a,
            tensor([
              [2, 0],
              [2, 1],
            ]),
            1,
          ),
        [tensor(smooth(24, 42), [2, 4, 3], { requiresGrad: true })],
      );
    }));

  it('memory: repeated forward + backward of every op leaves no live arrays', () =>
    scope(() => {
      const x = tensor(spread(2 * 2 * 5 * 5), [2, 2, 5, 5], { requiresGrad: true });
      const step = () =>
        scope(() => {
          const y = im2col(x, 3, { padding: 1 })
            .sum()
            .add(slice(x, [null, 1], [null, null], [1, -1]).sum())
            .add(
              pad(x, [
                [0, 0],
                [1, 1],
                [-1, 2],
                [0, 1],
              ]).sum(),
            )
            .add(concat([x, x], 3).sum())
            .add(unfold(x, 2, 2, 2).sum())
            .add(gather(x, [1, 1, 0], 2).sum());
          y.backward();
          x.grad!.dispose();
          x.grad = null;
        });
      step();
      const m0 = memory();
      for (let i = 0; i < 5; i++) step();
      const m1 = memory();
      expect(m1.tensors).toBe(m0.tensors);
      expect(m1.arrays).toBe(m0.arrays);
      expect(m1.buffers).toBe(m0.buffers);
    }));
});
