// gradkit demo: a 2-layer ReLU network learns the "two moons" toy problem with plain SGD on the
// best available backend (or GRADKIT_BACKEND), and says which backend ran and why.

import type { Tensor } from '@gradkit/tensor';
import {
  backendInfo,
  linear,
  manualSeed,
  memory,
  noGrad,
  Parameter,
  Rng,
  randn,
  scope,
  softmaxCrossEntropy,
  tensor,
  zeroGrad,
} from '@gradkit/tensor';

/** Two interleaved half circles with Gaussian noise, labels 0 and 1. */
function twoMoons(n: number, noise: number, rng: Rng): { x: Float32Array; y: number[] } {
  const x = new Float32Array(n * 2);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = Math.PI * rng.uniform();
    const px = label === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const py = label === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    x[2 * i] = px + noise * rng.normal();
    x[2 * i + 1] = py + noise * rng.normal();
    y.push(label);
  }
  return { x, y };
}

function main(): void {
  const info = backendInfo();
  console.log(`gradkit demo: backend ${info.name} (${info.gpuMode}; ${info.renderer})`);
  console.log(`  chosen because: ${info.reason}`);

  const rng = manualSeed(0);
  const data = twoMoons(512, 0.1, new Rng(1));
  const test = twoMoons(512, 0.1, new Rng(2));
  const x = tensor(data.x, [512, 2]);
  const xTest = tensor(test.x, [512, 2]);

  // 2 -> 32 -> 2, He-scaled normal weights, zero biases
  const hidden = 32;
  const w1 = new Parameter(randn([hidden, 2], { std: Math.sqrt(2 / 2), rng }));
  const b1 = new Parameter(tensor(new Float32Array(hidden), [hidden]));
  const w2 = new Parameter(randn([2, hidden], { std: Math.sqrt(2 / hidden), rng }));
  const b2 = new Parameter(tensor(new Float32Array(2), [2]));
  const params = [w1, b1, w2, b2];
  const forward = (input: Tensor) => linear(linear(input, w1, b1, { activation: 'relu' }), w2, b2);

  const accuracy = (input: Tensor, labels: number[]): number =>
    scope(() => {
      const pred = noGrad(() => forward(input).argmax(-1)).dataSync();
      let ok = 0;
      for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
      return ok / labels.length;
    });

  const lr = 0.5;
  const steps = 600;
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    const lossValue = scope(() => {
      const loss = softmaxCrossEntropy(forward(x), data.y);
      loss.backward();
      noGrad(() => {
        for (const p of params) p.assign(p.sub(p.grad!.mul(lr)));
      });
      zeroGrad(params);
      return step % 100 === 0 || step === 1 ? loss.item() : Number.NaN;
    });
    if (!Number.isNaN(lossValue)) {
      console.log(
        `  step ${String(step).padStart(4)}  loss ${lossValue.toFixed(4)}  train acc ${(100 * accuracy(x, data.y)).toFixed(1)}%`,
      );
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const acc = accuracy(xTest, test.y);
  console.log(
    `test accuracy ${(100 * acc).toFixed(1)}% after ${steps} SGD steps in ${seconds.toFixed(1)} s on ${info.name}`,
  );
  const m = memory();
  console.log(`live tensors ${m.tensors}, read-backs ${m.devices.reduce((s, d) => s + d.readbacks, 0)}`);
  if (acc < 0.95) {
    console.error('demo: test accuracy below 95%: something is wrong');
    process.exitCode = 1;
  }
}

main();
