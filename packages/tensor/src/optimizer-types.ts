import type { Tensor } from './tensor.js';

/**
 * Named tensors: parameters, their gradients, or updates, keyed alike (typically by
 * `Module.namedParameters()` names). The currency of {@link GradientTransformation}.
 *
 * @example
 * ```ts
 * const params: Params = Object.fromEntries(model.namedParameters());
 * ```
 */
export type Params = Record<string, Tensor>;

/**
 * A composable gradient transformation, the optax pattern shared by every optimizer package:
 * `init` builds the state from the parameters; `update` maps gradients (and the state, and
 * optionally the parameters) to updates and a new state. Applying the updates (`p + u`) is the
 * caller's job, so transformations chain: clip, then scale by Adam, then scale by -lr.
 *
 * Conventions: `update` returns new tensors and does not dispose its inputs; updates are to be
 * added to the parameters.
 *
 * @typeParam S the state (a record of tensors and numbers, serializable for checkpoints).
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html
 * @example
 * ```ts
 * const scale = (factor: number): GradientTransformation<Record<string, never>> => ({
 *   init: () => ({}),
 *   update: (grads, state) => [Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.mul(factor)])), state],
 * });
 * ```
 */
export interface GradientTransformation<S> {
  /** The initial state for these parameters. */
  init(params: Params): S;
  /** Updates for `grads` and the next state. */
  update(grads: Params, state: S, params?: Params): [Params, S];
}

/**
 * A learning-rate (or any hyper-parameter) schedule: the value at optimizer step `step`
 * (0 for the first update).
 *
 * @example
 * ```ts
 * const warmup: Schedule = (step) => 1e-3 * Math.min(1, (step + 1) / 100);
 * ```
 */
export type Schedule = (step: number) => number;
