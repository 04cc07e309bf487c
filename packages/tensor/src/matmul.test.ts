import type { Device } from '@gradkit/kernels';
import { expectGradcheck, expectValues, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { tensor, zeros } from './creation.js';
import { ShapeError } from './errors.js';
import { matmul } from './matmul.js';
import { scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { matmul64, ref, smooth, transpose64 } from './testing/reference.js';

// Values against a float64 triple loop: |err| <= 1e-5 + 1e-5 |want| (k = 3 float32 products);
// gradients by gradcheck (eps 1e-2, atol 1e-3, rtol 1e-2).
const TOL = { atol: 1e-5, rtol: 1e-5 };
const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });

const A = ref(smooth(6, 51, -2, 2, 0.01), [2, 3]);
const B = ref(smooth(12, 52, -2, 2, 0.01), [3, 4]);
const AT = transpose64(A, [1, 0]); // [3, 2]
const BT = transpose64(B, [1, 0]); // [4, 3]

const CASES: [string, Ref, Ref, boolean, boolean][] = [
  ['A B', A, B, false, false],
  ['A^T B (transA)', AT, B, true, false],
  ['A B^T (transB)', A, BT, false, true],
  ['A^T B^T (both)', AT, BT, true, true],
];

describe.each(testBackends)('matmul on %s', (backend) => {
  const device = useBackend(backend);

  for (const [name, a, b, transA, transB] of CASES) {
    it(`${name}: values`, () =>
      scope(() => {
        const c = matmul(t(a), t(b), { transA, transB });
        expectValues(c, matmul64(a, b, transA, transB), TOL);
        expectValues(c, matmul64(A, B), TOL);
      }));

    it(`${name}: gradients (gradcheck), backward without any transpose kernel`, () =>
      scope(() => {
        expectGradcheck((x, y) => matmul(x, y, { transA, transB }), [t(a, true), t(b, true)]);
        const d = device() as Device;
        const tr = vi.spyOn(d, 'transpose');
        const mm = vi.spyOn(d, 'matmul');
        try {
          const x = t(a, true);
          const y = t(b, true);
          const out = matmul(x, y, { transA, transB });
          mm.mockClear();
          out.backward(t(ref(smooth(8, 53), [2, 4])));
          expect(tr).not.toHaveBeenCalled();
          expect(mm).toHaveBeenCalledTimes(2);
        } finally {
          tr.mockRestore();
          mm.mockRestore();
        }
      }));
  }

  it('only the needed operand gradient is computed', () =>
    scope(() => {
      const spy = vi.spyOn(device() as Device, 'matmul');
      try {
        const x = t(A);
        const w = t(B, true);
        const out = matmul(x, w);
        spy.mockClear();
        out.sum().backward();
        expect(spy).toHaveBeenCalledTimes(1);
        expect(x.grad).toBeNull();
        expectValues(w.grad!, matmul64(A, ref(new Array(8).fill(1), [2, 4]), true, false), TOL);
      } finally {
        spy.mockRestore();
      }
    }));

  it('rejects non-2-D operands and mismatched inner sizes, naming matmul and the shapes', () =>
    scope(() => {
      expect(() => matmul(zeros([3]), t(B))).toThrow(/matmul: expects 2-D operands, got \[3\] and \[3,4\]/);
      expect(() => matmul(t(A), t(A))).toThrow(ShapeError);
      expect(() => matmul(t(A), t(A))).toThrow(/matmul: inner sizes differ/);
      expect(() => matmul(t(A), t(B), { transA: true })).toThrow(/\[2,3\].*\[3,4\]/);
    }));
});
