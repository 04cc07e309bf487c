import { Rng } from '@gradkit/kernels';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { noGrad } from './grad-mode.js';
import { linear } from './linear.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import { randn } from './random.js';
import { argmax } from './reductions.js';
import type { MemoryInfo } from './scope.js';
import { keep, memory, scope } from './scope.js';
import { softmaxCrossEntropy } from './softmax-cross-entropy.js';
import type { Tensor } from './tensor.js';

// An 8-16-3 MLP trained by plain SGD on 32 fixed random points whose labels come from a random
// linear teacher (learnable). Memory must be flat: the live tensor, array, buffer and byte counts
// after step 10 and after step 1000 are identical; one step does no read-back.

class Mlp extends Module {
  readonly w1: Parameter;
  readonly b1: Parameter;
  readonly w2: Parameter;
  readonly b2: Parameter;
  constructor(rng: Rng) {
    super();
    this.w1 = this.registerParameter('w1', randn([16, 8], { std: 0.35, rng }));
    this.b1 = this.registerParameter('b1', randn([16], { std: 0.1, rng }));
    this.w2 = this.registerParameter('w2', randn([3, 16], { std: 0.25, rng }));
    this.b2 = this.registerParameter('b2', randn([3], { std: 0.1, rng }));
  }
  forward(x: Tensor): Tensor {
    return linear(linear(x, this.w1, this.b1, { activation: 'relu' }), this.w2, this.b2);
  }
}

const STEPS = 1000;
const live = (m: MemoryInfo) => ({
  tensors: m.tensors,
  arrays: m.arrays,
  buffers: m.buffers,
  bytes: m.bytes,
});

describe.each(testBackends)('training an MLP on %s', (backend) => {
  const device = useBackend(backend);

  function setup() {
    const rng = new Rng(2024);
    const model = new Mlp(rng);
    const x = keep(randn([32, 8], { rng }));
    const labels = noGrad(() =>
      scope(() => {
        const teacher = randn([3, 8], { rng });
        return Array.from(argmax(linear(x, teacher)).dataSync());
      }),
    );
    const step = (lr: number): Tensor =>
      scope(() => {
        const loss = softmaxCrossEntropy(model.forward(x), labels);
        loss.backward();
        noGrad(() => {
          for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(lr)));
        });
        model.zeroGrad();
        return loss;
      });
    return { model, x, step };
  }

  it(`${STEPS} forward/backward/SGD steps keep live tensors, arrays and buffers flat`, () => {
    const { model, x, step } = setup();
    const start = memory();
    let first = 0;
    let at10: ReturnType<typeof live> | null = null;
    let last = 0;
    const t0 = performance.now();
    for (let i = 1; i <= STEPS; i++) {
      const loss = step(0.2);
      if (i === 1) first = loss.item();
      if (i === STEPS) last = loss.item();
      loss.dispose();
      if (i === 10) at10 = live(memory());
    }
    const ms = performance.now() - t0;
    const atEnd = live(memory());
    console.log(
      `[${backend}] ${STEPS} steps in ${ms.toFixed(0)} ms; loss ${first.toFixed(4)} -> ${last.toFixed(4)}; live`,
      atEnd,
    );
    expect(atEnd).toEqual(at10);
    // Nothing but a cached one-hot table may remain beyond the model and data.
    expect(atEnd.tensors).toBe(start.tensors);
    expect(atEnd.buffers - start.buffers).toBeLessThanOrEqual(1);
    expect(last).toBeLessThan(first * 0.5);
    model.dispose();
    x.dispose();
  });

  it('one training step performs no read-back until the loss is read', () => {
    const { model, x, step } = setup();
    step(0.1).dispose(); // warm-up: compile kernels, cache the one-hot table
    const before = device().memory().readbacks;
    const loss = step(0.1);
    expect(device().memory().readbacks).toBe(before);
    const v = loss.item();
    expect(Number.isFinite(v)).toBe(true);
    expect(device().memory().readbacks).toBe(before + 1);
    loss.dispose();
    model.dispose();
    x.dispose();
  });
});
