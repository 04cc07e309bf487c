import {
  EXACT,
  expectGradcheck,
  expectValues,
  TRANSCENDENTAL,
  testBackends,
  useBackend,
} from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { add, div, maximum, minimum, mul, neg, pow, sub } from './arithmetic.js';
import { tensor } from './creation.js';
import { DisposedError, ShapeError, ValueError } from './errors.js';
import { scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { map64, ref, smooth } from './testing/reference.js';

// Values: float64 references, tolerance EXACT (|err| <= 1e-6 + 1e-6 |want|), TRANSCENDENTAL for pow.
// Gradients: gradcheck with eps 1e-2, atol 1e-3, rtol 1e-2 (see testing/setup.ts).

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });

// All values pairwise at least 0.05 apart (maximum/minimum gradients are checked away from ties).
const pool = smooth(12, 11, -2, 2, 0.05);
const A = ref(pool.slice(0, 6), [2, 3]);
const B = ref(pool.slice(6, 9), [3]);
const C = ref(pool.slice(9, 11), [2, 1]);
const POS = ref(smooth(6, 5, 0.5, 2), [2, 3]);
const POS3 = ref(smooth(3, 6, 0.5, 2), [3]);

type Fn = (a: Tensor, b: Tensor | number) => Tensor;
const BINARY: [string, Fn, (a: number, b: number) => number][] = [
  ['add', add, (a, b) => a + b],
  ['sub', sub, (a, b) => a - b],
  ['mul', mul, (a, b) => a * b],
  ['div', div, (a, b) => a / b],
  ['maximum', maximum, Math.max],
  ['minimum', minimum, Math.min],
];

describe.each(testBackends)('arithmetic on %s', (backend) => {
  useBackend(backend);

  for (const [name, fn, f] of BINARY) {
    // Division by values near 0 is avoided: the divisor is always POS / POS3 / 1.5.
    const rhs = name === 'div' ? [POS3, ref([1.25, 0.75], [2, 1])] : [B, C];
    it(`${name}: values with broadcasting ([2,3] op [3], [2,3] op [2,1], [2,1] op [3], scalar)`, () =>
      scope(() => {
        expectValues(fn(t(A), t(rhs[0])), map64(f, A, rhs[0]), EXACT);
        expectValues(fn(t(A), t(rhs[1])), map64(f, A, rhs[1]), EXACT);
        expectValues(fn(t(C), t(rhs[0])), map64(f, C, rhs[0]), EXACT);
        expectValues(
          fn(t(A), 1.5),
          map64((a) => f(a, 1.5), A),
          EXACT,
        );
        expectValues(fn(t(A), t(A)), map64(f, A, A), EXACT);
      }));

    it(`${name}: gradients through broadcasting (gradcheck)`, () =>
      scope(() => {
        expectGradcheck((a, b) => fn(a, b), [t(A, true), t(rhs[0], true)]);
        expectGradcheck((a, b) => fn(a, b), [t(C, true), t(rhs[0], true)]);
        expectGradcheck((a, b) => fn(a, b), [t(A, true), t(rhs[1], true)]);
        expectGradcheck((a) => fn(a, 1.5), [t(A, true)]);
        expectGradcheck((a) => fn(a, 0.25), [t(A, true)]);
      }));

    it(`${name}: rejects shapes that do not broadcast, naming the op and shapes`, () =>
      scope(() => {
        const err = (() => {
          try {
            fn(t(A), tensor([1, 2]));
          } catch (e) {
            return e;
          }
        })();
        expect(err).toBeInstanceOf(ShapeError);
        expect((err as ShapeError).message).toContain(`${name}:`);
        expect((err as ShapeError).message).toContain('[2,3]');
        expect((err as ShapeError).message).toContain('[2]');
      }));
  }

  it('maximum / minimum split the gradient in halves at ties (PyTorch)', () =>
    scope(() => {
      const a = tensor([1, 2, 5], undefined, { requiresGrad: true });
      const b = tensor([1, 3, 4], undefined, { requiresGrad: true });
      maximum(a, b).sum().backward();
      expect(Array.from(a.grad!.dataSync())).toEqual([0.5, 0, 1]);
      expect(Array.from(b.grad!.dataSync())).toEqual([0.5, 1, 0]);
      a.grad = null;
      b.grad = null;
      minimum(a, b).sum().backward();
      expect(Array.from(a.grad!.dataSync())).toEqual([0.5, 1, 0]);
      expect(Array.from(b.grad!.dataSync())).toEqual([0.5, 0, 1]);
      a.grad = null;
      maximum(a, 2).sum().backward();
      expect(Array.from(a.grad!.dataSync())).toEqual([0, 0.5, 1]);
    }));

  it('neg: values and gradient', () =>
    scope(() => {
      expectValues(
        neg(t(A)),
        map64((a) => -a, A),
      );
      expectGradcheck((a) => neg(a), [t(A, true)]);
    }));

  it('pow: scalar exponents (negative bases with integer exponents), tensor exponents', () =>
    scope(() => {
      expectValues(
        pow(t(A), 3),
        map64((a) => a ** 3, A),
        TRANSCENDENTAL,
      );
      expectValues(
        pow(t(A), 2),
        map64((a) => a * a, A),
        TRANSCENDENTAL,
      );
      expectValues(
        pow(t(A), -1),
        map64((a) => 1 / a, A),
        TRANSCENDENTAL,
      );
      expectValues(pow(t(POS), 0.5), map64(Math.sqrt, POS), TRANSCENDENTAL);
      expectValues(
        pow(t(POS), t(B)),
        map64((a, b) => a ** b, POS, B),
        TRANSCENDENTAL,
      );
      const nan = pow(tensor([-2]), 0.5).dataSync()[0];
      expect(Number.isNaN(nan)).toBe(true);
    }));

  it('pow: gradients (gradcheck), d/dx of x^0 is 0', () =>
    scope(() => {
      expectGradcheck((a) => pow(a, 3), [t(A, true)]);
      expectGradcheck((a) => pow(a, 2.5), [t(POS, true)]);
      expectGradcheck((a) => pow(a, -1.5), [t(POS, true)]);
      expectGradcheck((a, b) => pow(a, b), [t(POS, true), t(B, true)]);
      const x = tensor([-1, 2], undefined, { requiresGrad: true });
      pow(x, 0).sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([0, 0]);
    }));

  it('validates operands: disposed tensors, non-tensors, non-number scalars', () =>
    scope(() => {
      const x = t(A);
      const y = t(A);
      y.dispose();
      expect(() => add(x, y)).toThrow(DisposedError);
      expect(() => add(x, y)).toThrow(/add/);
      expect(() => mul(y, 2)).toThrow(/mul/);
      expect(() => add(x, '1' as unknown as number)).toThrow(ValueError);
      expect(() => add(null as unknown as Tensor, x)).toThrow(ValueError);
    }));
});
