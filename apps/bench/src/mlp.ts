import type { Device } from '@gradkit/kernels';
import { Rng } from '@gradkit/kernels';
import {
  linear,
  noGrad,
  Parameter,
  randn,
  scope,
  softmaxCrossEntropy,
  tensor,
  zeroGrad,
} from '@gradkit/tensor';
import type { Timing } from './stats.js';
import { time } from './stats.js';

/** One MLP training-step measurement. */
export interface MlpResult {
  readonly contender: string;
  readonly layers: readonly number[];
  readonly batch: number;
  readonly timing: Timing;
  readonly samplesPerSecond: number;
  /** Read-backs per step: the loss value only. */
  readonly readbacksPerStep: number;
}

/**
 * One SGD training step of a ReLU MLP (784-256-256-10 by default) at batch 128 on random data:
 * forward, softmax cross-entropy, backward, parameter update, and a read of the loss value (which
 * also waits for the GPU to finish).
 */
export function benchMlp(
  d: Device,
  reps: number,
  layers: readonly number[] = [784, 256, 256, 10],
  batch = 128,
): MlpResult {
  const rng = new Rng(3);
  const params: Parameter[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const [fanIn, fanOut] = [layers[l], layers[l + 1]];
    params.push(new Parameter(randn([fanOut, fanIn], { std: Math.sqrt(2 / fanIn), rng, device: d })));
    params.push(new Parameter(tensor(new Float32Array(fanOut), [fanOut], { device: d })));
  }
  const x = tensor(rng.fillUniform(new Float32Array(batch * layers[0])), [batch, layers[0]], { device: d });
  const labels = Array.from({ length: batch }, (_, i) => i % layers[layers.length - 1]);
  const step = () => {
    scope(() => {
      let h = x;
      for (let l = 0; l < params.length; l += 2) {
        const last = l + 2 >= params.length;
        h = linear(h, params[l], params[l + 1], { activation: last ? 'identity' : 'relu' });
      }
      const loss = softmaxCrossEntropy(h, labels);
      loss.backward();
      noGrad(() => {
        for (const p of params) p.assign(p.sub(p.grad!.mul(0.01)));
      });
      zeroGrad(params);
      loss.item();
    });
  };
  const before = d.memory().readbacks;
  step();
  const readbacksPerStep = d.memory().readbacks - before;
  const timing = time(step, reps);
  for (const p of params) p.dispose();
  x.dispose();
  return {
    contender: `gradkit ${d.name}`,
    layers,
    batch,
    timing,
    samplesPerSecond: (batch * 1000) / timing.medianMs,
    readbacksPerStep,
  };
}
