import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import type { Activation } from './activations.js';
import { leakyRelu, relu } from './activations.js';
import { tensor } from './creation.js';
import { applyActivation, biasActivation, linear } from './linear.js';
import { argmax, logsumexp, max, min } from './reductions.js';
import { scope } from './scope.js';

// A NaN that reaches an activation, a fused bias + activation, a reduction or an argmax comes out
// as NaN (or as the NaN's index), never as a confident finite number: that is what lets the
// trainer's guard see a diverged model. The per-kernel special values are checked against
// PyTorch in @gradkit/kernels (special-values.test.ts); these tests check the tensor ops on top,
// including the fused Linear + activation path the models use.

const N = Number.NaN;
const ACTIVATIONS: Exclude<Activation, 'identity'>[] = [
  'relu',
  'leakyRelu',
  'sigmoid',
  'tanh',
  'gelu',
  'geluTanh',
  'selu',
  'softplus',
  'elu',
];

describe.each(testBackends)('NaN propagation on %s', (backend) => {
  useBackend(backend);

  it.each(ACTIVATIONS)('%s(NaN) is NaN, alone and fused with a bias', (name) => {
    scope(() => {
      const x = tensor([N, -1, 2, N, -0.5, 3], [2, 3]);
      const alone = applyActivation(x, name).toArray() as number[][];
      expect(Number.isNaN(alone[0][0]) && Number.isNaN(alone[1][0]), `${name}: ${alone}`).toBe(true);
      expect(alone.flat().filter(Number.isNaN).length).toBe(2);
      // NaN in the input and NaN in the bias: both reach the output through the fused kernel
      const fused = biasActivation(x, tensor([0, N, 0]), name).toArray() as number[][];
      expect(fused.map((r) => r.map(Number.isNaN))).toEqual([
        [true, true, false],
        [true, true, false],
      ]);
    });
  });

  it('relu keeps -0 and NaN as PyTorch (clamp_min), and its gradient passes dy at NaN', () => {
    scope(() => {
      const x = tensor([-0, N, -2, 3], [4], { requiresGrad: true });
      const y = relu(x);
      const v = y.dataSync();
      // the sign of zero survives on cpu and wasm; GL (llvmpipe) returns +0 from its select
      if (backend !== 'gl') expect(Object.is(v[0], -0)).toBe(true);
      else expect(v[0]).toBe(0);
      expect(Number.isNaN(v[1])).toBe(true);
      expect([v[2], v[3]]).toEqual([0, 3]);
      y.backward(tensor([5, 5, 5, 5]));
      expect(Array.from(x.grad!.dataSync())).toEqual([0, 5, 0, 5]);
    });
  });

  it('a NaN weight makes its output row NaN through linear + relu; argmax points at the NaN', () => {
    scope(() => {
      const x = tensor([1, 2, -1, 0.5], [2, 2]);
      const w = tensor([0.5, -0.25, N, 1, 1, 1], [3, 2]); // output unit 1 has a NaN weight
      const b = tensor([0, 0, -10]);
      const y = linear(x, w, b, { activation: 'relu' });
      const rows = y.toArray() as number[][];
      for (const r of rows) {
        expect(Number.isNaN(r[1])).toBe(true);
        expect(r.filter(Number.isNaN).length).toBe(1);
      }
      expect(Array.from(argmax(y, -1).dataSync())).toEqual([1, 1]);
      expect(Array.from(max(y, 1).dataSync()).every(Number.isNaN)).toBe(true);
      expect(Array.from(min(y, 1).dataSync()).every(Number.isNaN)).toBe(true);
      expect(Array.from(logsumexp(y, 1).dataSync()).every(Number.isNaN)).toBe(true);
    });
  });

  it('argmax of a row with NaN returns the first NaN, also past a larger value', () => {
    scope(() => {
      const x = tensor([9, 1, N, 100, N, 3, 2, 1, 0, -1], [2, 5]);
      expect(Array.from(argmax(x, 1).dataSync())).toEqual([2, 0]);
      expect(Array.from(argmax(tensor([-Infinity, -Infinity]), 0).dataSync())).toEqual([0]);
    });
  });

  it('clamp and leakyRelu keep NaN', () => {
    scope(() => {
      const x = tensor([N, 5, -5]);
      const c = x.clamp(0, 1).dataSync();
      expect(Number.isNaN(c[0])).toBe(true);
      expect([c[1], c[2]]).toEqual([1, 0]);
      const l = leakyRelu(x, 0).dataSync();
      expect(Number.isNaN(l[0])).toBe(true);
    });
  });
});
