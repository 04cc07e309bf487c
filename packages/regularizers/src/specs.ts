import type { ElementwiseSpec } from '@gradkit/tensor';
import { defineKernel } from '@gradkit/tensor';

// This package's fused element-wise kernels, in the kernel language of `defineKernel` (parsed and
// validated when this module loads): inputs a, b; parameters p0, p1; temporaries t_*; float
// literals with a decimal point. Names carry a `regularizers_` prefix so that errors and cache
// entries say where a kernel comes from. A NaN input stays NaN (no comparison may turn it into a
// finite value).

const spec = (name: string, arity: number, params: number, expr: string, stmts?: string): ElementwiseSpec =>
  defineKernel({ name: `regularizers_${name}`, arity, params, expr, ...(stmts ? { stmts } : {}) });

/**
 * sign(x) with sign(0) = 0 and NaN kept. NaN is tested first: on gl, a select such as
 * `a < 0.0 ? 0.0 : a` may be compiled to max(), which returns the non-NaN operand.
 */
const sign = (x: string) => `(${x} != ${x} ? ${x} : (${x} > 0.0 ? 1.0 : (${x} < 0.0 ? -1.0 : 0.0)))`;

/** @internal Kernels of the penalties, transformations and constraints. */
export const S = {
  /** Penalty terms of w (input a), p0 = l1, p1 = l2: `l1 |w| + l2 w^2`. */
  penaltyTerms: spec('penaltyTerms', 1, 2, 'p0 * Math.abs(a) + p1 * a * a'),
  /** Their gradient times dy, inputs (w, dy), p0 = l1, p1 = 2 l2: `dy (l1 sign(w) + 2 l2 w)`, sign(0) = 0. */
  penaltyGrad: spec('penaltyGrad', 2, 2, 'b * (p0 * t_s + p1 * a)', `let t_s = ${sign('a')};`),
  /** Inputs (u, w), p0 = k: `u + k w` (decoupled weight decay with k = -lr wd). */
  addScaled: spec('addScaled', 2, 1, 'a + p0 * b'),
  /** Inputs (g, w), p0 = lambda: `g + lambda sign(w)`, sign(0) = 0. */
  addScaledSign: spec('addScaledSign', 2, 1, `a + p0 * ${sign('b')}`),
  /**
   * Inputs (u, w), p0 = threshold t: the update that lands on the soft threshold of w + u:
   * `S_t(w + u) - w`, exactly `-w` where the result is 0 (so `w + update` is exactly 0).
   */
  proximalUpdate: spec(
    'proximalUpdate',
    2,
    1,
    't_z != t_z ? t_z : (t_m > 0.0 ? (t_z > 0.0 ? t_m : -t_m) - b : -b)',
    'let t_z = a + b; let t_m = Math.abs(t_z) - p0;',
  ),
  /** Input w, p0 = threshold t: `sign(w) max(|w| - t, 0)`. */
  softThreshold: spec(
    'softThreshold',
    1,
    1,
    'a != a ? a : (t_m > 0.0 ? (a > 0.0 ? t_m : -t_m) : 0.0)',
    'let t_m = Math.abs(a) - p0;',
  ),
  /** Inputs (w, sum of squares of w's unit), p0 = c, p1 = eps: rows with norm n > c scaled by c / (n + eps). */
  maxNorm: spec('maxNorm', 2, 2, 't_n > p0 ? a * (p0 / (t_n + p1)) : a', 'let t_n = Math.sqrt(b);'),
  /** Inputs (w, sum of squares of w's unit), p0 = eps: `w / (n + eps)`. */
  unitNorm: spec('unitNorm', 2, 1, 'a / (Math.sqrt(b) + p0)'),
  /** Input w: `w < 0 ? 0 : w` (NaN stays NaN). */
  nonNeg: spec('nonNeg', 1, 0, 'a != a ? a : (a < 0.0 ? 0.0 : a)'),
} as const;
