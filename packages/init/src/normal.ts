import type { Tensor } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import { checkNormal, sample } from './distribution.js';
import { fillInPlace } from './host.js';
import type { FillOptions, InitOptions } from './options.js';

/** Options of {@link normal}. */
export interface NormalOptions {
  /** Mean (default 0). */
  readonly mean?: number;
  /** Standard deviation, >= 0 (default 1, as PyTorch; Keras' `RandomNormal` defaults to 0.05). */
  readonly std?: number;
}

/** @internal */
export function normalDistribution(op: string, options: NormalOptions): Distribution {
  const { mean = 0, std = 1 } = options;
  checkNormal(op, mean, std);
  return { kind: 'normal', mean, std };
}

/**
 * Values drawn from N(mean, std^2) (PyTorch's `nn.init.normal_`; defaults mean = 0, std = 1), by
 * Box–Muller from the seeded generator. The same numbers as `randn(shape, { mean, std, rng })`.
 *
 * @throws {ValueError} for a negative or non-finite std.
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const embedding = normal([1000, 64], { std: 0.02 });
 * ```
 */
export function normal(shape: readonly number[], options: NormalOptions & InitOptions = {}): Tensor {
  return sample(normalDistribution('normal', options), shape, options);
}

/**
 * Fills `t` in place with N(mean, std^2) values (PyTorch's `normal_`) and returns it.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * normal_(w, { std: 0.01 });
 * ```
 */
export function normal_<T extends Tensor>(t: T, options: NormalOptions & FillOptions = {}): T {
  const dist = normalDistribution('normal_', options);
  return fillInPlace('normal_', t, (s, o) => sample(dist, s, o), options);
}
