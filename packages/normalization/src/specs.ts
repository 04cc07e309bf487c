import type { ElementwiseSpec } from '@gradkit/tensor';
import { defineKernel } from '@gradkit/tensor';

// This package's fused element-wise kernels, in the kernel language of `defineKernel` (parsed and
// validated when this module loads): inputs a, b, c, d (broadcast and loaded), scalar parameters
// p0, p1, temporaries t_*, float literals with a decimal point. Names carry a `normalization_`
// prefix so that errors and cache entries say where a kernel comes from. Statistics arrays keep
// the reduced axes as size 1 so that they broadcast against the input.

const spec = (name: string, arity: number, params: number, expr: string, stmts?: string): ElementwiseSpec =>
  defineKernel({ name: `normalization_${name}`, arity, params, expr, ...(stmts ? { stmts } : {}) });

/** @internal The kernels of the normalization layers. */
export const S = {
  /** Squared deviation from the mean, inputs (x, sum(x)), p0 = 1/M: (x - p0 sum)^2. */
  sqDev: spec('sqDev', 2, 1, 't_c * t_c', 'let t_c = a - b * p0;'),
  /** 1 / sqrt(p0 s + p1), input s (a sum of squares), p0 = 1/M, p1 = eps. */
  invStd: spec('invStd', 1, 2, '1.0 / Math.sqrt(a * p0 + p1)'),
  /** (x - mean) * s, inputs (x, mean, s). */
  normalize: spec('normalize', 3, 0, '(a - b) * c'),
  /** (x - mean) * s + shift, inputs (x, mean, s, shift). */
  normalizeShift: spec('normalizeShift', 4, 0, '(a - b) * c + d'),
  /** (x - mean) * invstd * w, inputs (x, mean, invstd, w). */
  normalizeScale: spec('normalizeScale', 4, 0, '(a - b) * c * d'),
  /** a b c. */
  mul3: spec('mul3', 3, 0, 'a * b * c'),
  /** xhat * w + b, inputs (xhat, w, b). */
  scaleShift: spec('scaleShift', 3, 0, 'a * b + c'),
  /** a b p0. */
  mulScaled: spec('mulScaled', 2, 1, 'a * b * p0'),
  /** dy * xhat recomputed from x, inputs (x, dy, mean, invstd): dy (x - mean) invstd. */
  dyXhat: spec('dyXhat', 4, 0, 'b * (a - c) * d'),
  /** Batch-norm backward, first half, inputs (x, dy, mean, q): dy - (x - mean) q. */
  bnGradCenter: spec('bnGradCenter', 4, 0, 'b - (a - c) * d'),
  /** Batch-norm backward, second half, inputs (t, sum(dy), u), p0 = 1/M: (t - p0 sum(dy)) u. */
  bnGradScale: spec('bnGradScale', 3, 1, '(a - b * p0) * c'),
  /** Centered backward, inputs (g, xhat, sum(g), sum(g xhat)), p0 = 1/M: g - p0 (sum(g) + xhat sum(g xhat)). */
  gradCentered: spec('gradCentered', 4, 1, 'a - p0 * (c + b * d)'),
  /** RMS backward, inputs (g, xhat, sum(g xhat)), p0 = 1/M: g - p0 xhat sum(g xhat). */
  gradUncentered: spec('gradUncentered', 3, 1, 'a - p0 * b * c'),
  /** Exponential moving average, inputs (running, sum), p0 = 1 - f, p1 = f k: (1 - f) r + f k sum. */
  lerp: spec('lerp', 2, 2, 'a * p0 + b * p1'),
  /** Cumulative average, inputs (running, sum, n), p0 = k: r + (k sum - r) / n. */
  cumulative: spec('cumulative', 3, 1, 'a + (b * p0 - a) / c'),
  /** a + 1. */
  increment: spec('increment', 1, 0, 'a + 1.0'),
} as const;
