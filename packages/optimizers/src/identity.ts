import type { GradientTransformation, Params } from '@gradkit/tensor';
import type { EmptyState } from './empty-state.js';

/**
 * The transformation that changes nothing: `u = g` (the gradients are passed through, not
 * copied). A placeholder in a `chain` or the inner transformation of `masked`.
 *
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.identity
 * @example
 * ```ts
 * const tx = useClipping ? clipByGlobalNorm(1) : identity();
 * ```
 */
export function identity(): GradientTransformation<EmptyState> {
  return {
    init: () => ({}),
    update: (grads: Params, state: EmptyState): [Params, EmptyState] => [{ ...grads }, state],
  };
}
