import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import type { Activation } from './activations.js';
import { tensor } from './creation.js';
import { applyActivation, biasActivation, linear } from './linear.js';
import { matmul } from './matmul.js';
import { sum } from './reductions.js';
import type { Tensor } from './tensor.js';
import { zeroGrad } from './zero-grad.js';

// linear runs the bias and activation as the matmul's epilogue (Device.matmulMap) where the
// backward pass reads only the output; its values and gradients must equal the two-op composition
// (matmul, then biasActivation or the activation) bit for bit, for every activation, with and
// without a bias, on every backend; a gl forward takes one launch less.

function values(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

const bits = (t: Tensor | null): number[] => {
  const a = t!.dataSync();
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
};

const ACTIVATIONS: [Activation, number][] = [
  ['identity', 0.01],
  ['relu', 0.01],
  ['leakyRelu', 0.2],
  ['leakyRelu', -0.5],
  ['sigmoid', 0.01],
  ['tanh', 0.01],
  ['gelu', 0.01],
  ['geluTanh', 0.01],
  ['selu', 0.01],
  ['softplus', 0.01],
  ['elu', 0.01],
];

describe.each(testBackends)('linear on %s', (backend) => {
  const device = useBackend(backend);

  /** forward and the gradients of x, W, b through sum(y * g), fused and composed. */
  const run = (
    fused: boolean,
    activation: Activation,
    slope: number,
    withBias: boolean,
    [n, i, o]: number[],
  ) => {
    const x = tensor(values(n * i, 1), [n, i], { requiresGrad: true });
    const w = tensor(values(o * i, 2, 0.5), [o, i], { requiresGrad: true });
    const b = withBias ? tensor(values(o, 3), [o], { requiresGrad: true }) : null;
    const g = tensor(values(n * o, 4), [n, o]);
    let y: Tensor;
    if (fused) y = linear(x, w, b, { activation, negativeSlope: slope });
    else {
      const z = matmul(x, w, { transB: true });
      y = b ? biasActivation(z, b, activation, slope) : applyActivation(z, activation, slope);
    }
    sum(y.mul(g)).backward();
    return { y: bits(y), x: bits(x.grad), w: bits(w.grad), b: b ? bits(b.grad) : [] };
  };

  it('equals matmul + biasActivation bit for bit: values and gradients, every activation, with and without a bias', () => {
    for (const shape of [
      [5, 7, 3],
      [16, 33, 10],
    ]) {
      for (const [activation, slope] of ACTIVATIONS) {
        for (const withBias of [true, false]) {
          const label = `${activation} ${slope} bias ${withBias} ${shape}`;
          const got = run(true, activation, slope, withBias, shape);
          const want = run(false, activation, slope, withBias, shape);
          expect(got, label).toEqual(want);
        }
      }
    }
  });

  it('a Linear + relu forward is one launch less on gl (the bias and relu in the matmul)', () => {
    const x = tensor(values(64 * 20, 5), [64, 20]);
    const w = tensor(values(12 * 20, 6), [12, 20]);
    const b = tensor(values(12, 7), [12]);
    const launches = (f: () => Tensor) => {
      f().dispose(); // warm: programs compiled
      const before = device().memory().kernels;
      const y = f();
      const n = device().memory().kernels - before;
      y.dispose();
      return n;
    };
    const fused = launches(() => linear(x, w, b, { activation: 'relu' }));
    const composed = launches(() => biasActivation(matmul(x, w, { transB: true }), b, 'relu'));
    expect(composed).toBe(2);
    expect(fused).toBe(backend === 'gl' ? 1 : 2);
  });

  it('a Linear + relu backward is one launch less on gl (relu backward in the pack passes: Device.linearGrad)', () => {
    const x = tensor(values(64 * 20, 5), [64, 20], { requiresGrad: true });
    const w = tensor(values(12 * 20, 6), [12, 20], { requiresGrad: true });
    const b = tensor(values(12, 7), [12], { requiresGrad: true });
    const g = tensor(values(64 * 12, 8), [64, 12]);
    const backwardLaunches = (f: () => Tensor) => {
      const once = () => {
        const loss = sum(f().mul(g));
        const before = device().memory().kernels;
        loss.backward();
        const n = device().memory().kernels - before;
        zeroGrad([x, w, b]);
        loss.dispose();
        return n;
      };
      once(); // warm: programs compiled
      return once();
    };
    const fused = backwardLaunches(() => linear(x, w, b, { activation: 'relu' }));
    const composed = backwardLaunches(() => biasActivation(matmul(x, w, { transB: true }), b, 'relu'));
    // composed: relu backward (map), bias sum, dz W, dz^T x; fused on gl: dx, dW, db counted once each
    expect(composed - fused).toBe(backend === 'gl' ? 1 : 0);
  });
});
