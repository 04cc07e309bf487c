import { memory, Rng, randn, ShapeError, scope, tensor, ValueError } from '@gradkit/tensor';
import { expectClose, expectGradcheck, loadFixture, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { layerNorm, layerNormWithStats } from './layer-norm.js';
import { GRAD, OUTPUT } from './testing/fixtures.js';

// layerNormWithStats against torch.native_layer_norm (PyTorch 1.13, float64;
// fixtures/layer-norm-stats.json from fixtures/generate_layer_norm_stats.py): output, mean and rstd
// (values and PyTorch's shapes) within OUTPUT (1e-5 abs + 1e-4 rel), the gradients of
// sum(output * dy) within GRAD (1e-4 abs + 1e-4 rel); finite differences through the output
// (eps 1e-2, |err| <= 1e-3 + 1e-2 |numeric|).

interface Stat {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  shape: number[];
  normalizedShape: number[];
  eps: number;
  x: number[];
  dy: number[];
  weight: number[] | null;
  bias: number[] | null;
  output: number[];
  mean: Stat;
  rstd: Stat;
  dx: number[];
  dweight: number[] | null;
  dbias: number[] | null;
}
const FIXTURE = loadFixture<{ torch: string; cases: Case[] }>(
  new URL('../fixtures/layer-norm-stats.json', import.meta.url),
);

describe.each(testBackends)('layerNormWithStats on %s', (backend) => {
  useBackend(backend);

  describe(`against torch.native_layer_norm (PyTorch ${FIXTURE.torch}, float64)`, () => {
    it.each(FIXTURE.cases.map((c) => [c.name, c] as const))('%s', (_, c) =>
      scope(() => {
        const x = tensor(c.x, c.shape, { requiresGrad: true });
        const w = c.weight ? tensor(c.weight, c.normalizedShape, { requiresGrad: true }) : null;
        const b = c.bias ? tensor(c.bias, c.normalizedShape, { requiresGrad: true }) : null;
        const { output, mean, rstd } = layerNormWithStats(x, c.normalizedShape, {
          weight: w,
          bias: b,
          eps: c.eps,
        });
        expect(output.shape).toEqual(c.shape);
        expect(mean.shape).toEqual(c.mean.shape);
        expect(rstd.shape).toEqual(c.rstd.shape);
        expectClose(output, c.output, OUTPUT, 'output');
        expectClose(mean, c.mean.data, OUTPUT, 'mean');
        expectClose(rstd, c.rstd.data, OUTPUT, 'rstd');
        expect(mean.requiresGrad || rstd.requiresGrad).toBe(false);
        output.backward(tensor(c.dy, c.shape));
        expectClose(x.grad!, c.dx, GRAD, 'dx');
        if (w) expectClose(w.grad!, c.dweight!, GRAD, 'dweight');
        if (b) expectClose(b.grad!, c.dbias!, GRAD, 'dbias');
      }),
    );
  });

  it('the output is layerNorm itself, and the statistics are the ones it normalized with', () =>
    scope(() => {
      const rng = new Rng(31);
      const x = randn([5, 4, 6], { rng, std: 3, mean: 2 });
      const w = randn([6], { rng, mean: 1, std: 0.2 });
      const got = layerNormWithStats(x, 6, { weight: w, eps: 1e-3 });
      expect(Array.from(got.output.dataSync())).toEqual(
        Array.from(layerNorm(x, 6, { weight: w, eps: 1e-3 }).dataSync()),
      );
      // (x - mean) * rstd * w reproduces the output from the returned statistics
      const again = x.sub(got.mean).mul(got.rstd).mul(w);
      expectClose(again, got.output.dataSync(), { atol: 1e-5, rtol: 1e-5 }, 'from the statistics');
      expect(got.mean.shape).toEqual([5, 4, 1]);
      const over2 = layerNormWithStats(x, [4, 6]);
      expect(over2.mean.shape).toEqual([5, 1, 1]);
      expect(over2.rstd.shape).toEqual([5, 1, 1]);
    }));

  it('gradients through the output pass finite differences (x, weight, bias)', () =>
    scope(() => {
      const rng = new Rng(32);
      const x = randn([3, 2, 5], { rng, requiresGrad: true });
      const w = randn([5], { rng, mean: 1, std: 0.3, requiresGrad: true });
      const b = randn([5], { rng, std: 0.3, requiresGrad: true });
      expectGradcheck((xi, wi, bi) => layerNormWithStats(xi, 5, { weight: wi, bias: bi }).output, [x, w, b]);
    }));

  it('leaks nothing: after the scope, live tensors, arrays and buffers are as before (forward and backward)', () => {
    const before = memory();
    scope(() => {
      const x = tensor(
        Array.from({ length: 24 }, (_, i) => Math.sin(i)),
        [4, 6],
        { requiresGrad: true },
      );
      const { output, mean, rstd } = layerNormWithStats(x, [6]);
      output.sum().backward();
      expect(mean.dataSync().length + rstd.dataSync().length).toBe(8);
    });
    const after = memory();
    expect([after.tensors, after.arrays, after.buffers]).toEqual([
      before.tensors,
      before.arrays,
      before.buffers,
    ]);
  });

  it('bad input: errors name layerNormWithStats and leave nothing behind', () =>
    scope(() => {
      const x = tensor(new Array<number>(12).fill(1), [3, 4]);
      const w3 = tensor([1, 2, 3], [3]);
      const before = memory();
      expect(() => layerNormWithStats(x, [5])).toThrow(ShapeError);
      expect(() => layerNormWithStats(x, [5])).toThrow(/layerNormWithStats: expects an input \[\*, 5\]/);
      expect(() => layerNormWithStats(x, [4], { eps: -1 })).toThrow(ValueError);
      expect(() => layerNormWithStats(x, [4], { weight: w3 })).toThrow(/layerNormWithStats/);
      expect(memory().arrays).toBe(before.arrays);
    }));
});
