import type { DeviceArray } from '@gradkit/kernels';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { fromOp } from './autograd.js';
import { tensor } from './creation.js';
import { ValueError } from './errors.js';
import { gradcheck } from './gradcheck.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';

describe.each(testBackends)('gradcheck on %s', (backend) => {
  useBackend(backend);

  it('reports per-input errors and passes a correct gradient', () =>
    scope(() => {
      const x = tensor([0.5, 1.5, -0.7], undefined, { requiresGrad: true });
      const c = tensor([1, 2, 3]);
      const r = gradcheck((a, b) => a.exp().mul(b), [x, c]);
      expect(r.ok).toBe(true);
      expect(r.eps).toBe(1e-2);
      expect(r.atol).toBe(1e-3);
      expect(r.rtol).toBe(1e-2);
      expect(r.outputShape).toEqual([3]);
      expect(r.inputs[0].checked).toBe(true);
      expect(r.inputs[1].checked).toBe(false);
      expect(r.inputs[0].maxAbsError).toBeLessThan(1e-3);
      expect(r.inputs[0].analytic).toHaveLength(3);
      expect(r.message).toMatch(/gradcheck passed/);
    }));

  it('catches a wrong gradient, names the input and the worst element', () =>
    scope(() => {
      const x = tensor([0.5, 1.5, -0.7], undefined, { requiresGrad: true });
      const d = x.device;
      // y = x^2 with a backward that forgets the factor 2 on purpose.
      const wrongSquare = (t: Tensor) =>
        fromOp('wrongSquare', d.unary('square', t.array), [t], () => (dy: DeviceArray) => [
          d.binary('mul', dy, t.array),
        ]);
      const r = gradcheck(wrongSquare, [x]);
      expect(r.ok).toBe(false);
      expect(r.inputs[0].ok).toBe(false);
      expect(r.inputs[0].maxRelError).toBeGreaterThan(0.4);
      expect(r.message).toMatch(/gradcheck FAILED/);
      expect(r.message).toMatch(/input 0 \[3\]: FAILED/);
    }));

  it('restores .grad and leaks nothing', () => {
    const x = tensor([0.5, 1.5], undefined, { requiresGrad: true });
    x.mul(2).sum().backward();
    const g = x.grad;
    const before = memory();
    gradcheck((a) => a.square().sum(), [x]);
    const after = memory();
    expect(x.grad).toBe(g);
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 2]);
    expect(after.tensors).toBe(before.tensors);
    expect(after.buffers).toBe(before.buffers);
    x.dispose();
  });

  it('rejects calls with nothing to check', () =>
    scope(() => {
      expect(() => gradcheck((a) => a, [tensor([1])])).toThrow(/gradcheck: no input requires grad/);
      expect(() => gradcheck((a) => a, [tensor([1], undefined, { requiresGrad: true })], { eps: 0 })).toThrow(
        ValueError,
      );
    }));
});
