import {
  expectClose,
  expectGradcheck,
  loadFixture,
  TRANSCENDENTAL,
  testBackends,
  useBackend,
} from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { gelu } from './activations.js';
import { tensor } from './creation.js';
import { ValueError } from './errors.js';
import { biasActivation, linear } from './linear.js';
import { scope } from './scope.js';
import { smooth } from './testing/reference.js';

// gelu, exact and approximate: 'tanh', against PyTorch 1.13 (fixtures/gelu.json, written by
// fixtures/generate_gelu.py): values and the gradient of sum(gelu(x) w) computed by torch in float64
// for 0, -0, negative, positive and large |x| (up to 1e30), compared within TRANSCENDENTAL
// (1e-5 abs + 2e-5 rel); NaN, ±inf and huge values as torch computes them in float32: the class of
// every result (NaN, ±inf, finite) exactly, finite values within TRANSCENDENTAL. Gradients by
// finite differences (eps 1e-2, atol 1e-3, rtol 1e-2).

type Cell = number | 'nan' | 'inf' | '-inf' | '-0';
interface Case {
  x: Cell[];
  w?: number[];
  y: Cell[];
  dx: Cell[];
}
interface Fixture {
  torch: string;
  finite: Record<'none' | 'tanh', Case>;
  special: Record<'none' | 'tanh', Case>;
}
const FIXTURE = loadFixture<Fixture>(new URL('../fixtures/gelu.json', import.meta.url));
const num = (c: Cell): number =>
  c === 'nan'
    ? Number.NaN
    : c === 'inf'
      ? Number.POSITIVE_INFINITY
      : c === '-inf'
        ? Number.NEGATIVE_INFINITY
        : c === '-0'
          ? -0
          : c;
const MODES = ['none', 'tanh'] as const;

describe.each(testBackends)('gelu on %s', (backend) => {
  useBackend(backend);

  it.each(MODES)(
    "approximate '%s': values and gradients as PyTorch (float64) for 0, -0, negative and large |x|",
    (mode) =>
      scope(() => {
        const c = FIXTURE.finite[mode];
        const x = tensor(c.x.map(num), [c.x.length], { requiresGrad: true });
        const y = gelu(x, { approximate: mode });
        expectClose(y, c.y.map(num), TRANSCENDENTAL, `gelu(${mode}) values`);
        y.mul(tensor(c.w!, [c.w!.length]))
          .sum()
          .backward();
        expectClose(x.grad!, c.dx.map(num), TRANSCENDENTAL, `gelu(${mode}) gradient`);
      }),
  );

  it('the two forms are different functions (each matches only its own reference)', () =>
    scope(() => {
      // at x = 1 the forms differ by 1.5e-4 in value and 5e-4 in slope, above the tolerance
      const x = tensor([1, -1, 2], [3]);
      const exact = gelu(x).dataSync();
      const approx = gelu(x, { approximate: 'tanh' }).dataSync();
      const diff = Math.max(...Array.from(exact, (v, i) => Math.abs(v - approx[i])));
      expect(diff).toBeGreaterThan(1e-4);
      expect(approx[0]).toBeCloseTo(0.8411920070648193, 6);
      expect(exact[0]).toBeCloseTo(0.8413447141647339, 6);
      expect(Array.from(gelu(x, {}).dataSync())).toEqual(Array.from(exact));
      expect(Array.from(gelu(x, { approximate: 'none' }).dataSync())).toEqual(Array.from(exact));
      expect(Array.from(x.gelu({ approximate: 'tanh' }).dataSync())).toEqual(Array.from(approx));
    }));

  it.each(MODES)("approximate '%s': NaN, ±inf, -0 and huge values as PyTorch in float32", (mode) =>
    scope(() => {
      const c = FIXTURE.special[mode];
      const xs = c.x.map(num);
      const x = tensor(xs, [xs.length], { requiresGrad: true });
      const y = gelu(x, { approximate: mode });
      // class exact (NaN, ±inf), finite values within TRANSCENDENTAL; the sign of a zero is not
      // compared (torch gives +0 for exact gelu(-3e38), -0 for the tanh form)
      expectClose(y, c.y.map(num), TRANSCENDENTAL, `gelu(${mode}) special values`);
      y.backward(tensor(new Array<number>(xs.length).fill(1), [xs.length]));
      const want = c.dx.map((cell, i) => {
        const w = num(cell);
        // Deliberate deviation: for finite |x| >= 1e20 torch's float32 tanh-form kernel overflows
        // x^2 and gives NaN; gradkit gives the float64 value (1 for x > 0, 0 for x < 0), as torch
        // does in float64.
        if (mode === 'tanh' && Number.isFinite(xs[i]) && Math.abs(xs[i]) >= 1e20) {
          expect(w, 'torch float32 overflows here').toBeNaN();
          return xs[i] > 0 ? 1 : 0;
        }
        return w;
      });
      expectClose(x.grad!, want, TRANSCENDENTAL, `gelu(${mode}) special gradients`);
    }),
  );

  it("approximate 'tanh': gradient by finite differences, alone, fused with a bias and in linear", () =>
    scope(() => {
      const x = tensor(smooth(12, 51, -4, 4, 0.05), [3, 4], { requiresGrad: true });
      expectGradcheck((a) => gelu(a, { approximate: 'tanh' }), [x]);
      const z = tensor(smooth(6, 52, -3, 3, 0.05), [2, 3], { requiresGrad: true });
      const b = tensor([0.25, -0.4, 0.1], [3], { requiresGrad: true });
      expectGradcheck((u, v) => biasActivation(u, v, 'geluTanh'), [z, b]);
      // the fused kernel computes what the function does
      expectClose(
        biasActivation(z, b, 'geluTanh'),
        gelu(z.add(b), { approximate: 'tanh' }).dataSync(),
        TRANSCENDENTAL,
        'fused',
      );
      const w = tensor(smooth(12, 53, -1, 1, 0.02), [3, 4], { requiresGrad: true });
      const xl = tensor(smooth(8, 54, -1.5, 1.5, 0.02), [2, 4], { requiresGrad: true });
      expectGradcheck((u, v, c) => linear(u, v, c, { activation: 'geluTanh' }), [xl, w, b]);
      expectGradcheck((u, v) => linear(u, v, null, { activation: 'geluTanh' }), [xl, w]);
    }));

  it('bad options are ValueErrors naming gelu and the value', () =>
    scope(() => {
      const x = tensor([1], [1]);
      expect(() => gelu(x, { approximate: 'fast' as 'tanh' })).toThrow(ValueError);
      expect(() => gelu(x, { approximate: 'fast' as 'tanh' })).toThrow(
        /gelu: approximate must be one of 'none', 'tanh', got "fast"/,
      );
      expect(() => gelu(x, { approximation: 'tanh' } as never)).toThrow(
        /gelu: unknown option 'approximation'/,
      );
      expect(() => gelu(x, 'tanh' as never)).toThrow(/gelu: options must be an object/);
    }));
});
