import type { GradientTransformation, Params } from '@gradkit/tensor';
import { noGrad } from '@gradkit/tensor';
import type { EmptyState } from './empty-state.js';
import { fused } from './kernel.js';
import { nonNegative } from './validate.js';

/** `clamp(g, -clipValue, clipValue)` for every gradient (NaN stays NaN). @internal */
export function clipParamsByValue(grads: Params, clipValue: number): Params {
  return noGrad(() => {
    const out: Params = {};
    for (const [k, g] of Object.entries(grads)) {
      // GLSL min/max drop a NaN operand: keep NaN explicitly, as PyTorch's clamp does.
      out[k] = fused(
        'clipByValue',
        '$g != $g ? $g : Math.min(Math.max($g, -$c), $c)',
        { g },
        { c: clipValue },
      );
    }
    return out;
  });
}

/**
 * Clips every element of the updates to `[-clipValue, clipValue]`, as PyTorch's
 * `torch.nn.utils.clip_grad_value_`: `u = clamp(g, -clipValue, clipValue)`.
 *
 * @throws {ValueError} for a negative or non-finite `clipValue`.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_value_.html
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.clip
 * @example
 * ```ts
 * const tx = chain(clipByValue(0.5), sgdTransform({ lr: 0.1 }));
 * ```
 */
export function clipByValue(clipValue: number): GradientTransformation<EmptyState> {
  nonNegative('clipByValue', 'clipValue', clipValue);
  return {
    init: () => ({}),
    update: (grads: Params, state: EmptyState): [Params, EmptyState] => [
      clipParamsByValue(grads, clipValue),
      state,
    ],
  };
}
