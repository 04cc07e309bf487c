import type { GradientTransformation, Params } from '@gradkit/tensor';
import { noGrad } from '@gradkit/tensor';
import type { EmptyState } from './empty-state.js';
import { fused } from './kernel.js';
import { finiteNumber } from './validate.js';

/** `factor * g` for every gradient (one kernel each). @internal */
export function scaleParams(grads: Params, factor: number): Params {
  return noGrad(() => {
    const out: Params = {};
    for (const [k, g] of Object.entries(grads)) out[k] = fused('scale', '$s * $g', { g }, { s: factor });
    return out;
  });
}

/**
 * Scales the updates by a constant: `u = factor * g`.
 *
 * @param factor any finite number (negative to descend: `scale(-lr)`).
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale
 * @example
 * ```ts
 * const sgdLike = chain(scale(-0.1)); // u = -0.1 g
 * ```
 */
export function scale(factor: number): GradientTransformation<EmptyState> {
  finiteNumber('scale', 'factor', factor);
  return {
    init: () => ({}),
    update: (grads: Params, state: EmptyState): [Params, EmptyState] => [scaleParams(grads, factor), state],
  };
}
