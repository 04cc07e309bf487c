// Test-only: sample statistics with tolerances derived from the sample size. Not part of the build.
import { loadFixture } from '@gradkit/test-utils';
import { expect } from 'vitest';

/** Float64 mean, population variance and fourth central moment of a sample. */
export interface Moments {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
  readonly m4: number;
}

export function moments(values: ArrayLike<number>): Moments {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let s2 = 0;
  let s4 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    s2 += d * d;
    s4 += d ** 4;
  }
  return { n, mean, variance: s2 / n, m4: s4 / n };
}

/**
 * Z standard errors: every statistical check allows Z = 5 (a correct implementation fails with
 * probability below 6e-7 per check; the seeds are fixed, so results are reproducible).
 */
export const Z = 5;

/** |got - want| <= Z * se, with a message. */
export function expectWithin(got: number, want: number, se: number, what: string): void {
  const tol = Z * se;
  expect(Math.abs(got - want), `${what}: ${got} vs ${want} (tol ${tol})`).toBeLessThanOrEqual(tol);
}

/** Expects a sample's mean within Z standard errors (sigma / sqrt n) of `want`. */
export function expectMean(m: Moments, want: number, sigma: number, what = 'mean'): void {
  expectWithin(m.mean, want, sigma / Math.sqrt(m.n), what);
}

/** Expects a sample's variance within Z standard errors (sqrt((mu4 - sigma^4) / n)) of `want`. */
export function expectVariance(m: Moments, want: number, mu4 = m.m4, what = 'variance'): void {
  expectWithin(m.variance, want, Math.sqrt(Math.max(mu4 - want * want, 0) / m.n), what);
}

/** The PyTorch 1.13 reference values of fixtures/dropout.json (see fixtures/generate.py). */
export interface DropoutFixture {
  readonly torch: string;
  readonly cases: {
    p: number;
    dropoutScale: number;
    dropoutKeepRate: number;
    alphaA: number;
    alphaB: number;
    alphaDropped: number;
    alphaKeepRate: number;
    n: number;
  }[];
  readonly pZeroIsInput: boolean;
  readonly evalIsInput: boolean;
  readonly alphaEvalIsInput: boolean;
  readonly pOne: { output: number[]; grad: number[] };
  readonly pOutOfRangeMessage: string;
  /** `F.dropout2d` on all-ones `[N, C, H, W]` inputs. */
  readonly dropout2d: {
    p: number;
    shape: number[];
    constantOverHW: boolean;
    scale: number;
    channelKeepRate: number;
    gradEqualsOutput: boolean;
  }[];
  readonly dropout2dEvalIsInput: boolean;
}

export const FIXTURE = loadFixture<DropoutFixture>(new URL('../../fixtures/dropout.json', import.meta.url));

/** The uniforms `new Rng(seed)` yields first: the host reference of a dropout mask. */
export function hostUniforms(rng: { uniform(): number }, n: number): Float64Array {
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) u[i] = rng.uniform();
  return u;
}
