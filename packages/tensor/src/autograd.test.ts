import type { DeviceArray } from '@gradkit/kernels';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { fromOp } from './autograd.js';
import { ones, tensor } from './creation.js';
import { DisposedError, ShapeError, ValueError } from './errors.js';
import { enableGrad, isGradEnabled, noGrad } from './grad-mode.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';
import { zeroGrad } from './zero-grad.js';

const vals = (t: Tensor | null): number[] => Array.from(t!.dataSync());

describe.each(testBackends)('autograd on %s', (backend) => {
  useBackend(backend);

  it('backward() on a scalar fills .grad of the leaves that require grad', () =>
    scope(() => {
      const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
      const c = tensor([2, 2, 2]);
      const y = x.mul(c).add(1).square().sum(); // sum((2x + 1)^2), d/dx = 4 (2x + 1)
      expect(y.requiresGrad).toBe(true);
      expect(y.isLeaf).toBe(false);
      expect(y.gradFn).toBe('sum');
      y.backward();
      expect(vals(x.grad)).toEqual([12, 20, 28]);
      expect(c.grad).toBeNull();
    }));

  it('a non-scalar needs an explicit gradient of its shape', () =>
    scope(() => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const y = x.mul(3);
      expect(() => y.backward()).toThrow(ValueError);
      expect(() => y.backward()).toThrow(
        /backward: a gradient can be implied only for a one-element tensor; this one has shape \[2\]/,
      );
      expect(() => y.backward(tensor([1, 2, 3]))).toThrow(ShapeError);
      y.backward(tensor([1, -1]));
      expect(vals(x.grad)).toEqual([3, -3]);
    }));

  it('gradients accumulate across backward calls until zeroGrad', () =>
    scope(() => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      x.mul(2).sum().backward();
      const g = x.grad!;
      x.mul(3).sum().backward();
      expect(x.grad).toBe(g); // accumulated in place, same tensor
      expect(vals(x.grad)).toEqual([5, 5]);
      zeroGrad([x]);
      expect(x.grad).toBeNull();
      expect(g.isDisposed).toBe(true);
      x.square().sum().backward();
      expect(vals(x.grad)).toEqual([2, 4]);
    }));

  it('a tensor used several times gets the sum of its gradients (diamond)', () =>
    scope(() => {
      const x = tensor([0.5, -1], undefined, { requiresGrad: true });
      const a = x.mul(x); // 2x
      const b = x.exp(); // e^x
      a.add(b).add(x).sum().backward(); // 2x + e^x + 1
      const g = vals(x.grad);
      expect(g[0]).toBeCloseTo(1 + Math.exp(0.5) + 1, 5);
      expect(g[1]).toBeCloseTo(-2 + Math.exp(-1) + 1, 5);
    }));

  it('the graph is freed after backward unless retainGraph', () =>
    scope(() => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const y = x.square().sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      expect(vals(x.grad)).toEqual([4, 8]);
      expect(() => y.backward()).toThrow(
        /backward: the graph through 'sum' .* was already freed by an earlier backward\(\); pass \{ retainGraph: true \}/,
      );
    }));

  it('backward frees its intermediates and the saved values', () => {
    const x = tensor([0.5, 1, 1.5], undefined, { requiresGrad: true });
    const before = memory();
    const y = x.exp().mul(x).sigmoid().sum();
    y.backward();
    x.grad = null;
    // After backward only the graph's outputs are left: the saved views are gone.
    const mid = memory();
    expect(mid.arrays - before.arrays).toBe(mid.tensors - before.tensors);
    expect(y.gradFn).toBe('sum');
    x.dispose();
    y.dispose();
  });

  it('retainGrad() keeps the gradient of a non-leaf', () =>
    scope(() => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const h = x.mul(3).retainGrad();
      h.square().sum().backward(); // d/dh = 2h
      expect(vals(h.grad)).toEqual([6, 12]);
      expect(vals(x.grad)).toEqual([18, 36]);
    }));

  it('detach() cuts the graph and shares the values', () =>
    scope(() => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const d = x.mul(2).detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.isLeaf).toBe(true);
      expect(vals(d)).toEqual([2, 4]);
      const y = x.mul(d).sum();
      y.backward();
      expect(vals(x.grad)).toEqual([2, 4]);
    }));

  it('noGrad / enableGrad / isGradEnabled, including nesting and errors', () =>
    scope(() => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      expect(isGradEnabled()).toBe(true);
      const y = noGrad(() => {
        expect(isGradEnabled()).toBe(false);
        const inner = enableGrad(() => {
          expect(isGradEnabled()).toBe(true);
          return x.mul(2);
        });
        expect(inner.requiresGrad).toBe(true);
        return x.mul(2);
      });
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      expect(() => y.sum().backward()).toThrow(/backward: the tensor .* does not require grad/);
      expect(() =>
        noGrad(() => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(isGradEnabled()).toBe(true);
    }));

  it('noGrad keeps grad mode off until an async function settles', async () => {
    const p = noGrad(async () => {
      await Promise.resolve();
      return isGradEnabled();
    });
    expect(await p).toBe(false);
    expect(isGradEnabled()).toBe(true);
  });

  it('requiresGrad can only be set on leaves', () =>
    scope(() => {
      const x = tensor([1]);
      x.requiresGrad = true;
      expect(x.setRequiresGrad(false).requiresGrad).toBe(false);
      x.requiresGrad = true;
      expect(() => {
        x.mul(2).requiresGrad = false;
      }).toThrow(/requiresGrad: can only be changed on a leaf tensor; this one is the output of 'mul'/);
    }));

  it('backward through a disposed intermediate is a clear error, and writes nothing', () => {
    const w = tensor([1, 2], undefined, { requiresGrad: true });
    const loss = scope(() => w.mul(3).exp().sum()); // the intermediates are disposed by the scope
    expect(() => loss.backward()).toThrow(DisposedError);
    expect(() => loss.backward()).toThrow(
      /backward: the graph passes through a tensor \(output of 'exp', shape \[2\]\) that was disposed/,
    );
    expect(w.grad).toBeNull();
    loss.dispose();
    w.dispose();
  });

  it('assign() replaces values without touching graphs that already used the old ones', () =>
    scope(() => {
      const w = tensor([1, 2], undefined, { requiresGrad: true });
      const y = w.square().sum(); // saved w = [1, 2]
      noGrad(() => w.assign(tensor([10, 20])));
      expect(vals(w)).toEqual([10, 20]);
      y.backward();
      expect(vals(w.grad)).toEqual([2, 4]);
      expect(() => w.assign(tensor([1]))).toThrow(/assign: cannot assign shape \[1\] to shape \[2\]/);
    }));

  it('fromOp: custom ops record their backward; grads of shape errors are caught', () =>
    scope(() => {
      const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
      const d = x.device;
      const triple = (t: Tensor) =>
        fromOp('triple', d.scalar('mulScalar', t.array, 3), [t], () => (dy: DeviceArray) => [
          d.scalar('mulScalar', dy, 3),
        ]);
      triple(x).sum().backward();
      expect(vals(x.grad)).toEqual([3, 3, 3]);
      const bad = fromOp('bad', d.copy(x.array), [x], () => () => [d.full([2], 1)]);
      expect(() => bad.sum().backward()).toThrow(
        /internal error: 'bad' returned a gradient of shape \[2\] for an input of shape \[3\]/,
      );
    }));

  it('gradients of leaves survive the scope that computed them', () => {
    const w = tensor([1, 2], undefined, { requiresGrad: true });
    scope(() => {
      w.mul(w).sum().backward();
    });
    expect(w.grad!.isDisposed).toBe(false);
    expect(vals(w.grad)).toEqual([2, 4]);
    w.dispose();
    expect(w.grad).toBeNull();
  });

  it('ones().backward on a one-element tensor of any rank', () =>
    scope(() => {
      const x = ones([1, 1], { requiresGrad: true });
      x.mul(5).backward();
      expect(vals(x.grad)).toEqual([5]);
    }));
});
