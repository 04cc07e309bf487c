import { ones, Rng, randn, ShapeError, scope, tensor, ValueError } from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { LayerNorm, layerNorm } from './layer-norm.js';
import { GRAD, moments, OUTPUT, reference } from './testing/fixtures.js';

describe.each(testBackends)('LayerNorm on %s', (backend) => {
  useBackend(backend);

  describe(`against PyTorch ${reference.torch} (float64), ${OUTPUT.atol}/${GRAD.atol} tolerances`, () => {
    for (const c of reference.layerNorm) {
      it(c.name, () => {
        scope(() => {
          const x = tensor(c.x, c.shape, { requiresGrad: true });
          const shape = c.normalizedShape;
          // weight and bias, or neither: the module; a weight without bias: the functional form
          const ln = c.hasBias
            ? new LayerNorm(shape, { eps: c.eps, elementwiseAffine: c.elementwiseAffine })
            : null;
          if (ln && c.weight) {
            ln.loadStateDict({
              weight: { shape, data: Float32Array.from(c.weight) },
              bias: { shape, data: Float32Array.from(c.bias!) },
            });
          }
          const w = ln ? ln.weight : c.weight ? tensor(c.weight, shape, { requiresGrad: true }) : null;
          const b = ln ? ln.bias : null;
          const y = ln ? ln.forward(x) : layerNorm(x, shape, { weight: w, eps: c.eps });
          y.backward(tensor(c.dy, c.shape));
          if (w) expectClose(w.grad!, c.dweight!, GRAD, 'dweight');
          if (b) expectClose(b.grad!, c.dbias!, GRAD, 'dbias');
          expectClose(y, c.y, OUTPUT, 'y');
          expectClose(x.grad!, c.dx, GRAD, 'dx');
          ln?.dispose();
        });
      });
    }
  });

  describe('gradcheck (central differences, eps 1e-2, |err| <= 1e-3 + 1e-2 |numeric|)', () => {
    it('[4,3,5] over [5]: input, weight and bias', () => {
      scope(() => {
        const rng = new Rng(21);
        const x = randn([4, 3, 5], { rng, requiresGrad: true });
        const w = randn([5], { rng, mean: 1, std: 0.3, requiresGrad: true });
        const b = randn([5], { rng, std: 0.3, requiresGrad: true });
        expectGradcheck((xi, wi, bi) => layerNorm(xi, 5, { weight: wi, bias: bi }), [x, w, b]);
      });
    });

    it('[4,3,5] over [3,5] without affine, and with a weight only', () => {
      scope(() => {
        const rng = new Rng(22);
        const x = randn([4, 3, 5], { rng, std: 2, requiresGrad: true });
        const w = randn([3, 5], { rng, mean: 1, std: 0.3, requiresGrad: true });
        expectGradcheck((xi) => layerNorm(xi, [3, 5]), [x]);
        expectGradcheck((xi, wi) => layerNorm(xi, [3, 5], { weight: wi }), [x, w]);
      });
    });
  });

  it('each row of the output has mean 0 and variance 1', () => {
    scope(() => {
      const y = new LayerNorm(5, { elementwiseAffine: false }).forward(
        randn([4, 3, 5], { rng: new Rng(23), mean: 2, std: 4 }),
      );
      const { mean, variance } = moments(y.dataSync(), 12);
      for (let r = 0; r < 12; r++) {
        expect(Math.abs(mean[r])).toBeLessThan(1e-6);
        expect(Math.abs(variance[r] - 1)).toBeLessThan(1e-5);
      }
    });
  });

  it('has weight and bias of shape normalizedShape, named as in PyTorch; bias: false drops the bias', () => {
    const ln = new LayerNorm([3, 5]);
    expect(ln.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['weight', [3, 5]],
      ['bias', [3, 5]],
    ]);
    expect(ln.training).toBe(true);
    ln.eval(); // the same computation in both modes
    const noBias = new LayerNorm(5, { bias: false });
    expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(new LayerNorm(5, { elementwiseAffine: false }).namedParameters()).toEqual([]);
    expect(String(noBias)).toBe('LayerNorm([5], eps=0.00001, elementwiseAffine=true, bias=false)');
    ln.dispose();
    noBias.dispose();
  });

  it('errors name the layer and the shapes', () => {
    scope(() => {
      const ln = new LayerNorm([3, 5]);
      expect(() => ln.forward(randn([4, 5, 3]))).toThrow(ShapeError);
      expect(() => ln.forward(randn([4, 5, 3]))).toThrow(
        /^LayerNorm: expects an input \[\*, 3, 5\] .*got shape \[4,5,3\]/,
      );
      expect(() => ln.forward(randn([5]))).toThrow(ShapeError);
      expect(() => layerNorm(randn([2, 5]), 5, { weight: ones([4]) })).toThrow(
        /layerNorm: weight must have shape \[5\]/,
      );
      expect(() => new LayerNorm([])).toThrow(ValueError);
      expect(() => new LayerNorm([3, 0])).toThrow(
        'LayerNorm: normalizedShape[1] must be an integer >= 1, got 0',
      );
      expect(() => layerNorm(randn([2, 5]), 5, { eps: Number.NaN })).toThrow(
        'layerNorm: eps must be a finite number, got NaN',
      );
      ln.dispose();
    });
  });
});
