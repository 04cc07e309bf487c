import { ones, Rng, randn, ShapeError, scope, tensor, ValueError } from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { GroupNorm, groupNorm } from './group-norm.js';
import { GRAD, moments, OUTPUT, reference } from './testing/fixtures.js';

describe.each(testBackends)('GroupNorm on %s', (backend) => {
  useBackend(backend);

  describe(`against PyTorch ${reference.torch} (float64), ${OUTPUT.atol}/${GRAD.atol} tolerances`, () => {
    for (const c of reference.groupNorm) {
      it(c.name, () => {
        scope(() => {
          const gn = new GroupNorm(c.numGroups, c.shape[1], { eps: c.eps, affine: c.affine });
          if (c.weight) {
            gn.loadStateDict({
              weight: { shape: [c.shape[1]], data: Float32Array.from(c.weight) },
              bias: { shape: [c.shape[1]], data: Float32Array.from(c.bias!) },
            });
          }
          const x = tensor(c.x, c.shape, { requiresGrad: true });
          const y = gn.forward(x);
          y.backward(tensor(c.dy, c.shape));
          expectClose(y, c.y, OUTPUT, 'y');
          expectClose(x.grad!, c.dx, GRAD, 'dx');
          if (c.affine) {
            expectClose(gn.weight!.grad!, c.dweight!, GRAD, 'dweight');
            expectClose(gn.bias!.grad!, c.dbias!, GRAD, 'dbias');
          }
          gn.dispose();
        });
      });
    }
  });

  describe('gradcheck (central differences, eps 1e-2, |err| <= 1e-3 + 1e-2 |numeric|)', () => {
    it('3 groups on [4,6,5]: input, weight and bias', () => {
      scope(() => {
        const rng = new Rng(31);
        const x = randn([4, 6, 5], { rng, requiresGrad: true });
        const w = randn([6], { rng, mean: 1, std: 0.3, requiresGrad: true });
        const b = randn([6], { rng, std: 0.3, requiresGrad: true });
        expectGradcheck((xi, wi, bi) => groupNorm(xi, 3, { weight: wi, bias: bi }), [x, w, b]);
      });
    });

    it('2 groups on [4,6] without affine', () => {
      scope(() => {
        const x = randn([4, 6], { rng: new Rng(32), std: 2, requiresGrad: true });
        expectGradcheck((xi) => groupNorm(xi, 2), [x]);
      });
    });
  });

  it('each (sample, group) of the output has mean 0 and variance 1', () => {
    scope(() => {
      // [4,6,5] with 3 groups: each group is 2 consecutive channels x 5 = 10 contiguous values
      const y = new GroupNorm(3, 6, { affine: false }).forward(
        randn([4, 6, 5], { rng: new Rng(33), mean: -1, std: 3 }),
      );
      const { mean, variance } = moments(y.dataSync(), 12);
      for (let g = 0; g < 12; g++) {
        expect(Math.abs(mean[g])).toBeLessThan(1e-6);
        expect(Math.abs(variance[g] - 1)).toBeLessThan(1e-5);
      }
    });
  });

  it('has per-channel weight and bias named as in PyTorch', () => {
    const gn = new GroupNorm(2, 6);
    expect(gn.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['weight', [6]],
      ['bias', [6]],
    ]);
    expect(String(gn)).toBe('GroupNorm(2, 6, eps=0.00001, affine=true)');
    gn.dispose();
  });

  it('errors name the layer and the shapes', () => {
    expect(() => new GroupNorm(4, 6)).toThrow(ValueError);
    expect(() => new GroupNorm(4, 6)).toThrow(
      /GroupNorm: numChannels \(6\) must be divisible by numGroups \(4\)/,
    );
    expect(() => new GroupNorm(0, 6)).toThrow('GroupNorm: numGroups must be an integer >= 1, got 0');
    scope(() => {
      const gn = new GroupNorm(3, 6);
      expect(() => gn.forward(randn([4, 5, 2]))).toThrow(ShapeError);
      expect(() => gn.forward(randn([4, 5, 2]))).toThrow(
        /^GroupNorm: expects 6 channels .*got shape \[4,5,2\]/,
      );
      expect(() => gn.forward(randn([6]))).toThrow(
        /GroupNorm: expects an input \[N, C, \*\], got shape \[6\]/,
      );
      expect(() => groupNorm(randn([2, 5]), 2)).toThrow(
        /groupNorm: the 5 channels .*\[2,5\] do not divide into 2 groups/,
      );
      expect(() => groupNorm(randn([2, 6]), 2, { bias: ones([3]) })).toThrow(
        /groupNorm: bias must have shape \[6\]/,
      );
      gn.dispose();
    });
  });
});
