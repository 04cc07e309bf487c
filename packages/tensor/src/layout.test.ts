import { expectGradcheck, expectValues, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { arange, tensor, zeros } from './creation.js';
import { ShapeError } from './errors.js';
import { flatten, reshape, squeeze, transpose, unsqueeze } from './layout.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { ref, smooth, transpose64 } from './testing/reference.js';

// Layout ops move values without arithmetic: exact equality; gradients by gradcheck
// (eps 1e-2, atol 1e-3, rtol 1e-2).

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const X = ref(smooth(24, 81, -2, 2, 0.01), [2, 3, 4]);
const EQ = { atol: 0, rtol: 0 };

describe.each(testBackends)('layout on %s', (backend) => {
  useBackend(backend);

  it('reshape: values unchanged, -1 inferred, no new buffer', () =>
    scope(() => {
      const x = t(X);
      const before = memory().buffers;
      const y = reshape(x, [4, -1]);
      expect(memory().buffers).toBe(before);
      expectValues(y, ref(X.data, [4, 6]), EQ);
      expectGradcheck((a) => reshape(a, [6, 4]), [t(X, true)]);
    }));

  it('reshape: errors name the op', () =>
    scope(() => {
      expect(() => reshape(t(X), [5, -1])).toThrow(/reshape: cannot reshape 24 elements into \[5,-1\]/);
      expect(() => reshape(t(X), [-1, -1])).toThrow(ShapeError);
    }));

  it('flatten: PyTorch semantics', () =>
    scope(() => {
      expect(flatten(t(X)).shape).toEqual([24]);
      expect(flatten(t(X), 1).shape).toEqual([2, 12]);
      expect(flatten(t(X), 0, 1).shape).toEqual([6, 4]);
      expect(flatten(tensor(3)).shape).toEqual([1]);
      expectGradcheck((a) => flatten(a, 1), [t(X, true)]);
      expect(() => flatten(t(X), 2, 1)).toThrow(ShapeError);
    }));

  it('transpose: default reverses the axes; any permutation; gradients', () =>
    scope(() => {
      expectValues(transpose(t(X)), transpose64(X, [2, 1, 0]), EQ);
      expectValues(transpose(t(X), [1, 0, 2]), transpose64(X, [1, 0, 2]), EQ);
      expectValues(transpose(t(X), [2, 0, 1]), transpose64(X, [2, 0, 1]), EQ);
      expectGradcheck((a) => transpose(a, [2, 0, 1]), [t(X, true)]);
      expectGradcheck((a) => transpose(a), [t(X, true)]);
      expect(() => transpose(t(X), [0, 0, 1])).toThrow(/transpose: \[0,0,1\] is not a permutation/);
    }));

  it('squeeze / unsqueeze', () =>
    scope(() => {
      expect(squeeze(zeros([1, 3, 1, 2])).shape).toEqual([3, 2]);
      expect(squeeze(zeros([1, 3, 1, 2]), 2).shape).toEqual([1, 3, 2]);
      expect(squeeze(zeros([1, 3, 1, 2]), [0, -2]).shape).toEqual([3, 2]);
      expect(unsqueeze(zeros([3, 2]), 0).shape).toEqual([1, 3, 2]);
      expect(unsqueeze(zeros([3, 2]), -1).shape).toEqual([3, 2, 1]);
      expect(unsqueeze(zeros([3, 2]), 1).shape).toEqual([3, 1, 2]);
      expect(() => squeeze(zeros([1, 3]), 1)).toThrow(/squeeze: axis 1 has size 3, not 1/);
      expect(() => unsqueeze(zeros([3]), 2)).toThrow(ShapeError);
      const y = ref(X.data, [2, 1, 12]);
      expectGradcheck((a) => squeeze(a, 1), [t(y, true)]);
      expectGradcheck((a) => unsqueeze(a, 1), [t(X, true)]);
      expect(arange(6).reshape([2, 3]).unsqueeze(0).squeeze().toArray()).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
    }));
});
