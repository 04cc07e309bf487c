import type { GradientTransformation, Params, Schedule } from '@gradkit/tensor';
import type { CountState } from './empty-state.js';
import { scaleParams } from './scale.js';
import { learningRate, runtimeLearningRate } from './validate.js';

/** Options of {@link scaleByLearningRate}. */
export interface ScaleByLearningRateOptions {
  /** Multiply by `-lr` (descent) rather than `lr`. Default true. */
  readonly flipSign?: boolean;
}

/**
 * Scales the updates by the learning rate, negated for descent: `u_t = -lr_t g_t`, where
 * `lr` is a number or a {@link Schedule} of the step (0 for the first update). The last link of
 * most chains.
 *
 * @throws {ValueError} for a negative learning rate or one that is not finite in float32 (a
 *   schedule's value is checked at each step; a positive number `lr` that rounds to 0 in float32,
 *   such as `1e-50`, is an error too, while a schedule's value that small is used as 0).
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_learning_rate
 * @example
 * ```ts
 * const tx = chain(scaleByAdam(), scaleByLearningRate((t) => 1e-3 * 0.99 ** t));
 * ```
 */
export function scaleByLearningRate(
  lr: number | Schedule,
  options: ScaleByLearningRateOptions = {},
): GradientTransformation<CountState> {
  const op = 'scaleByLearningRate';
  const sign = options.flipSign === false ? 1 : -1;
  if (typeof lr !== 'function') learningRate(op, 'lr', lr);
  return {
    init: () => ({ count: 0 }),
    update(grads: Params, state: CountState): [Params, CountState] {
      const value =
        typeof lr === 'function' ? runtimeLearningRate(op, `lr(${state.count})`, lr(state.count)) : lr;
      return [scaleParams(grads, sign * value), { count: state.count + 1 }];
    },
  };
}
