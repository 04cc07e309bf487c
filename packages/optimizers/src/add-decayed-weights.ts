import type { GradientTransformation, Params } from '@gradkit/tensor';
import { noGrad, ValueError } from '@gradkit/tensor';
import type { EmptyState } from './empty-state.js';
import { fused } from './kernel.js';
import { nonNegative } from './validate.js';

/**
 * Adds the decayed parameters to the updates: `u = g + weightDecay * p`. Before an adaptive
 * scaling it is the L2 penalty of PyTorch's `weight_decay` (Adam, SGD, ...); after it, decoupled
 * weight decay (AdamW, Lion, LAMB). Needs the parameters in `update`. Restrict it to some
 * parameters (no decay on biases) with {@link masked}.
 *
 * @param weightDecay the coefficient (>= 0); 0 passes the gradients through.
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.add_decayed_weights
 * @see https://arxiv.org/abs/1711.05101 (Loshchilov & Hutter, Decoupled Weight Decay Regularization)
 * @example
 * ```ts
 * const adamw = chain(scaleByAdam(), addDecayedWeights(0.01), scaleByLearningRate(1e-3));
 * ```
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation<EmptyState> {
  const op = 'addDecayedWeights';
  nonNegative(op, 'weightDecay', weightDecay);
  return {
    init: () => ({}),
    update(grads: Params, state: EmptyState, params?: Params): [Params, EmptyState] {
      if (weightDecay === 0) return [{ ...grads }, state];
      return noGrad(() => {
        const out: Params = {};
        for (const [k, g] of Object.entries(grads)) {
          const p = params?.[k];
          if (!p)
            throw new ValueError(
              op,
              `needs the parameters (update(grads, state, params)); '${k}' is missing`,
            );
          out[k] = fused('addDecayedWeights', '$g + $wd * $p', { g, p }, { wd: weightDecay });
        }
        return [out, state];
      });
    },
  };
}
