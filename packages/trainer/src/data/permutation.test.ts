import { Rng, ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { permutation } from './permutation.js';

describe('permutation', () => {
  it('is a permutation of 0..n-1, deterministic from the generator state', () => {
    const p = permutation(1000, new Rng(1));
    expect(p).toBeInstanceOf(Int32Array);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(1000, new Rng(1)))).toEqual(Array.from(p));
    expect(Array.from(permutation(1000, new Rng(2)))).not.toEqual(Array.from(p));
    expect(Array.from(permutation(0, new Rng(1)))).toEqual([]);
    expect(Array.from(permutation(1, new Rng(1)))).toEqual([0]);
  });

  it('draws every permutation of 4 items about equally often (chi-square, 24 cells)', () => {
    const rng = new Rng(2024);
    const counts = new Map<string, number>();
    const trials = 24_000;
    for (let t = 0; t < trials; t++) {
      const key = permutation(4, rng).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    const expected = trials / 24;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
    // 23 degrees of freedom: P(chi2 > 49.7) = 0.001; the seed is fixed, so this is not flaky
    expect(chi2).toBeLessThan(49.7);
  });

  it('rejects a bad n', () => {
    expect(() => permutation(-1, new Rng(0))).toThrow(ValueError);
    expect(() => permutation(2.5, new Rng(0))).toThrow(
      'permutation: n must be a non-negative integer below 2^31, got 2.5',
    );
  });
});
