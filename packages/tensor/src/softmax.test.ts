import { expectGradcheck, expectValues, TRANSCENDENTAL, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { tensor } from './creation.js';
import { ShapeError } from './errors.js';
import { scope } from './scope.js';
import { logSoftmax, softmax } from './softmax.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { lse64, map64, reduce64, ref, smooth } from './testing/reference.js';

// Values against float64 exp(x - lse) (TRANSCENDENTAL: 1e-5 abs + 2e-5 rel); gradients by
// gradcheck (eps 1e-2, atol 1e-3, rtol 1e-2).

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const X = ref(smooth(24, 71, -3, 3, 0.01), [2, 3, 4]);

function logSoftmax64(x: Ref, axis: number): Ref {
  const lse = reduce64(x, [axis], true, lse64);
  return map64((v, l) => v - l, x, lse);
}

describe.each(testBackends)('softmax on %s', (backend) => {
  useBackend(backend);

  it('softmax and logSoftmax: values along each axis', () =>
    scope(() => {
      for (const axis of [0, 1, 2]) {
        const ls = logSoftmax64(X, axis);
        expectValues(logSoftmax(t(X), axis), ls, TRANSCENDENTAL);
        expectValues(softmax(t(X), axis), map64(Math.exp, ls), TRANSCENDENTAL);
      }
      expectValues(softmax(t(X)), map64(Math.exp, logSoftmax64(X, 2)), TRANSCENDENTAL);
    }));

  it('softmax and logSoftmax: gradients (gradcheck)', () =>
    scope(() => {
      for (const axis of [-1, 1]) {
        expectGradcheck((x) => softmax(x, axis), [t(X, true)]);
        expectGradcheck((x) => logSoftmax(x, axis), [t(X, true)]);
      }
    }));

  it('is stable for large logits', () =>
    scope(() => {
      expect(Array.from(softmax(tensor([[1000, 0, -1000]])).dataSync())).toEqual([1, 0, 0]);
      const ls = logSoftmax(tensor([[1000, 0]])).dataSync();
      expect(ls[0]).toBe(0);
      expect(ls[1]).toBe(-1000);
    }));

  it('rejects a bad axis', () =>
    scope(() => {
      expect(() => softmax(t(X), 3)).toThrow(ShapeError);
      expect(() => logSoftmax(tensor(1), -1)).toThrow(/logSoftmax: axis -1 is out of range/);
    }));
});
