import { Parameter, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { applyUpdates, gradsOf } from './apply-updates.js';
import { expectValueError } from './testing/errors.js';

describe.each(testBackends)('applyUpdates / gradsOf on %s', (backend) => {
  useBackend(backend);

  it('adds the updates in place, keeping the parameter tensors', () => {
    const w = new Parameter([1, 2, 3]);
    const u = { w: tensor([0.5, -1, 0.25]) };
    const params = { w };
    expect(applyUpdates(params, u).w).toBe(w);
    expect(Array.from(w.dataSync())).toEqual([1.5, 1, 3.25]);
    expect(u.w.isDisposed).toBe(false);
    expectValueError(() => applyUpdates(params, { v: u.w }), "applyUpdates: no parameter named 'v'");
    u.w.dispose();
    w.dispose();
  });

  it('gradsOf collects the gradients that are set', () => {
    const w = new Parameter([1, 2]);
    const b = new Parameter([3]);
    w.grad = tensor([1, 1]);
    const grads = gradsOf({ w, b });
    expect(Object.keys(grads)).toEqual(['w']);
    expect(grads.w).toBe(w.grad);
    w.dispose();
    b.dispose();
  });
});
