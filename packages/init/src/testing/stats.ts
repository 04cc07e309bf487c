// Test-only: sample statistics with tolerances derived from the sample size. Not part of the build.
import { expect } from 'vitest';

/** Float64 moments of a sample. */
export interface Moments {
  readonly n: number;
  readonly mean: number;
  /** Population variance (divided by n). */
  readonly variance: number;
  /** Fourth central moment. */
  readonly m4: number;
  readonly min: number;
  readonly max: number;
}

export function moments(values: ArrayLike<number>): Moments {
  const n = values.length;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let s2 = 0;
  let s4 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    s2 += d * d;
    s4 += d * d * d * d;
  }
  return { n, mean, variance: s2 / n, m4: s4 / n, min, max };
}

/**
 * The statistical tolerance of every sample test: Z standard errors. With Z = 5 a correct
 * implementation fails with probability below 6e-7 per check (the seeds are fixed, so a pass is
 * reproducible); a wrong scale (a gain of sqrt(2) instead of 1, a wrong fan) is off by hundreds.
 */
export const Z = 5;

/** Expects the sample mean within Z standard errors (sigma / sqrt n) of `want`. */
export function expectMean(m: Moments, want: number, sigma: number, what = 'mean'): void {
  const tol = (Z * sigma) / Math.sqrt(m.n);
  expect(Math.abs(m.mean - want), `${what}: ${m.mean} vs ${want} (tol ${tol})`).toBeLessThanOrEqual(tol);
}

/**
 * Expects the sample variance within Z standard errors of `want`; the standard error of the
 * variance is sqrt((mu4 - sigma^4) / n), with mu4 the distribution's fourth central moment
 * (`mu4`, else estimated from the sample).
 */
export function expectVariance(m: Moments, want: number, mu4?: number, what = 'variance'): void {
  const fourth = mu4 ?? m.m4;
  const tol = Z * Math.sqrt(Math.max(fourth - want * want, 0) / m.n);
  expect(Math.abs(m.variance - want), `${what}: ${m.variance} vs ${want} (tol ${tol})`).toBeLessThanOrEqual(
    tol,
  );
}

/** Fourth central moments of the distributions the initializers use. */
export const MU4 = {
  /** U(-b, b): b^4 / 5. */
  uniform: (bound: number) => bound ** 4 / 5,
  /** N(0, s^2): 3 s^4. */
  normal: (std: number) => 3 * std ** 4,
};

/**
 * Expects a U(-bound, bound) sample to stay within the float32 bound and to come close to it on
 * both sides: P(no value in the top 20/n of either side) = (1 - 20/(2n))^n ~ e^-10 per side.
 */
export function expectUniformBounds(m: Moments, bound: number): void {
  const b32 = Math.fround(bound);
  expect(m.max).toBeLessThanOrEqual(b32);
  expect(m.min).toBeGreaterThanOrEqual(-b32);
  const slack = (20 / m.n) * 2 * bound;
  expect(m.max).toBeGreaterThanOrEqual(bound - slack);
  expect(m.min).toBeLessThanOrEqual(-bound + slack);
}
