import type { Tensor } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import { checkUniform, sample } from './distribution.js';
import { fillInPlace } from './host.js';
import type { FillOptions, InitOptions } from './options.js';

/** Options of {@link uniform}: the range [a, b). */
export interface UniformOptions {
  /** Lower bound (default 0, as PyTorch; Keras' `RandomUniform` defaults to -0.05). */
  readonly a?: number;
  /** Upper bound (default 1, as PyTorch; Keras' `RandomUniform` defaults to 0.05). */
  readonly b?: number;
}

/** @internal */
export function uniformDistribution(op: string, options: UniformOptions): Distribution {
  const { a = 0, b = 1 } = options;
  checkUniform(op, a, b);
  return { kind: 'uniform', low: a, high: b };
}

/**
 * Values drawn from U[a, b) (PyTorch's `nn.init.uniform_`; defaults a = 0, b = 1). The same
 * numbers as `rand(shape, { low: a, high: b, rng })` of `@gradkit/tensor`.
 *
 * @throws {ValueError} when a >= b or a bound is not finite.
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const w = uniform([64, 32], { a: -0.05, b: 0.05, rng: new Rng(0) });
 * ```
 */
export function uniform(shape: readonly number[], options: UniformOptions & InitOptions = {}): Tensor {
  return sample(uniformDistribution('uniform', options), shape, options);
}

/**
 * Fills `t` in place with U[a, b) values (PyTorch's `uniform_`) and returns it.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * uniform_(w, { a: -0.1, b: 0.1 });
 * ```
 */
export function uniform_<T extends Tensor>(t: T, options: UniformOptions & FillOptions = {}): T {
  const dist = uniformDistribution('uniform_', options);
  return fillInPlace('uniform_', t, (s, o) => sample(dist, s, o), options);
}
