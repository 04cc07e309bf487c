import { Parameter, Rng, randn, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { normal, normal_ } from './normal.js';
import { expectMean, expectVariance, MU4, moments } from './testing/stats.js';

describe.each(testBackends)('normal on %s', (backend) => {
  useBackend(backend);

  it('N(mean, std^2): sample mean and variance within 5 standard errors (n = 65536)', () => {
    const w = normal([256, 256], { mean: 0.5, std: 0.02, rng: new Rng(41) });
    const m = moments(w.dataSync());
    expectMean(m, 0.5, 0.02);
    expectVariance(m, 0.02 ** 2, MU4.normal(0.02));
    w.dispose();
  });

  it("defaults to N(0, 1); the same numbers as tensor's randn; std = 0 is constant", () => {
    expect(normal([9], { rng: new Rng(2) }).dataSync()).toEqual(randn([9], { rng: new Rng(2) }).dataSync());
    expect(normal([3], { mean: 2, std: 0 }).dataSync()).toEqual(new Float32Array([2, 2, 2]));
  });

  it('in place', () => {
    const p = new Parameter(tensorZeros([4]));
    normal_(p, { std: 3, rng: new Rng(7) });
    expect(p.dataSync()).toEqual(normal([4], { std: 3, rng: new Rng(7) }).dataSync());
    p.dispose();
  });

  it('errors: negative or non-finite std, non-finite mean', () => {
    expect(() => normal([2], { std: -1 })).toThrow(ValueError);
    expect(() => normal([2], { std: -1 })).toThrow('normal: std must be >= 0, got -1');
    expect(() => normal_(tensorZeros([2]), { std: -0.5 })).toThrow('normal_: std must be >= 0, got -0.5');
    expect(() => normal([2], { mean: Number.NaN })).toThrow('normal: mean must be a finite number, got NaN');
  });
});
