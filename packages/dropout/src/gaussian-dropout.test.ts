import { getRng, ones, Rng, randn, ValueError } from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { GaussianDropout, gaussianDropout } from './gaussian-dropout.js';
import { expectMean, expectVariance, moments } from './testing/stats.js';

// y = x r, r ~ N(1, p / (1 - p)). Statistics of gaussianDropout(ones) over n = 65536 draws within
// 5 standard errors: mean 1 (se sigma / sqrt n), variance sigma^2 (se sqrt(2 sigma^4 / n)).
// Values against the host reference 1 + sigma n_i with n_i the generator's normals (1e-6 relative).

const BIG = [256, 256];
const SMALL = [4, 5];

describe.each(testBackends)('gaussian dropout on %s', (backend) => {
  useBackend(backend);

  it.each([0.2, 0.5])('p = %d: multiplicative N(1, p / (1 - p)) noise', (p) => {
    const s2 = p / (1 - p);
    const y = gaussianDropout(ones(BIG), p, { rng: new Rng(30) }).dataSync();
    const m = moments(y);
    expectMean(m, 1, Math.sqrt(s2));
    expectVariance(m, s2, 3 * s2 * s2);
    const n = new Rng(30).fillNormal(new Float32Array(y.length));
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - (1 + Math.sqrt(s2) * n[i])));
    expect(worst).toBeLessThan(1e-6 * (1 + 6 * Math.sqrt(s2)));
  });

  it('gradient: r dy (the same noise)', () => {
    const x = ones(SMALL).setRequiresGrad();
    const y = gaussianDropout(x, 0.3, { rng: new Rng(31) });
    y.sum().backward();
    expect(x.grad!.dataSync()).toEqual(y.dataSync()); // x = 1, so y = r
    expectGradcheck(
      (t) =>
        gaussianDropout(t, 0.3, { rng: new Rng(31) })
          .mul(t)
          .sum(),
      [randn(SMALL, { rng: new Rng(32), requiresGrad: true })],
    );
  });

  it('eval, training: false and p = 0 return the input itself without drawing; errors', () => {
    const x = ones(SMALL);
    const g = getRng().state();
    expect(new GaussianDropout(0.3).eval().forward(x)).toBe(x);
    expect(gaussianDropout(x, 0.3, { training: false })).toBe(x);
    expect(gaussianDropout(x, 0)).toBe(x);
    expect(getRng().state()).toEqual(g);
    expect(() => gaussianDropout(x, 1)).toThrow(ValueError);
    expect(() => new GaussianDropout(1.2)).toThrow('GaussianDropout: p must be in [0, 1), got 1.2');
  });
});
