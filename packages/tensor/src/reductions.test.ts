import { expectGradcheck, expectValues, TRANSCENDENTAL, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { tensor } from './creation.js';
import { ShapeError } from './errors.js';
import { argmax, logsumexp, max, mean, min, sum } from './reductions.js';
import { scope } from './scope.js';
import type { Axes, Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { lse64, max64, min64, reduce64, ref, smooth, sum64 } from './testing/reference.js';

// Values against float64 folds over the reduced elements (TRANSCENDENTAL tolerance: 1e-5 abs +
// 2e-5 rel, enough for float32 sums of 24 terms); gradients by gradcheck (eps 1e-2, atol 1e-3,
// rtol 1e-2) on distinct values (>= 0.05 apart, so max/min have no ties within eps).

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const X = ref(smooth(24, 61, -2, 2, 0.05), [2, 3, 4]);

const AXES: [Axes | undefined, number[]][] = [
  [undefined, [0, 1, 2]],
  [0, [0]],
  [1, [1]],
  [-1, [2]],
  [
    [0, 2],
    [0, 2],
  ],
  [[], []],
];
const OPS: [string, (x: Tensor, a?: Axes, k?: boolean) => Tensor, (v: number[]) => number][] = [
  ['sum', sum, sum64],
  ['mean', mean, (v) => sum64(v) / v.length],
  ['max', max, max64],
  ['min', min, min64],
  ['logsumexp', logsumexp, lse64],
];

describe.each(testBackends)('reductions on %s', (backend) => {
  useBackend(backend);

  for (const [name, fn, f] of OPS) {
    it(`${name}: values over every axes case, with and without keepDims`, () =>
      scope(() => {
        for (const [axes, norm] of AXES) {
          for (const keep of [false, true]) {
            expectValues(fn(t(X), axes, keep), reduce64(X, norm, keep, f), TRANSCENDENTAL);
          }
        }
      }));

    it(`${name}: gradients (gradcheck)`, () =>
      scope(() => {
        expectGradcheck((x) => fn(x), [t(X, true)]);
        expectGradcheck((x) => fn(x, -1), [t(X, true)]);
        expectGradcheck((x) => fn(x, [0, 2], true), [t(X, true)]);
        expectGradcheck((x) => fn(x, 1, true), [t(X, true)]);
      }));
  }

  it('max / min split the gradient evenly among tied extrema (as amax / amin)', () =>
    scope(() => {
      const x = tensor(
        [
          [1, 3, 3, 0],
          [2, 2, 2, 2],
        ],
        undefined,
        { requiresGrad: true },
      );
      max(x, 1).sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([0, 0.5, 0.5, 0, 0.25, 0.25, 0.25, 0.25]);
      x.grad = null;
      min(x).backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    }));

  it('argmax: first index of the maximum, no gradient', () =>
    scope(() => {
      const x = tensor(
        [
          [1, 5, 5],
          [7, 0, 2],
        ],
        undefined,
        { requiresGrad: true },
      );
      const a = argmax(x);
      expect(a.requiresGrad).toBe(false);
      expect(a.toArray()).toEqual([1, 0]);
      expect(argmax(x, 0).toArray()).toEqual([1, 0, 0]);
      expect(argmax(x, 1, true).shape).toEqual([2, 1]);
    }));

  it('logsumexp is stable for large inputs', () =>
    scope(() => {
      expect(logsumexp(tensor([1000, 1000])).item()).toBeCloseTo(1000 + Math.LN2, 3);
      expect(logsumexp(tensor([-1000, -1000])).item()).toBeCloseTo(-1000 + Math.LN2, 3);
    }));

  it('rejects axes out of range or repeated, naming the op', () =>
    scope(() => {
      expect(() => sum(t(X), 3)).toThrow(ShapeError);
      expect(() => sum(t(X), 3)).toThrow(/sum: axis 3 is out of range for a tensor of rank 3/);
      expect(() => mean(t(X), [1, -2])).toThrow(/mean: axis -2 is repeated/);
      expect(() => max(tensor([]))).toThrow(/max: cannot reduce an empty tensor/);
    }));
});
