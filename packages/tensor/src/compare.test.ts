import { expectGradcheck, expectValues, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { equal, greater, greaterEqual, less, lessEqual, notEqual, where } from './compare.js';
import { tensor } from './creation.js';
import { ShapeError } from './errors.js';
import { scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { map64, ref, smooth } from './testing/reference.js';

// Comparisons and where select values: exact equality; where's gradients by gradcheck
// (eps 1e-2, atol 1e-3, rtol 1e-2).

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const EQ = { atol: 0, rtol: 0 };
const A = ref([1, 2, 3, 4, 2, 0], [2, 3]);
const B = ref([2, 2, 1], [3]);

const OPS: [string, (a: Tensor, b: Tensor | number) => Tensor, (a: number, b: number) => boolean][] = [
  ['equal', equal, (a, b) => a === b],
  ['notEqual', notEqual, (a, b) => a !== b],
  ['less', less, (a, b) => a < b],
  ['lessEqual', lessEqual, (a, b) => a <= b],
  ['greater', greater, (a, b) => a > b],
  ['greaterEqual', greaterEqual, (a, b) => a >= b],
];

describe.each(testBackends)('comparisons and where on %s', (backend) => {
  useBackend(backend);

  for (const [name, fn, f] of OPS) {
    it(`${name}: broadcast tensor and scalar operands, never requires grad`, () =>
      scope(() => {
        const a = t(A, true);
        const r = fn(a, t(B));
        expect(r.requiresGrad).toBe(false);
        expectValues(
          r,
          map64((x, y) => (f(x, y) ? 1 : 0), A, B),
          EQ,
        );
        expectValues(
          fn(a, 2),
          map64((x) => (f(x, 2) ? 1 : 0), A),
          EQ,
        );
        expect(() => fn(a, tensor([1, 2]))).toThrow(
          new RegExp(`${name}: shapes \\[2,3\\] and \\[2\\] cannot be broadcast`),
        );
      }));
  }

  const COND = ref([1, 0, 1, 0, 0, 1], [2, 3]);
  const X = ref(smooth(3, 91), [3]);
  const Y = ref(smooth(2, 92), [2, 1]);

  it('where: values with broadcast and scalar branches', () =>
    scope(() => {
      const pick = (c: number, x: number, y: number) => (c !== 0 ? x : y);
      expectValues(where(t(COND), t(X), t(Y)), map64(pick, COND, X, Y), EQ);
      expectValues(
        where(t(COND), t(X), 0),
        map64((c, x) => pick(c, x, 0), COND, X),
        EQ,
      );
      expectValues(
        where(t(COND), -1, t(Y)),
        map64((c, y) => pick(c, -1, y), COND, Y),
        EQ,
      );
      expectValues(
        where(t(COND), 5, 7),
        map64((c) => pick(c, 5, 7), COND),
        EQ,
      );
    }));

  it('where: gradients to both branches, summed back over broadcasting (gradcheck)', () =>
    scope(() => {
      expectGradcheck((x, y) => where(t(COND), x, y), [t(X, true), t(Y, true)]);
      expectGradcheck((x) => where(t(COND), x, 0.5), [t(X, true)]);
      expectGradcheck((y) => where(t(COND), 0.5, y), [t(Y, true)]);
      const x = t(X, true);
      where(t(COND), x, 0).sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([1, 0, 2]);
    }));

  it('where: shape errors', () =>
    scope(() => {
      expect(() => where(t(COND), tensor([1, 2]), 0)).toThrow(ShapeError);
      expect(() => where(t(COND), tensor([1, 2]), 0)).toThrow(/where:/);
    }));
});
