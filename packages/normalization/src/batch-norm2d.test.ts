import {
  keep,
  type MemoryInfo,
  Module,
  memory,
  mseLoss,
  noGrad,
  Rng,
  randn,
  ShapeError,
  scope,
  type Tensor,
  tensor,
} from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { batchNorm } from './batch-norm.js';
import { BatchNorm2d } from './batch-norm-layer.js';
import { GroupNorm, groupNorm } from './group-norm.js';
import { LayerNorm, layerNorm } from './layer-norm.js';
import { reference } from './testing/fixtures.js';

// Image-shaped inputs [N, C, H, W]. The PyTorch replays of BatchNorm2d (every momentum mode, the
// Keras convention, no affine, no running statistics, a batch of one image), GroupNorm and
// LayerNorm on NCHW run in batch-norm.test.ts, group-norm.test.ts and layer-norm.test.ts (all
// cases of fixtures/reference.json); this file checks that those cases exist, gradchecks the
// layers on 4-D inputs, and checks memory, the per-channel layout and the errors.

const live = (m: MemoryInfo) => ({
  tensors: m.tensors,
  arrays: m.arrays,
  buffers: m.buffers,
  bytes: m.bytes,
});

describe('NCHW fixtures', () => {
  it('cover BatchNorm2d in every mode, GroupNorm and LayerNorm on 4-D inputs', () => {
    const bn2d = reference.batchNorm.filter((c) => c.layer === 'BatchNorm2d');
    expect(bn2d.map((c) => c.options.momentum)).toContain(null);
    expect(bn2d.some((c) => c.options.convention === 'keras')).toBe(true);
    expect(bn2d.some((c) => !c.options.affine)).toBe(true);
    expect(bn2d.some((c) => !c.options.trackRunningStats)).toBe(true);
    expect(bn2d.every((c) => c.shape.length === 4)).toBe(true);
    expect(reference.groupNorm.filter((c) => c.shape.length === 4).length).toBeGreaterThanOrEqual(2);
    expect(reference.layerNorm.filter((c) => c.shape.length === 4).length).toBeGreaterThanOrEqual(2);
  });
});

describe.each(testBackends)('NCHW normalization on %s', (backend) => {
  useBackend(backend);

  describe('gradcheck (central differences, eps 1e-2, |err| <= 1e-3 + 1e-2 |numeric|)', () => {
    it('BatchNorm2d [2,2,2,3] training (batch statistics) and evaluation (running statistics)', () => {
      scope(() => {
        const rng = new Rng(41);
        const bn = new BatchNorm2d(2);
        noGrad(() => {
          bn.weight!.assign(tensor([1.3, 0.7]));
          bn.bias!.assign(tensor([0.2, -0.4]));
        });
        const x = randn([2, 2, 2, 3], { rng, std: 1.5, requiresGrad: true });
        expectGradcheck((xi) => bn.forward(xi), [x]);
        const w = randn([2], { rng, mean: 1, std: 0.2, requiresGrad: true });
        const b = randn([2], { rng, requiresGrad: true });
        expectGradcheck((xi, wi, bi) => batchNorm(xi, { weight: wi, bias: bi, training: true }), [x, w, b]);
        bn.eval();
        noGrad(() => {
          bn.runningMean!.assign(tensor([0.4, -0.3]));
          bn.runningVar!.assign(tensor([0.6, 2.1]));
        });
        expectGradcheck((xi) => bn.forward(xi), [x]);
        bn.dispose();
      });
    });

    it('GroupNorm 2 groups and LayerNorm [C,H,W] on [2,4,2,2]: input, weight and bias', () => {
      scope(() => {
        const rng = new Rng(42);
        const x = randn([2, 4, 2, 2], { rng, std: 2, requiresGrad: true });
        const w = randn([4], { rng, mean: 1, std: 0.3, requiresGrad: true });
        const b = randn([4], { rng, std: 0.3, requiresGrad: true });
        expectGradcheck((xi, wi, bi) => groupNorm(xi, 2, { weight: wi, bias: bi }), [x, w, b]);
        const lw = randn([4, 2, 2], { rng, mean: 1, std: 0.3, requiresGrad: true });
        const lb = randn([4, 2, 2], { rng, std: 0.3, requiresGrad: true });
        expectGradcheck((xi, wi, bi) => layerNorm(xi, [4, 2, 2], { weight: wi, bias: bi }), [x, lw, lb]);
      });
    });
  });

  it('BatchNorm2d statistics are per channel over N, H and W, and weight/bias apply per channel', () => {
    scope(() => {
      // channel 0 holds 1..8, channel 1 holds 10 * (1..8): mean 4.5 / 45, biased var 5.25 / 525
      const values: number[] = [];
      for (let n = 0; n < 2; n++)
        for (let c = 0; c < 2; c++)
          for (let k = 0; k < 4; k++) values.push((c === 0 ? 1 : 10) * (n * 4 + k + 1));
      const bn = new BatchNorm2d(2, { momentum: 1 });
      noGrad(() => {
        bn.weight!.assign(tensor([2, 1]));
        bn.bias!.assign(tensor([0, 5]));
      });
      const y = bn.forward(tensor(values, [2, 2, 2, 2])).dataSync();
      const want = values.map((v, i) => {
        const c = Math.floor(i / 4) % 2;
        const [m, s2] = c === 0 ? [4.5, 5.25] : [45, 525];
        return c === 0 ? (2 * (v - m)) / Math.sqrt(s2 + 1e-5) : (v - m) / Math.sqrt(s2 + 1e-5) + 5;
      });
      expectClose(y, want, { atol: 1e-5, rtol: 1e-5 });
      // momentum 1: the running statistics are this batch's mean and unbiased variance (M = 8)
      expectClose(bn.runningMean!, [4.5, 45], { atol: 1e-6, rtol: 1e-6 });
      expectClose(bn.runningVar!, [(5.25 * 8) / 7, (525 * 8) / 7], { atol: 1e-5, rtol: 1e-6 });
      bn.dispose();
    });
  });

  it('a conv-style stack (BatchNorm2d, GroupNorm, LayerNorm on NCHW) trains with flat memory and no read-back', () => {
    class Stack extends Module {
      readonly bn = this.registerModule('bn', new BatchNorm2d(4));
      readonly gn = this.registerModule('gn', new GroupNorm(2, 4));
      readonly ln = this.registerModule('ln', new LayerNorm([4, 2, 3]));
      forward(x: Tensor): Tensor {
        return this.ln.forward(this.gn.forward(this.bn.forward(x)));
      }
    }
    const rng = new Rng(43);
    const model = new Stack();
    const x = keep(randn([2, 4, 2, 3], { rng, mean: 1, std: 2 }));
    const target = keep(randn([2, 4, 2, 3], { rng }));
    const step = () =>
      scope(() => {
        const loss = mseLoss(model.forward(x), target);
        loss.backward();
        noGrad(() => {
          for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.05)));
        });
        model.zeroGrad();
      });
    step();
    const start = memory();
    for (let i = 0; i < 10; i++) step();
    const end = memory();
    expect(live(end)).toEqual(live(start));
    expect(end.readbacks).toBe(start.readbacks);
    expect(model.bn.numBatchesTracked!.item()).toBe(11);
    x.dispose();
    target.dispose();
    model.dispose();
  });

  it('shape errors name the layer, the expected layout and the shape', () => {
    scope(() => {
      const bn = new BatchNorm2d(3);
      for (const shape of [
        [4, 3],
        [4, 3, 5],
        [2, 3, 2, 2, 2],
      ]) {
        expect(() => bn.forward(randn(shape))).toThrow(ShapeError);
        expect(() => bn.forward(randn(shape))).toThrow(
          `BatchNorm2d: expects an input [N, C, H, W], got shape [${shape.join(',')}]`,
        );
      }
      expect(() => bn.forward(randn([2, 4, 3, 3]))).toThrow(/^BatchNorm2d: expects 3 channels.*\[2,4,3,3\]/);
      expect(() => bn.forward(randn([1, 3, 1, 1]))).toThrow(
        /BatchNorm2d: expected more than 1 value per channel/,
      );
      expect(bn.numBatchesTracked!.item()).toBe(0);
      expect(() => new GroupNorm(2, 4).forward(randn([2, 6, 2, 2]))).toThrow(
        /^GroupNorm: expects 4 channels .*\[2,6,2,2\]/,
      );
      expect(() => new LayerNorm([4, 2, 2]).forward(randn([2, 4, 2, 3]))).toThrow(ShapeError);
      bn.dispose();
    });
  });
});
