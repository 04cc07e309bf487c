import { expectGradcheck, expectValues, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { tensor } from './creation.js';
import { ShapeError, ValueError } from './errors.js';
import { gather, oneHot } from './gather.js';
import { scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { ref, smooth, unravel } from './testing/reference.js';

// gather / oneHot move values: exact equality; gather's gradient by gradcheck (eps 1e-2, atol
// 1e-3, rtol 1e-2) and, for repeated indices, exact counts.

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const EQ = { atol: 0, rtol: 0 };

/** Reference gather: out[pre, j..., post] = x[pre, idx[j...], post]. */
function gather64(x: Ref, idx: number[], idxShape: number[], axis: number): Ref {
  const shape = [...x.shape.slice(0, axis), ...idxShape, ...x.shape.slice(axis + 1)];
  const n = shape.reduce((p, d) => p * d, 1);
  const data: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = unravel(i, shape);
    const jIdx = o.slice(axis, axis + idxShape.length);
    let flatJ = 0;
    for (let d = 0; d < idxShape.length; d++) flatJ = flatJ * idxShape[d] + jIdx[d];
    const src = [...o.slice(0, axis), idx[flatJ], ...o.slice(axis + idxShape.length)];
    let p = 0;
    for (let d = 0; d < x.shape.length; d++) p = p * x.shape[d] + src[d];
    data.push(x.data[p]);
  }
  return { shape, data };
}

const TABLE = ref(smooth(12, 101), [4, 3]);
const X3 = ref(smooth(24, 102), [2, 4, 3]);

describe.each(testBackends)('gather and oneHot on %s', (backend) => {
  useBackend(backend);

  it('gather along axis 0 (rows, repeated) and along inner axes', () =>
    scope(() => {
      expectValues(gather(t(TABLE), [2, 0, 2]), gather64(TABLE, [2, 0, 2], [3], 0), EQ);
      expectValues(gather(t(TABLE), [1, 1, 0, 2], 1), gather64(TABLE, [1, 1, 0, 2], [4], 1), EQ);
      expectValues(gather(t(X3), [3, 0], 1), gather64(X3, [3, 0], [2], 1), EQ);
      expectValues(gather(t(X3), [2, 2, 1], -1), gather64(X3, [2, 2, 1], [3], 2), EQ);
      // indices in a tensor, of rank 2
      const idx = tensor([
        [0, 3],
        [1, 1],
      ]);
      expectValues(gather(t(TABLE), idx), gather64(TABLE, [0, 3, 1, 1], [2, 2], 0), EQ);
      expectValues(gather(t(X3), new Int32Array([1, 0]), 0), gather64(X3, [1, 0], [2], 0), EQ);
    }));

  it('gather: gradient scatters and sums repeated indices (gradcheck and exact counts)', () =>
    scope(() => {
      expectGradcheck((x) => gather(x, [2, 0, 2]), [t(TABLE, true)]);
      expectGradcheck((x) => gather(x, [1, 1, 0, 2], 1), [t(TABLE, true)]);
      expectGradcheck((x) => gather(x, [3, 0, 3], 1), [t(X3, true)]);
      expectGradcheck(
        (x) =>
          gather(
            x,
            tensor([
              [0, 3],
              [1, 1],
            ]),
          ),
        [t(TABLE, true)],
      );
      const x = t(TABLE, true);
      gather(x, [2, 0, 2]).sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0]);
    }));

  it('gather: host indices are checked', () =>
    scope(() => {
      expect(() => gather(t(TABLE), [0, 4])).toThrow(ValueError);
      expect(() => gather(t(TABLE), [0, 4])).toThrow(
        /gather: index 1 is 4; indices must be integers in \[0, 4\) on axis 0/,
      );
      expect(() => gather(t(TABLE), [0.5])).toThrow(/gather: index 0 is 0.5/);
      expect(() => gather(t(TABLE), [0], 2)).toThrow(ShapeError);
    }));

  it('oneHot from host labels and from a tensor; errors', () =>
    scope(() => {
      expect(oneHot([2, 0], 3).toArray()).toEqual([
        [0, 0, 1],
        [1, 0, 0],
      ]);
      expect(oneHot(tensor([[1], [0]]), 2).toArray()).toEqual([[[0, 1]], [[1, 0]]]);
      expect(tensor([1, 0]).oneHot(2).requiresGrad).toBe(false);
      expect(() => oneHot([3], 3)).toThrow(/oneHot: label 0 is 3; labels must be integers in \[0, 3\)/);
      expect(() => oneHot([1.5], 3)).toThrow(ValueError);
      expect(() => oneHot([1], 0)).toThrow(/oneHot: depth must be a positive integer/);
    }));
});
