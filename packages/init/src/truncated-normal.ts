import type { Tensor } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import { checkTruncatedNormal, sample } from './distribution.js';
import { fillInPlace } from './host.js';
import type { FillOptions, InitOptions } from './options.js';

/** Options of {@link truncatedNormal}: PyTorch's `trunc_normal_` parameters. */
export interface TruncatedNormalOptions {
  /** Mean of the normal before truncation (default 0). */
  readonly mean?: number;
  /** Standard deviation of the normal before truncation, > 0 (default 1). */
  readonly std?: number;
  /** Absolute lower bound (default -2; may be -Infinity). */
  readonly a?: number;
  /** Absolute upper bound (default 2; may be Infinity). */
  readonly b?: number;
}

/** @internal */
export function truncatedNormalDistribution(op: string, options: TruncatedNormalOptions): Distribution {
  const { mean = 0, std = 1, a = -2, b = 2 } = options;
  checkTruncatedNormal(op, mean, std, a, b);
  return { kind: 'truncatedNormal', mean, std, a, b };
}

/**
 * Values drawn from N(mean, std^2) conditioned on [a, b], with PyTorch's `trunc_normal_`
 * semantics: `a` and `b` are absolute bounds, not multiples of std (defaults mean 0, std 1,
 * a = -2, b = 2). So `truncatedNormal(s, { std: 0.02 })` is practically untruncated; pass
 * `a: -0.04, b: 0.04` to cut at two standard deviations, as Keras' `TruncatedNormal` always does.
 *
 * The mean and variance are those of the truncated distribution, not `mean` and `std^2`: with
 * alpha = (a - mean)/std, beta = (b - mean)/std, Z = Phi(beta) - Phi(alpha),
 * `E = mean + std (phi(alpha) - phi(beta)) / Z` and
 * `Var = std^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2]`.
 *
 * Sampled by inversion (one uniform per element, float64 CDF and quantile), which stays accurate
 * for intervals far from the mean where PyTorch warns.
 *
 * @throws {ValueError} when std <= 0, a >= b, or the interval's probability underflows.
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const w = truncatedNormal([768, 768], { std: 0.02, a: -0.04, b: 0.04 });
 * ```
 */
export function truncatedNormal(
  shape: readonly number[],
  options: TruncatedNormalOptions & InitOptions = {},
): Tensor {
  return sample(truncatedNormalDistribution('truncatedNormal', options), shape, options);
}

/**
 * Fills `t` in place with truncated-normal values (PyTorch's `trunc_normal_`) and returns it.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * truncatedNormal_(w, { std: 0.02, a: -0.04, b: 0.04 });
 * ```
 */
export function truncatedNormal_<T extends Tensor>(
  t: T,
  options: TruncatedNormalOptions & FillOptions = {},
): T {
  const dist = truncatedNormalDistribution('truncatedNormal_', options);
  return fillInPlace('truncatedNormal_', t, (s, o) => sample(dist, s, o), options);
}
