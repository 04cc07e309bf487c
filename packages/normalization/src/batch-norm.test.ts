import {
  DisposedError,
  noGrad,
  ones,
  Rng,
  randn,
  ShapeError,
  scope,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { batchNorm } from './batch-norm.js';
import { BatchNorm, BatchNorm1d, BatchNorm2d } from './batch-norm-layer.js';
import type { Pass } from './testing/fixtures.js';
import { GRAD, moments, OUTPUT, reference, STATS } from './testing/fixtures.js';

/** `[N, C, *]` values reordered channel-major (`[C, N * prod(*)]`). */
function channelMajor(values: Float32Array, shape: readonly number[]): Float32Array {
  const [n, c] = shape;
  const inner = values.length / (n * c);
  const out = new Float32Array(values.length);
  let k = 0;
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < n; i++) for (let j = 0; j < inner; j++) out[k++] = values[(i * c + ch) * inner + j];
  return out;
}

describe.each(testBackends)('BatchNorm on %s', (backend) => {
  useBackend(backend);

  describe(`against PyTorch ${reference.torch} (float64), ${OUTPUT.atol}/${GRAD.atol} tolerances`, () => {
    for (const c of reference.batchNorm) {
      it(c.name, () => {
        const Layer = c.layer === 'BatchNorm2d' ? BatchNorm2d : BatchNorm1d;
        const bn = new Layer(c.shape[1], c.options);
        scope(() =>
          noGrad(() => {
            if (c.weight) bn.weight!.assign(tensor(c.weight));
            if (c.bias) bn.bias!.assign(tensor(c.bias));
          }),
        );
        const check = (p: Pass, what: string) =>
          scope(() => {
            const x = tensor(p.x, c.shape, { requiresGrad: true });
            const y = bn.forward(x);
            y.backward(tensor(p.dy, c.shape));
            expectClose(y, p.y, OUTPUT, `${what}: y`);
            expectClose(x.grad!, p.dx, GRAD, `${what}: dx`);
            if (c.options.affine) {
              expectClose(bn.weight!.grad!, p.dweight!, GRAD, `${what}: dweight`);
              expectClose(bn.bias!.grad!, p.dbias!, GRAD, `${what}: dbias`);
            }
            bn.zeroGrad();
          });
        c.train.forEach((step, i) => {
          check(step, `training step ${i + 1}`);
          if (step.runningMean) {
            expectClose(bn.runningMean!, step.runningMean, STATS, `step ${i + 1}: runningMean`);
            expectClose(bn.runningVar!, step.runningVar!, STATS, `step ${i + 1}: runningVar`);
            expect(bn.numBatchesTracked!.item()).toBe(step.numBatchesTracked);
          }
        });
        bn.eval();
        check(c.eval, 'evaluation');
        if (c.options.trackRunningStats) {
          const last = c.train[c.train.length - 1];
          expectClose(bn.runningMean!, last.runningMean!, STATS, 'evaluation leaves runningMean');
          expect(bn.numBatchesTracked!.item()).toBe(last.numBatchesTracked);
        }
        bn.dispose();
      });
    }
  });

  describe('gradcheck (central differences, eps 1e-2, |err| <= 1e-3 + 1e-2 |numeric|)', () => {
    it('training mode [4,3,5]: input, weight and bias', () => {
      scope(() => {
        const rng = new Rng(11);
        const x = randn([4, 3, 5], { rng, requiresGrad: true });
        const w = randn([3], { rng, mean: 1, std: 0.3, requiresGrad: true });
        const b = randn([3], { rng, std: 0.3, requiresGrad: true });
        expectGradcheck((xi, wi, bi) => batchNorm(xi, { weight: wi, bias: bi, training: true }), [x, w, b]);
      });
    });

    it('training mode [6,3] without affine, and through a module updating its statistics', () => {
      scope(() => {
        const x = randn([6, 3], { rng: new Rng(12), std: 2, requiresGrad: true });
        expectGradcheck((xi) => batchNorm(xi, { training: true }), [x]);
        const bn = new BatchNorm1d(3);
        expectGradcheck((xi) => bn.forward(xi), [x]);
        bn.dispose();
      });
    });

    it('evaluation mode [4,3,5] with running statistics: input, weight and bias', () => {
      scope(() => {
        const rng = new Rng(13);
        const x = randn([4, 3, 5], { rng, requiresGrad: true });
        const w = randn([3], { rng, mean: 1, std: 0.3, requiresGrad: true });
        const b = randn([3], { rng, std: 0.3, requiresGrad: true });
        const runningMean = tensor([0.3, -0.2, 0.1]);
        const runningVar = tensor([0.5, 1.5, 2]);
        expectGradcheck(
          (xi, wi, bi) => batchNorm(xi, { weight: wi, bias: bi, runningMean, runningVar }),
          [x, w, b],
        );
      });
    });
  });

  it('training output has mean 0 and variance 1 per channel ([4,3,5], weight 1, bias 0)', () => {
    scope(() => {
      const bn = new BatchNorm1d(3);
      const x = randn([4, 3, 5], { rng: new Rng(14), mean: 3, std: 5 });
      const y = bn.forward(x);
      const { mean, variance } = moments(channelMajor(y.dataSync(), y.shape), 3);
      for (let ch = 0; ch < 3; ch++) {
        expect(Math.abs(mean[ch])).toBeLessThan(1e-6);
        expect(Math.abs(variance[ch] - 1)).toBeLessThan(1e-5);
      }
      bn.dispose();
    });
  });

  it('BatchNorm2d normalizes each channel over N, H and W', () => {
    scope(() => {
      const bn = new BatchNorm2d(3);
      const y = bn.forward(randn([2, 3, 2, 2], { rng: new Rng(15), mean: -2, std: 3 }));
      const { mean, variance } = moments(channelMajor(y.dataSync(), y.shape), 3);
      for (let ch = 0; ch < 3; ch++) {
        expect(Math.abs(mean[ch])).toBeLessThan(1e-6);
        expect(Math.abs(variance[ch] - 1)).toBeLessThan(1e-5);
      }
      bn.dispose();
    });
  });

  it('the generic BatchNorm takes any rank >= 2', () => {
    scope(() => {
      const bn = new BatchNorm(3);
      expect(bn.forward(randn([2, 3, 2, 2, 1])).shape).toEqual([2, 3, 2, 2, 1]);
      expect(bn.forward(randn([6, 3])).shape).toEqual([6, 3]);
      bn.dispose();
    });
  });

  it('registers PyTorch-named parameters and buffers, and round-trips a state dict', () => {
    const bn = new BatchNorm1d(3);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(bn.namedBuffers().map(([n]) => n)).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    scope(() => bn.forward(randn([6, 3], { rng: new Rng(16) })));
    const sd = bn.stateDict();
    // PyTorch's keys, order and dtypes (nn.BatchNorm1d(3).state_dict())
    expect(Object.keys(sd)).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(sd.num_batches_tracked.shape).toEqual([]);
    expect(sd.num_batches_tracked.data[0]).toBe(1);
    expect(sd.num_batches_tracked.dtype).toBe('int64');
    expect(sd.running_mean.dtype).toBeUndefined();
    expect(sd.weight.dtype).toBeUndefined();
    const other = new BatchNorm1d(3);
    other.loadStateDict(sd);
    expectClose(other.runningMean!, sd.running_mean.data, { atol: 0, rtol: 0 });
    expect(other.numBatchesTracked!.item()).toBe(1);
    other.resetRunningStats();
    expectClose(other.runningMean!, [0, 0, 0], { atol: 0, rtol: 0 });
    expectClose(other.runningVar!, [1, 1, 1], { atol: 0, rtol: 0 });
    expect(other.numBatchesTracked!.item()).toBe(0);
    expect(new BatchNorm1d(3, { affine: false }).namedParameters()).toEqual([]);
    const untracked = new BatchNorm1d(3, { trackRunningStats: false });
    expect(Object.keys(untracked.stateDict())).toEqual(['weight', 'bias']);
    expect(untracked.runningMean).toBeNull();
    for (const m of [bn, other, untracked]) m.dispose();
  });

  it('evaluation mode reads the running statistics and leaves them alone', () => {
    scope(() => {
      const bn = new BatchNorm1d(2).eval();
      noGrad(() => {
        bn.runningMean!.assign(tensor([1, -1]));
        bn.runningVar!.assign(tensor([4, 0.25]));
      });
      const y = bn.forward(tensor([3, -1, 1, 0], [2, 2]));
      const s = (v: number) => Math.sqrt(v + 1e-5);
      expectClose(y, [2 / s(4), 0, 0, 1 / s(0.25)], { atol: 1e-6, rtol: 1e-6 });
      expectClose(bn.runningMean!, [1, -1], { atol: 0, rtol: 0 });
      expect(bn.numBatchesTracked!.item()).toBe(0);
      bn.dispose();
    });
  });

  it('the Keras convention: momentum is the decay (default 0.99), eps 1e-3, biased variance', () => {
    scope(() => {
      const keras = new BatchNorm1d(1, { convention: 'keras' });
      expect([keras.momentum, keras.eps]).toEqual([0.99, 1e-3]);
      const k9 = new BatchNorm1d(1, { convention: 'keras', momentum: 0.9 });
      const torch1 = new BatchNorm1d(1, { momentum: 0.1 });
      const x = tensor([1, 2, 3, 6], [4, 1]); // mean 3, biased var 3.5, unbiased 14/3
      k9.forward(x);
      torch1.forward(x);
      expectClose(k9.runningMean!, [0.3], { atol: 1e-7, rtol: 1e-6 });
      expectClose(torch1.runningMean!, [0.3], { atol: 1e-7, rtol: 1e-6 });
      expectClose(k9.runningVar!, [0.9 + 0.1 * 3.5], { atol: 1e-7, rtol: 1e-6 });
      expectClose(torch1.runningVar!, [0.9 + (0.1 * 14) / 3], { atol: 1e-7, rtol: 1e-6 });
      for (const m of [keras, k9, torch1]) m.dispose();
    });
  });

  describe('errors', () => {
    it('one value per channel in training is a ValueError, and nothing is updated', () => {
      scope(() => {
        const bn = new BatchNorm1d(3);
        expect(() => bn.forward(randn([1, 3]))).toThrow(ValueError);
        expect(() => bn.forward(randn([1, 3, 1]))).toThrow(/more than 1 value per channel.*\[1,3,1\]/);
        expect(bn.numBatchesTracked!.item()).toBe(0);
        expectClose(bn.runningMean!, [0, 0, 0], { atol: 0, rtol: 0 });
        bn.eval();
        expect(bn.forward(randn([1, 3])).shape).toEqual([1, 3]); // running statistics: fine
        const untracked = new BatchNorm1d(3, { trackRunningStats: false }).eval();
        expect(() => untracked.forward(randn([1, 3]))).toThrow(ValueError);
        expect(() => batchNorm(randn([1, 3]), { training: true })).toThrow(/batchNorm: expected more than 1/);
        bn.dispose();
        untracked.dispose();
      });
    });

    it('shape mismatches are ShapeErrors naming the layer and the shapes', () => {
      scope(() => {
        const bn = new BatchNorm1d(3);
        const err = (fn: () => unknown) => {
          try {
            fn();
          } catch (e) {
            return e as ShapeError;
          }
          throw new Error('did not throw');
        };
        const e = err(() => bn.forward(randn([4, 5])));
        expect(e).toBeInstanceOf(ShapeError);
        expect(e.message).toMatch(/^BatchNorm1d: expects 3 channels.*got shape \[4,5\]/);
        expect(e.shapes).toEqual([[4, 5]]);
        expect(() => bn.forward(randn([2, 3, 2, 2]))).toThrow(
          /BatchNorm1d: expects an input \[N, C\] or \[N, C, L\], got shape \[2,3,2,2\]/,
        );
        expect(() => bn.forward(randn([3]))).toThrow(ShapeError);
        expect(() => new BatchNorm2d(3).forward(randn([4, 3]))).toThrow(/BatchNorm2d: .*\[4,3\]/);
        expect(() => new BatchNorm(3).forward(randn([4, 2, 5]))).toThrow(/BatchNorm: expects 3 channels/);
        expect(() => batchNorm(randn([4, 3]), { weight: ones([4]), training: true })).toThrow(
          /batchNorm: weight must have shape \[3\] for an input of shape \[4,3\], got \[4\]/,
        );
        expect(() => batchNorm(randn([4, 3]), { runningMean: zeros([3]), runningVar: ones([2]) })).toThrow(
          ShapeError,
        );
        bn.dispose();
      });
    });

    it('bad options are ValueErrors', () => {
      expect(() => new BatchNorm1d(0)).toThrow('BatchNorm1d: numFeatures must be an integer >= 1, got 0');
      expect(() => new BatchNorm1d(2.5)).toThrow(ValueError);
      expect(() => new BatchNorm1d(3, { momentum: 1.5 })).toThrow(
        'BatchNorm1d: momentum must be a number in [0, 1] or null, got 1.5',
      );
      expect(() => new BatchNorm1d(3, { eps: Number.NaN })).toThrow(
        'BatchNorm1d: eps must be a finite number, got NaN',
      );
      expect(() => new BatchNorm1d(3, { eps: -1 })).toThrow('BatchNorm1d: eps must be >= 0, got -1');
      expect(() => new BatchNorm1d(3, { convention: 'tf' as 'keras' })).toThrow(/convention/);
      scope(() => {
        const x = randn([4, 3]);
        expect(() => batchNorm(x)).toThrow(
          /evaluation mode \(training: false\) needs runningMean and runningVar/,
        );
        expect(() => batchNorm(x, { runningMean: zeros([3]), training: true })).toThrow(/given together/);
        expect(() =>
          batchNorm(x, { runningMean: zeros([3]), runningVar: ones([3]), momentum: null, training: true }),
        ).toThrow(/needs numBatchesTracked/);
        const gone = randn([4, 3]);
        gone.dispose();
        expect(() => batchNorm(gone, { training: true })).toThrow(DisposedError);
        expect(() => batchNorm(null as unknown as Tensor)).toThrow(/batchNorm: the input must be a Tensor/);
      });
    });
  });
});
