import { Parameter, Rng, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { FIXTURE } from './testing/fixture.js';
import { expectMean, expectVariance, moments } from './testing/stats.js';
import { truncatedNormal, truncatedNormal_ } from './truncated-normal.js';

// The sample moments of n = 65536 draws against the analytic moments of the truncated normal
// (fixtures/init.json, written independently in Python), within 5 standard errors (the variance's
// standard error from the sample's fourth moment). PyTorch's own sample moments (n = 2^20) are in the
// fixture as a sanity check of the analytic values.

describe('truncated normal: the analytic reference agrees with torch.nn.init.trunc_normal_', () => {
  it.each(FIXTURE.truncatedNormal)('mean $mean, std $std, [$a, $b]', (c) => {
    const sd = Math.sqrt(c.analyticVariance);
    expect(Math.abs(c.torchSampleMean - c.analyticMean)).toBeLessThan((5 * sd) / Math.sqrt(c.n));
    // torch's float32 erfinv loses some tail mass: its variances run up to 0.3 % low.
    expect(Math.abs(c.torchSampleVariance / c.analyticVariance - 1)).toBeLessThan(0.005);
  });
});

describe.each(testBackends)('truncatedNormal on %s', (backend) => {
  useBackend(backend);

  it.each(FIXTURE.truncatedNormal)('moments and bounds: mean $mean, std $std, [$a, $b]', (c) => {
    const w = truncatedNormal([256, 256], { mean: c.mean, std: c.std, a: c.a, b: c.b, rng: new Rng(51) });
    const m = moments(w.dataSync());
    w.dispose();
    expect(m.min).toBeGreaterThanOrEqual(Math.fround(c.a));
    expect(m.max).toBeLessThanOrEqual(Math.fround(c.b));
    expectMean(m, c.analyticMean, Math.sqrt(c.analyticVariance));
    expectVariance(m, c.analyticVariance);
  });

  it("defaults: PyTorch's mean 0, std 1, a = -2, b = 2 (absolute bounds)", () => {
    const m = moments(truncatedNormal([256, 256], { rng: new Rng(52) }).dataSync());
    expect(m.min).toBeGreaterThanOrEqual(-2);
    expect(m.max).toBeLessThanOrEqual(2);
    expect(m.max).toBeGreaterThan(1.99);
    expectVariance(m, FIXTURE.truncatedNormal[0].analyticVariance);
  });

  it('one-sided and far-tail intervals are sampled accurately', () => {
    const tail = moments(
      truncatedNormal([4096], { a: 5, b: Number.POSITIVE_INFINITY, rng: new Rng(3) }).dataSync(),
    );
    expect(tail.min).toBeGreaterThanOrEqual(5);
    // E[X | X > 5] = phi(5) / (1 - Phi(5)) = 5.18650..., sd sqrt(1 + 5 E - E^2) = 0.18082...
    expectMean(tail, 5.186504, 0.180822);
  });

  it('same seed, same values; in place', () => {
    const a = truncatedNormal([20], { std: 0.5, rng: new Rng(9) }).dataSync();
    expect(truncatedNormal([20], { std: 0.5, rng: new Rng(9) }).dataSync()).toEqual(a);
    const p = new Parameter(tensorZeros([20]));
    truncatedNormal_(p, { std: 0.5, rng: new Rng(9) });
    expect(p.dataSync()).toEqual(a);
    p.dispose();
  });

  it('errors: std <= 0, a >= b, NaN bounds, an interval whose probability underflows', () => {
    expect(() => truncatedNormal([2], { std: 0 })).toThrow('truncatedNormal: std must be > 0, got 0');
    expect(() => truncatedNormal([2], { std: -1 })).toThrow(ValueError);
    expect(() => truncatedNormal([2], { a: 1, b: 1 })).toThrow(
      'truncatedNormal: a must be less than b, got a = 1, b = 1',
    );
    expect(() => truncatedNormal_(tensorZeros([2]), { a: 3, b: -3 })).toThrow(
      'truncatedNormal_: a must be less than b',
    );
    expect(() => truncatedNormal([2], { a: Number.NaN })).toThrow(ValueError);
    expect(() => truncatedNormal([2], { a: 50, b: 60 })).toThrow(/lies too far in the tail/);
  });
});
