import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile, TRUNCATED_STD_AT_2, truncatedNormalMoments } from './normal-cdf.js';
import { FIXTURE } from './testing/fixture.js';

// Host-side float64 helpers against Python: math.erfc for the CDF, statistics.NormalDist (Wichura's
// AS241) for the quantile, the analytic truncated-normal moments written independently in
// fixtures/generate.py. Tolerance: relative 1e-12 (the sampled values are float32).

const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), Number.MIN_VALUE);

describe('normal CDF and quantile (float64, host)', () => {
  it('normalCdf matches 0.5 erfc(-x / sqrt 2) to 1e-12 relative, deep tails included', () => {
    for (const { x, cdf } of FIXTURE.normalCdf) {
      if (cdf < 1e-300) expect(normalCdf(x)).toBeLessThan(1e-300);
      else expect(rel(normalCdf(x), cdf), `Phi(${x})`).toBeLessThan(1e-12);
    }
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(normalCdf(Number.NaN)).toBeNaN();
  });

  it('normalQuantile matches statistics.NormalDist.inv_cdf to 1e-12 relative', () => {
    for (const { p, x } of FIXTURE.normalQuantile) {
      expect(rel(normalQuantile(p), x), `PhiInv(${p})`).toBeLessThan(1e-12);
    }
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBeNaN();
  });

  it('truncatedNormalMoments matches the analytic moments of the fixture', () => {
    for (const c of FIXTURE.truncatedNormal) {
      const m = truncatedNormalMoments(c.mean, c.std, c.a, c.b);
      expect(Math.abs(m.mean - c.analyticMean)).toBeLessThan(1e-12 * Math.max(1, Math.abs(c.analyticMean)));
      expect(rel(m.variance, c.analyticVariance)).toBeLessThan(1e-12);
    }
    const full = truncatedNormalMoments(1, 2, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    expect(full.mean).toBe(1);
    expect(rel(full.variance, 4)).toBeLessThan(1e-15);
  });

  it("the std of N(0, 1) truncated to [-2, 2] is Keras' constant 0.87962566103423978", () => {
    expect(rel(TRUNCATED_STD_AT_2, 0.87962566103423978)).toBeLessThan(1e-15);
  });
});
