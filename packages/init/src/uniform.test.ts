import { manualSeed, Parameter, Rng, rand, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { expectMean, expectUniformBounds, expectVariance, MU4, moments } from './testing/stats.js';
import { uniform, uniform_ } from './uniform.js';

describe.each(testBackends)('uniform on %s', (backend) => {
  useBackend(backend);

  it('U[a, b): mean (a + b) / 2, variance (b - a)^2 / 12 within 5 standard errors (n = 65536)', () => {
    const w = uniform([256, 256], { a: -3, b: 1, rng: new Rng(31) });
    const m = moments(w.dataSync());
    expect(m.min).toBeGreaterThanOrEqual(-3);
    expect(m.max).toBeLessThan(1);
    // Shifted to a symmetric range for the bounds check.
    expectUniformBounds({ ...m, min: m.min + 1, max: m.max + 1 }, 2);
    expectMean(m, -1, 4 / Math.sqrt(12));
    expectVariance(m, 16 / 12, MU4.uniform(2));
    w.dispose();
  });

  it("defaults to PyTorch's [0, 1); the same numbers as tensor's rand", () => {
    const u = uniform([50], { rng: new Rng(4) }).dataSync();
    expect(u).toEqual(rand([50], { rng: new Rng(4) }).dataSync());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    manualSeed(3);
    const g = uniform([5]).dataSync();
    manualSeed(3);
    expect(uniform([5]).dataSync()).toEqual(g);
  });

  it('in place', () => {
    const p = new Parameter(tensorZeros([3, 3]));
    uniform_(p, { a: 2, b: 3, rng: new Rng(1) });
    expect(p.dataSync()).toEqual(uniform([3, 3], { a: 2, b: 3, rng: new Rng(1) }).dataSync());
    p.dispose();
  });

  it('errors: a >= b, non-finite bounds', () => {
    expect(() => uniform([2], { a: 1, b: 1 })).toThrow(ValueError);
    expect(() => uniform([2], { a: 1, b: 0 })).toThrow('uniform: a must be less than b, got a = 1, b = 0');
    expect(() => uniform_(tensorZeros([2]), { a: 2, b: 1 })).toThrow('uniform_: a must be less than b');
    expect(() => uniform([2], { b: Number.POSITIVE_INFINITY })).toThrow('uniform: b must be a finite number');
  });
});
