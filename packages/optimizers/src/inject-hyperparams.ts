import type { GradientTransformation, Params, Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { finiteNumber } from './validate.js';

/** Options where every numeric hyperparameter may also be a {@link Schedule} of the step. */
export type InjectableOptions<O> = {
  [K in keyof O]: [Extract<O[K], number>] extends [never] ? O[K] : O[K] | Schedule;
};

/**
 * The state of {@link injectHyperparams}: the step count, the numeric hyperparameters (change
 * them between steps: `state.hyperparams.lr = 1e-4`; scheduled ones are overwritten by their
 * schedule at each step), and the inner transformation's state.
 */
export interface InjectHyperparamsState<S> {
  /** Updates done so far (the step at which scheduled hyperparameters are evaluated next). */
  readonly count: number;
  /** The current numeric hyperparameters, by option name; assign to change one between steps. */
  readonly hyperparams: Record<string, number>;
  /** The state of the wrapped transformation. */
  readonly inner: S;
}

/**
 * Makes the numeric hyperparameters of a transformation part of its state, so they can be read
 * and changed between steps (a learning rate set by a plateau detector) and are saved in
 * checkpoints, as `optax.inject_hyperparams`. Each numeric option may be a number (stored in
 * `state.hyperparams`, changeable) or a {@link Schedule} (evaluated at the step, 0 for the first
 * update); other options (booleans, pairs) are fixed. The factory is called at every update with
 * the current values, so it must be cheap and pure (every transformation of this package is).
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizer_schedules.html#optax.inject_hyperparams
 * @example
 * ```ts
 * const tx = injectHyperparams(adamTransform)({ lr: 1e-3, weightDecay: 0.01 });
 * let state = tx.init(params);
 * // ... later, between steps:
 * state.hyperparams.lr = 1e-4;
 * ```
 */
export function injectHyperparams<O extends object, S>(
  factory: (options: O) => GradientTransformation<S>,
): (options: InjectableOptions<O>) => GradientTransformation<InjectHyperparamsState<S>> {
  if (typeof factory !== 'function') throw new ValueError('injectHyperparams', 'factory must be a function');
  return (options: InjectableOptions<O>) => {
    const fixed: Record<string, unknown> = {};
    const numeric: Record<string, number> = {};
    const schedules: Record<string, Schedule> = {};
    for (const [k, v] of Object.entries(options)) {
      if (typeof v === 'number') numeric[k] = v;
      else if (typeof v === 'function') schedules[k] = v as Schedule;
      else fixed[k] = v;
    }
    const valuesAt = (step: number, current: Record<string, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const k of Object.keys(numeric)) out[k] = finiteNumber('injectHyperparams', k, current[k]);
      for (const [k, s] of Object.entries(schedules))
        out[k] = finiteNumber('injectHyperparams', `${k}(${step})`, s(step));
      return out;
    };
    const build = (hp: Record<string, number>) => factory({ ...fixed, ...hp } as O);
    return {
      init(params: Params): InjectHyperparamsState<S> {
        const hyperparams = valuesAt(0, numeric);
        return { count: 0, hyperparams, inner: build(hyperparams).init(params) };
      },
      update(
        grads: Params,
        state: InjectHyperparamsState<S>,
        params?: Params,
      ): [Params, InjectHyperparamsState<S>] {
        const hyperparams = valuesAt(state.count, state.hyperparams);
        const [u, inner] = build(hyperparams).update(grads, state.inner, params);
        return [u, { count: state.count + 1, hyperparams, inner }];
      },
    };
  };
}
