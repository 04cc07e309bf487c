import type { Tensor } from '@gradkit/tensor';
import { fromOp, scope, tensor } from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';

// The shared expectGradcheck (tools/test-utils) keeps the all-zero-gradient guard: an op whose
// backward writes zeros while its true gradient is below the tolerance's atol (1e-3) passes the
// element-wise comparison, and must still fail.

/** `1e-4 x` with a backward that forgets the gradient (returns zeros). */
function brokenScale(x: Tensor): Tensor {
  const d = x.device;
  return fromOp('brokenScale', d.scalar('mulScalar', x.array, 1e-4), [x], () => (dy) => [
    d.scalar('mulScalar', dy, 0),
  ]);
}

/** `1e-4 x` with its true gradient. */
function smallScale(x: Tensor): Tensor {
  const d = x.device;
  return fromOp('smallScale', d.scalar('mulScalar', x.array, 1e-4), [x], () => (dy) => [
    d.scalar('mulScalar', dy, 1e-4),
  ]);
}

describe.each(testBackends)('expectGradcheck on %s', (backend) => {
  useBackend(backend);
  it('fails on an all-zero analytic gradient the tolerance alone would accept', () =>
    scope(() => {
      const x = tensor([0.5, -1.5, 2], undefined, { requiresGrad: true });
      expect(() => expectGradcheck(brokenScale, [x])).toThrow(/analytic gradient is all zero/);
      expectGradcheck(smallScale, [x]);
    }));
});
