import type { Params } from '@gradkit/tensor';
import { noGrad, ValueError } from '@gradkit/tensor';
import { fused } from './kernel.js';

/**
 * Adds the updates to the parameters in place: `p <- p + u` (one kernel each; the parameter
 * tensors keep their identity, as `Tensor.assign` does). The updates are not disposed.
 *
 * @throws {ValueError} when an update has no parameter of its name.
 * @see https://optax.readthedocs.io/en/latest/api/utilities.html#optax.apply_updates
 * @example
 * ```ts
 * const [updates, next] = tx.update(grads, state, params);
 * applyUpdates(params, updates);
 * ```
 */
export function applyUpdates(params: Params, updates: Params): Params {
  noGrad(() => {
    for (const [k, u] of Object.entries(updates)) {
      const p = params[k];
      if (!p) throw new ValueError('applyUpdates', `no parameter named '${k}'`);
      const sum = fused('applyUpdates', '$p + $u', { p, u });
      p.assign(sum);
      sum.dispose();
    }
  });
  return params;
}

/**
 * The gradients of named parameters (those whose `grad` is set), as the `grads` argument of a
 * transformation.
 *
 * @example
 * ```ts
 * const params = Object.fromEntries(model.namedParameters());
 * loss.backward();
 * const [updates, next] = tx.update(gradsOf(params), state, params);
 * ```
 * @see {@link applyUpdates}
 */
export function gradsOf(params: Params): Params {
  const out: Params = {};
  for (const [k, p] of Object.entries(params)) if (p.grad) out[k] = p.grad;
  return out;
}
