import type { GradientTransformation } from '@gradkit/tensor';
import type { SelectOptions } from './select.js';
import { selector } from './select.js';
import { S } from './specs.js';
import type { EmptyState } from './transform-util.js';
import { mapWithParams } from './transform-util.js';
import { nonNegative, optionsObject } from './validate.js';

/**
 * L1 regularization as a (sub)gradient term, a gradient transformation that goes FIRST in a
 * chain, before the optimizer's scaling (it must see raw gradients):
 *
 * `g <- g + lambda * sign(w)` for the selected parameters (biases and normalization scales/shifts
 * excluded by default), with `sign(0) = 0`. This is the gradient of `lambda * sum |w|`
 * ({@link l1Penalty}) without building it into the loss. Weights hover around 0 (within about
 * `lr * lambda`) but are rarely exactly 0; {@link l1Proximal} produces exact zeros.
 *
 * One fused kernel per parameter, no read-back. `update` needs `params`.
 *
 * @param lambda the strength, a finite number >= 0.
 * @param options which parameters (`include`, `exclude`; see {@link SelectOptions}).
 * @returns a stateless transformation (state `{}`).
 * @throws {ValueError} for a negative or non-finite lambda, or `update` called without params.
 * @see Tibshirani, "Regression Shrinkage and Selection via the Lasso", JRSS B 58(1), 1996.
 * @example
 * ```ts
 * const opt = chain(l1Subgradient(1e-4), scale(-0.1)); // SGD on loss + 1e-4 sum |w|
 * ```
 */
export function l1Subgradient(
  lambda: number,
  options: SelectOptions = {},
): GradientTransformation<EmptyState> {
  const op = 'l1Subgradient';
  const l1 = nonNegative(op, 'lambda', lambda);
  const pick = selector(op, optionsObject(op, options));
  return {
    init: () => ({}),
    update: (grads, state, params) => [mapWithParams(op, grads, params, pick, S.addScaledSign, l1), state],
  };
}
