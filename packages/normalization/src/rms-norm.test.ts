import { ones, Rng, randn, ShapeError, scope, tensor } from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { FLOAT32_EPS, RMSNorm, rmsNorm } from './rms-norm.js';
import { GRAD, OUTPUT, reference } from './testing/fixtures.js';

describe.each(testBackends)('RMSNorm on %s', (backend) => {
  useBackend(backend);

  describe(`against the float64 definition differentiated by PyTorch ${reference.torch}`, () => {
    for (const c of reference.rmsNorm) {
      it(c.name, () => {
        scope(() => {
          const norm = new RMSNorm(c.normalizedShape, { eps: c.eps, elementwiseAffine: c.elementwiseAffine });
          if (c.weight)
            norm.loadStateDict({ weight: { shape: c.normalizedShape, data: Float32Array.from(c.weight) } });
          const x = tensor(c.x, c.shape, { requiresGrad: true });
          const y = norm.forward(x);
          y.backward(tensor(c.dy, c.shape));
          expectClose(y, c.y, OUTPUT, 'y');
          expectClose(x.grad!, c.dx, GRAD, 'dx');
          if (c.weight) expectClose(norm.weight!.grad!, c.dweight!, GRAD, 'dweight');
          norm.dispose();
        });
      });
    }
  });

  describe('gradcheck (central differences, eps 1e-2, |err| <= 1e-3 + 1e-2 |numeric|)', () => {
    it('[4,3,5] over [5]: input and weight; over [3,5] without weight', () => {
      scope(() => {
        const rng = new Rng(41);
        const x = randn([4, 3, 5], { rng, mean: 0.5, requiresGrad: true });
        const w = randn([5], { rng, mean: 1, std: 0.3, requiresGrad: true });
        expectGradcheck((xi, wi) => rmsNorm(xi, 5, { weight: wi, eps: 1e-6 }), [x, w]);
        expectGradcheck((xi) => rmsNorm(xi, [3, 5]), [x]);
      });
    });
  });

  it('matches its definition x / sqrt(mean(x^2) + eps) * weight, computed in float64 here', () => {
    scope(() => {
      const xs = [3, -4, 0, 1e-3, 2, 2];
      const y = rmsNorm(tensor(xs, [2, 3]), 3, { weight: tensor([1, 2, -1]), eps: 0.5 }).dataSync();
      const want: number[] = [];
      for (let r = 0; r < 2; r++) {
        const row = xs.slice(3 * r, 3 * r + 3);
        const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 3 + 0.5);
        row.forEach((v, i) => {
          want.push((v / rms) * [1, 2, -1][i]);
        });
      }
      expectClose(y, want, { atol: 1e-6, rtol: 1e-6 });
    });
  });

  it('output rows have mean square 1 (up to eps); default eps is float32 machine epsilon', () => {
    scope(() => {
      const norm = new RMSNorm(5);
      expect(norm.eps).toBe(FLOAT32_EPS);
      expect(FLOAT32_EPS).toBe(2 ** -23);
      const y = norm.forward(randn([4, 3, 5], { rng: new Rng(42), mean: 1, std: 3 })).dataSync();
      for (let r = 0; r < 12; r++) {
        let ms = 0;
        for (let i = 0; i < 5; i++) ms += y[r * 5 + i] ** 2 / 5;
        expect(Math.abs(ms - 1)).toBeLessThan(1e-5);
      }
      expect(norm.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weight', [5]]]);
      norm.dispose();
    });
  });

  it('errors name the layer and the shapes', () => {
    scope(() => {
      const norm = new RMSNorm([3, 5]);
      expect(() => norm.forward(randn([4, 3, 4]))).toThrow(ShapeError);
      expect(() => norm.forward(randn([4, 3, 4]))).toThrow(
        /^RMSNorm: expects an input \[\*, 3, 5\] .*\[4,3,4\]/,
      );
      expect(() => rmsNorm(randn([2, 5]), 5, { weight: ones([5, 1]) })).toThrow(
        /rmsNorm: weight must have shape \[5\]/,
      );
      expect(() => new RMSNorm(5, { eps: -1 })).toThrow(/RMSNorm: eps must be/);
      norm.dispose();
    });
  });
});
