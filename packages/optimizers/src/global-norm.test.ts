import { memory, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { globalNorm } from './global-norm.js';
import { expectValueError } from './testing/errors.js';

describe.each(testBackends)('globalNorm on %s', (backend) => {
  useBackend(backend);

  it('is sqrt of the sum of squares over every tensor, computed on the device', () => {
    const a = tensor([3, 0, -4], [3]);
    const b = tensor([[12]]);
    const before = memory().readbacks;
    const n = globalNorm({ a, b });
    expect(memory().readbacks).toBe(before);
    expect(n.shape).toEqual([]);
    expect(n.item()).toBeCloseTo(13, 6);
    const m = globalNorm([a]);
    expect(m.item()).toBeCloseTo(5, 6);
    for (const t of [a, b, n, m]) t.dispose();
  });

  it('needs at least one tensor', () => {
    expectValueError(() => globalNorm([]), 'globalNorm: needs at least one tensor');
  });
});
