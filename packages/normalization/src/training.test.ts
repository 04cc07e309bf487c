import {
  keep,
  type MemoryInfo,
  Module,
  memory,
  mseLoss,
  noGrad,
  Rng,
  randn,
  scope,
  type Tensor,
} from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d } from './batch-norm-layer.js';
import { GroupNorm } from './group-norm.js';
import { LayerNorm } from './layer-norm.js';
import { RMSNorm } from './rms-norm.js';

// Every layer in one model trained by SGD: memory must be flat (live tensors, arrays, buffers and
// bytes equal after step 3 and after the last step) and the steps must read nothing back.

class Stack extends Module {
  readonly bn: BatchNorm1d;
  readonly ln = this.registerModule('ln', new LayerNorm(5));
  readonly gn = this.registerModule('gn', new GroupNorm(3, 3));
  readonly rms = this.registerModule('rms', new RMSNorm(5));
  constructor(momentum: number | null) {
    super();
    this.bn = this.registerModule('bn', new BatchNorm1d(3, { momentum }));
  }
  forward(x: Tensor): Tensor {
    return this.rms.forward(this.gn.forward(this.ln.forward(this.bn.forward(x))));
  }
}

const live = (m: MemoryInfo) => ({
  tensors: m.tensors,
  arrays: m.arrays,
  buffers: m.buffers,
  bytes: m.bytes,
});

describe.each(testBackends)('training with every layer on %s', (backend) => {
  useBackend(backend);

  for (const momentum of [0.1, null]) {
    it(`memory stays flat and nothing is read back (BatchNorm momentum ${momentum})`, () => {
      const rng = new Rng(7);
      const model = new Stack(momentum);
      const x = keep(randn([4, 3, 5], { rng, mean: 1, std: 2 }));
      const target = keep(randn([4, 3, 5], { rng }));
      const step = () =>
        scope(() => {
          const loss = mseLoss(model.forward(x), target);
          loss.backward();
          noGrad(() => {
            for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.05)));
          });
          model.zeroGrad();
          return loss;
        });
      const first = step();
      const firstLoss = first.item();
      first.dispose();
      for (let i = 0; i < 2; i++) step().dispose();
      const at3 = memory();
      for (let i = 0; i < 37; i++) step().dispose();
      const at40 = memory();
      expect(live(at40)).toEqual(live(at3));
      expect(at40.readbacks).toBe(at3.readbacks);
      expect(model.bn.numBatchesTracked!.item()).toBe(40);
      const last = step();
      expect(last.item()).toBeLessThan(firstLoss);
      last.dispose();
      // evaluation with and without a graph, and a training forward under noGrad (no graph)
      model.eval();
      scope(() => model.forward(x)).dispose();
      noGrad(() => scope(() => model.forward(x))).dispose();
      model.train();
      noGrad(() => scope(() => model.forward(x))).dispose();
      expect(live(memory())).toEqual(live(at3));
      expect(memory().readbacks).toBe(at40.readbacks + 2); // the two item() calls above
      x.dispose();
      target.dispose();
      model.dispose();
    });
  }

  it('forward and backward are a few fused kernels each, with no read-back', () => {
    const rng = new Rng(8);
    const cases: [string, Module, number, number][] = [
      // [name, layer, max forward launches (with the running-statistics update), max backward launches]
      ['BatchNorm1d', new BatchNorm1d(3), 10, 6],
      ['LayerNorm', new LayerNorm(5), 7, 8],
      ['GroupNorm', new GroupNorm(3, 3), 7, 8],
      ['RMSNorm', new RMSNorm(5), 5, 6],
    ];
    for (const [name, layer, maxForward, maxBackward] of cases) {
      scope(() => {
        const x = randn([4, 3, 5], { rng, requiresGrad: true });
        const dy = randn([4, 3, 5], { rng });
        const before = memory();
        const k0 = before.kernels;
        const y = layer.forward(x);
        const k1 = memory().kernels;
        y.backward(dy);
        const k2 = memory().kernels;
        expect(memory().readbacks, `${name} read-backs`).toBe(before.readbacks);
        expect(k1 - k0, `${name} forward`).toBeLessThanOrEqual(maxForward);
        expect(k2 - k1, `${name} backward`).toBeLessThanOrEqual(maxBackward);
      });
      layer.dispose();
    }
  });
});
