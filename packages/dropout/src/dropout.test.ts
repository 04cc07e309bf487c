import type { Tensor } from '@gradkit/tensor';
import {
  getRng,
  manualSeed,
  memory,
  noGrad,
  ones,
  Rng,
  randn,
  scope,
  tensor,
  ValueError,
} from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { Dropout, dropout } from './dropout.js';
import { expectMean, expectWithin, FIXTURE, hostUniforms, moments } from './testing/stats.js';

// Statistics over n = 65536 elements within 5 standard errors: the keep rate against 1 - p
// (se = sqrt(p (1 - p) / n)), the mean of dropout(ones) against 1 (se = sqrt(p / (1 - p) / n)).
// Masks are compared element by element with the host reference (the generator's uniforms >= p),
// so every backend produces the same mask. Kept values are exactly float32(1 / (1 - p)), the value
// PyTorch's kept units take (fixtures/dropout.json).

const BIG = [256, 256];
const SMALL = [4, 5];
const N = 256 * 256;

describe('dropout: PyTorch reference', () => {
  it.each(FIXTURE.cases)('p = $p: kept units scaled by float32(1 / (1 - p)) = $dropoutScale', (c) => {
    expect(Math.fround(1 / (1 - c.p))).toBe(c.dropoutScale);
    // torch's own keep rate over 2^20 draws agrees with 1 - p (sanity of the reference).
    expectWithin(c.dropoutKeepRate, 1 - c.p, Math.sqrt((c.p * (1 - c.p)) / c.n), 'torch keep rate');
  });
  it('PyTorch returns the input itself for p = 0 and in eval mode; p = 1 gives zeros', () => {
    expect(FIXTURE.pZeroIsInput && FIXTURE.evalIsInput).toBe(true);
    expect(FIXTURE.pOne.output.every((v) => v === 0) && FIXTURE.pOne.grad.every((v) => v === 0)).toBe(true);
  });
});

describe.each(testBackends)('dropout on %s', (backend) => {
  useBackend(backend);

  it.each([0.1, 0.5, 0.75])('p = %d: keep rate 1 - p, kept values 1/(1-p), mean preserved', (p) => {
    const y = dropout(ones(BIG), p, { rng: new Rng(100) });
    const v = y.dataSync();
    y.dispose();
    const scale = Math.fround(1 / (1 - p));
    let kept = 0;
    let wrong = 0;
    for (const x of v) {
      if (x !== 0) kept++;
      if (x !== 0 && x !== scale) wrong++;
    }
    expect(wrong).toBe(0);
    expectWithin(kept / N, 1 - p, Math.sqrt((p * (1 - p)) / N), 'keep rate');
    expectMean(moments(v), 1, Math.sqrt(p / (1 - p)), 'mean of dropout(ones)');
  });

  it('the mask is the host reference: element i kept iff the i-th uniform of the generator >= p', () => {
    const p = 0.3;
    const x = randn(BIG, { rng: new Rng(1) });
    const xs = x.dataSync();
    const y = dropout(x, p, { rng: new Rng(123) }).dataSync();
    const u = hostUniforms(new Rng(123), N);
    const scale = Math.fround(1 / (1 - p));
    for (let i = 0; i < N; i++) {
      const want = u[i] >= p ? Math.fround(xs[i] * scale) : 0;
      if (y[i] !== want) expect(`element ${i}: ${y[i]}`).toBe(`element ${i}: ${want}`);
    }
  });

  it('gradients flow only through kept units, scaled by 1/(1-p)', () => {
    const p = 0.4;
    const x = randn(SMALL, { rng: new Rng(2), requiresGrad: true });
    const g = randn(SMALL, { rng: new Rng(3) });
    const y = dropout(x, p, { rng: new Rng(4) });
    const ys = y.dataSync();
    y.backward(g);
    const gs = g.dataSync();
    const grad = x.grad!.dataSync();
    const u = hostUniforms(new Rng(4), 20);
    for (let i = 0; i < 20; i++) {
      // a dropped unit's gradient is dy * 0: +0 or -0, as PyTorch's
      if (u[i] >= p) expect(grad[i]).toBe(Math.fround(gs[i] * Math.fround(1 / (1 - p))));
      else expect(grad[i] === 0).toBe(true);
      expect(ys[i] === 0).toBe(u[i] < p);
    }
    // Finite differences through a fixed mask (a fresh generator with the same seed per call).
    expectGradcheck(
      (t) => dropout(t, p, { rng: new Rng(4) }).sum(),
      [randn(SMALL, { rng: new Rng(5), requiresGrad: true })],
    );
  });

  it('eval, training: false and p = 0 return the input itself with no random draw', () => {
    const x = randn(SMALL, { rng: new Rng(6) });
    const before = x.dataSync();
    const rng = new Rng(7);
    const state = rng.state();
    const globalState = getRng().state();
    const m = new Dropout(0.5, { rng });
    m.eval();
    expect(m.training).toBe(false);
    const y = m.forward(x);
    expect(y).toBe(x);
    expect(y.dataSync()).toEqual(before);
    expect(dropout(x, 0.5, { training: false, rng })).toBe(x);
    expect(dropout(x, 0, { rng })).toBe(x);
    expect(new Dropout(0).forward(x)).toBe(x);
    expect(rng.state()).toEqual(state);
    expect(getRng().state()).toEqual(globalState);
    // Back in training mode the module draws.
    m.train();
    expect(m.forward(x)).not.toBe(x);
    expect(rng.state()).not.toEqual(state);
  });

  it('same seed, same mask; the module draws from the global generator by default', () => {
    const x = ones(SMALL);
    const a = dropout(x, 0.5, { rng: new Rng(8) }).dataSync();
    expect(dropout(x, 0.5, { rng: new Rng(8) }).dataSync()).toEqual(a);
    expect(dropout(x, 0.5, { rng: new Rng(9) }).dataSync()).not.toEqual(a);
    const m = new Dropout(0.5);
    manualSeed(10);
    const g = m.forward(x).dataSync();
    manualSeed(10);
    expect(m.forward(x).dataSync()).toEqual(g);
    manualSeed(10);
    expect(dropout(x).dataSync()).toEqual(g); // default p = 0.5, training = true
  });

  it('one upload and one fused kernel forward, one kernel backward; nothing leaks', () => {
    const x = randn(SMALL, { rng: new Rng(11), requiresGrad: true });
    const g = ones(SMALL);
    const m0 = memory();
    const y = dropout(x, 0.5, { rng: new Rng(12) });
    const m1 = memory();
    expect(m1.kernels - m0.kernels).toBe(1);
    expect(m1.uploads - m0.uploads).toBe(1);
    y.backward(g);
    expect(memory().kernels - m1.kernels).toBe(1);
    y.dispose();
    x.grad = null;
    const arrays = memory().arrays;
    scope(() => {
      const z = dropout(x, 0.5, { rng: new Rng(13) });
      z.backward(g);
    });
    x.grad = null;
    expect(memory().arrays).toBe(arrays);
    // Without a graph the uniforms are freed at once.
    scope(() => {
      dropout(ones(SMALL), 0.5, { rng: new Rng(14) });
      noGrad(() => dropout(x, 0.5, { rng: new Rng(15) }));
    });
    expect(memory().arrays).toBe(arrays);
  });

  it('errors name the function and the value; p = 1 explains what PyTorch does', () => {
    const x = ones(SMALL);
    expect(FIXTURE.pOutOfRangeMessage).toBe('dropout probability has to be between 0 and 1, but got 1.5');
    for (const p of [-0.1, 1.5, Number.NaN, 1]) expect(() => dropout(x, p)).toThrow(ValueError);
    expect(() => dropout(x, 1.5)).toThrow('dropout: p must be in [0, 1), got 1.5');
    expect(() => dropout(x, 1)).toThrow(
      /dropout: p must be in \[0, 1\), got 1 \(PyTorch accepts p = 1 and returns zeros/,
    );
    expect(() => new Dropout(-0.5)).toThrow('Dropout: p must be in [0, 1), got -0.5');
    expect(() => dropout(x, Number.NaN)).toThrow('dropout: p must be a finite number, got NaN');
    expect(() => dropout(x, '0.5' as unknown as number)).toThrow(
      'dropout: p must be a finite number, got "0.5"',
    );
    expect(() => dropout(x, '0.5' as unknown as number)).toThrow(ValueError);
    expect(() => dropout(x, 0.5, { training: 1 as unknown as boolean })).toThrow(
      'dropout: training must be a boolean, got 1',
    );
    expect(() => dropout([1, 2] as unknown as Tensor, 0.5)).toThrow(
      'dropout: input must be a Tensor, got [1,2]',
    );
    const d = tensor([1, 2]);
    d.dispose();
    expect(() => dropout(d, 0.5)).toThrow('dropout: the input tensor was disposed');
  });
});
