import { getRng, ones, Rng, randn, selu, ValueError } from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { AlphaDropout, alphaDropout, alphaDropoutCoefficients } from './alpha-dropout.js';
import { expectMean, expectVariance, expectWithin, FIXTURE, hostUniforms, moments } from './testing/stats.js';

// Coefficients against torch.nn.functional.alpha_dropout (fixtures/dropout.json): a and the
// dropped value within 2e-7 relative (torch forms them in float32 arithmetic), b equal to
// float32(b). Statistics over n = 65536 SELU-normalized inputs (selu of N(0, 1) draws, which have
// mean 0 and variance 1): the output's mean and variance within 5 standard errors of 0 and 1.

const BIG = [256, 256];
const SMALL = [4, 5];
const N = 256 * 256;

describe('alpha dropout: PyTorch reference', () => {
  it.each(FIXTURE.cases)('p = $p: a $alphaA, b $alphaB, dropped $alphaDropped', (c) => {
    const { a, b, dropped } = alphaDropoutCoefficients(c.p);
    expect(Math.abs(a - c.alphaA) / a).toBeLessThan(2e-7);
    expect(Math.fround(b)).toBe(c.alphaB);
    expect(Math.abs(dropped - c.alphaDropped) / -dropped).toBeLessThan(2e-7);
    expect(FIXTURE.alphaEvalIsInput).toBe(true);
  });
});

describe.each(testBackends)('alpha dropout on %s', (backend) => {
  useBackend(backend);

  it('keeps mean 0 and variance 1 of SELU-normalized inputs (p = 0.1, 0.2)', () => {
    const x = selu(randn(BIG, { rng: new Rng(20) }));
    const mx = moments(x.dataSync());
    // The input is normalized (SELU's fixed point): mean 0, variance 1 within 5 standard errors.
    expectMean(mx, 0, 1, 'input mean');
    expectVariance(mx, 1, mx.m4, 'input variance');
    for (const p of [0.1, 0.2]) {
      const m = moments(alphaDropout(x, p, { rng: new Rng(21) }).dataSync());
      expectMean(m, 0, 1, `output mean, p = ${p}`);
      expectVariance(m, 1, m.m4, `output variance, p = ${p}`);
    }
  });

  it('kept units map to a x + b, dropped units to -a alpha (1 - p); mask as the host reference', () => {
    const p = 0.2;
    const x = randn(BIG, { rng: new Rng(22) });
    const xs = x.dataSync();
    const y = alphaDropout(x, p, { rng: new Rng(23) }).dataSync();
    const u = hostUniforms(new Rng(23), N);
    const { a, b, dropped } = alphaDropoutCoefficients(p);
    let kept = 0;
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const want = u[i] >= p ? a * xs[i] + b : dropped;
      if (u[i] >= p) kept++;
      worst = Math.max(worst, Math.abs(y[i] - want) / (1 + Math.abs(want)));
    }
    expect(worst).toBeLessThan(1e-6);
    expectWithin(kept / N, 1 - p, Math.sqrt((p * (1 - p)) / N), 'keep rate');
  });

  it('gradient: a dy through kept units, 0 through dropped ones', () => {
    const p = 0.3;
    const x = randn(SMALL, { rng: new Rng(24), requiresGrad: true });
    alphaDropout(x, p, { rng: new Rng(25) })
      .sum()
      .backward();
    const u = hostUniforms(new Rng(25), 20);
    const a = Math.fround(alphaDropoutCoefficients(p).a);
    const grad = x.grad!.dataSync();
    for (let i = 0; i < 20; i++) expect(grad[i]).toBe(u[i] >= p ? a : 0);
    expectGradcheck(
      (t) =>
        alphaDropout(t, p, { rng: new Rng(25) })
          .mul(t)
          .sum(),
      [randn(SMALL, { rng: new Rng(26), requiresGrad: true })],
    );
  });

  it('eval, training: false and p = 0 return the input itself without drawing', () => {
    const x = ones(SMALL);
    const rng = new Rng(1);
    const s = rng.state();
    const g = getRng().state();
    const m = new AlphaDropout(0.1, { rng }).eval();
    expect(m.forward(x)).toBe(x);
    expect(alphaDropout(x, 0.1, { training: false, rng })).toBe(x);
    expect(alphaDropout(x, 0, { rng })).toBe(x);
    expect(rng.state()).toEqual(s);
    expect(getRng().state()).toEqual(g);
    expect(m.train().forward(x).dataSync()).toEqual(alphaDropout(x, 0.1, { rng: new Rng(1) }).dataSync());
  });

  it('errors', () => {
    expect(() => alphaDropout(ones(SMALL), 1)).toThrow(ValueError);
    expect(() => alphaDropout(ones(SMALL), -1)).toThrow('alphaDropout: p must be in [0, 1), got -1');
    expect(() => new AlphaDropout(2)).toThrow('AlphaDropout: p must be in [0, 1), got 2');
    expect(() => alphaDropoutCoefficients(1)).toThrow(ValueError);
  });
});
