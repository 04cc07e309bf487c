import type { GradientTransformation, Params, Tensor } from '@gradkit/tensor';
import { tensorsOf } from './state-tree.js';

/** The states of a chain's transformations, in order. */
export type ChainState<T extends readonly GradientTransformation<unknown>[]> = {
  -readonly [K in keyof T]: T[K] extends GradientTransformation<infer S> ? S : never;
};

/**
 * Composes transformations: the updates of each are the gradients of the next, as
 * `optax.chain`. The state is the list of their states. Intermediate updates are disposed as soon
 * as the next transformation has consumed them (the incoming gradients, the parameters and the
 * states are never disposed).
 *
 * Formula: `u = T_n(... T_2(T_1(g)))`.
 *
 * @see https://optax.readthedocs.io/en/latest/api/combining_optimizers.html#optax.chain
 * @example
 * ```ts
 * // Adam with gradient clipping and decoupled weight decay, step by step:
 * const tx = chain(clipByGlobalNorm(1), scaleByAdam(), addDecayedWeights(0.01), scaleByLearningRate(1e-3));
 * let state = tx.init(params);
 * const [updates, next] = tx.update(grads, state, params);
 * ```
 */
export function chain<const T extends readonly GradientTransformation<unknown>[]>(
  ...transformations: T
): GradientTransformation<ChainState<T>> {
  return {
    init(params: Params): ChainState<T> {
      return transformations.map((t) => t.init(params)) as ChainState<T>;
    },
    update(grads: Params, state: ChainState<T>, params?: Params): [Params, ChainState<T>] {
      const states = state as unknown[];
      let u = grads;
      const next: unknown[] = [];
      const shielded = new Set<Tensor>([...tensorsOf(grads), ...tensorsOf(params), ...tensorsOf(state)]);
      transformations.forEach((t, i) => {
        const [nu, ns] = t.update(u, states[i], params);
        next.push(ns);
        for (const s of tensorsOf(ns)) shielded.add(s);
        if (u !== grads) {
          const carried = tensorsOf(nu);
          for (const x of tensorsOf(u)) if (!carried.has(x) && !shielded.has(x)) x.dispose();
        }
        u = nu;
      });
      return [u, next as ChainState<T>];
    },
  };
}
