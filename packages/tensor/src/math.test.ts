import {
  EXACT,
  expectGradcheck,
  expectValues,
  TRANSCENDENTAL,
  testBackends,
  useBackend,
} from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { tensor } from './creation.js';
import { ValueError } from './errors.js';
import { abs, clamp, clone, exp, log, sqrt, square } from './math.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { map64, ref, smooth } from './testing/reference.js';

// Values against float64 (EXACT: 1e-6 abs + 1e-6 rel; TRANSCENDENTAL: 1e-5 abs + 2e-5 rel);
// gradients by gradcheck (eps 1e-2, atol 1e-3, rtol 1e-2). Inputs stay >= 0.05 from kinks.

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const X = ref(smooth(6, 21, -2, 2, 0.05), [2, 3]);
const P = ref(smooth(6, 22, 0.3, 3, 0.05), [2, 3]);
const CL = ref(smooth(6, 23, -2, 2, 0.05, [-0.5, 1]), [2, 3]);

describe.each(testBackends)('math on %s', (backend) => {
  useBackend(backend);

  it('exp, log, sqrt, abs, square: values', () =>
    scope(() => {
      expectValues(exp(t(X)), map64(Math.exp, X), TRANSCENDENTAL);
      expectValues(log(t(P)), map64(Math.log, P), TRANSCENDENTAL);
      expectValues(sqrt(t(P)), map64(Math.sqrt, P), TRANSCENDENTAL);
      expectValues(abs(t(X)), map64(Math.abs, X), EXACT);
      expectValues(
        square(t(X)),
        map64((x) => x * x, X),
        EXACT,
      );
      expect(log(tensor([0])).dataSync()[0]).toBe(Number.NEGATIVE_INFINITY);
    }));

  it('exp, log, sqrt, abs, square: gradients (gradcheck)', () =>
    scope(() => {
      expectGradcheck((a) => exp(a), [t(X, true)]);
      expectGradcheck((a) => log(a), [t(P, true)]);
      expectGradcheck((a) => sqrt(a), [t(P, true)]);
      expectGradcheck((a) => abs(a), [t(X, true)]);
      expectGradcheck((a) => square(a), [t(X, true)]);
    }));

  it('abs has gradient 0 at 0 (PyTorch)', () =>
    scope(() => {
      const x = tensor([0, -1, 2], undefined, { requiresGrad: true });
      abs(x).sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([0, -1, 1]);
    }));

  it('clamp: both bounds, one bound, values and gradients', () =>
    scope(() => {
      expectValues(
        clamp(t(CL), -0.5, 1),
        map64((x) => Math.min(Math.max(x, -0.5), 1), CL),
        EXACT,
      );
      expectValues(
        clamp(t(CL), -0.5),
        map64((x) => Math.max(x, -0.5), CL),
        EXACT,
      );
      expectValues(
        clamp(t(CL), null, 1),
        map64((x) => Math.min(x, 1), CL),
        EXACT,
      );
      expectGradcheck((a) => clamp(a, -0.5, 1), [t(CL, true)]);
      expectGradcheck((a) => clamp(a, null, 1), [t(CL, true)]);
      // Gradient passes at the bounds themselves (inclusive, as PyTorch).
      const x = tensor([-0.5, 1, 2], undefined, { requiresGrad: true });
      clamp(x, -0.5, 1).sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([1, 1, 0]);
    }));

  it('clamp: rejects missing or inverted bounds', () =>
    scope(() => {
      expect(() => clamp(t(X))).toThrow(ValueError);
      expect(() => clamp(t(X), 2, 1)).toThrow(/clamp: min \(2\) must not exceed max \(1\)/);
      expect(() => clamp(t(X), Number.NaN, 1)).toThrow(ValueError);
    }));

  it('clone: a new buffer with the same values, gradient dy', () =>
    scope(() => {
      const x = t(X, true);
      const before = memory().buffers;
      const y = clone(x);
      expect(memory().buffers).toBe(before + 1);
      expect(y.gradFn).toBe('clone');
      expectValues(y, X);
      expectGradcheck((a) => clone(a), [x]);
    }));
});
