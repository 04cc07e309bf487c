import type { GradientTransformation, Schedule } from '@gradkit/tensor';
import type { SelectOptions } from './select.js';
import { selector } from './select.js';
import { S } from './specs.js';
import type { StepState } from './transform-util.js';
import { countOf, mapWithParams } from './transform-util.js';
import { nonNegative, optionsObject, rate, rateAt } from './validate.js';

/** Options of {@link l1Proximal}. */
export interface L1ProximalOptions extends SelectOptions {
  /** The step size of the gradient step it follows: the optimizer's learning rate (number or {@link Schedule}). Required. */
  readonly learningRate: number | Schedule;
}

/**
 * L1 regularization as a proximal step (ISTA, proximal gradient), a gradient transformation that
 * goes LAST in a chain, after the optimizer's complete update:
 *
 * with `z = w + u` the point the optimizer's update `u` lands on, it returns `u' = prox(z) - w`,
 * where `prox(z) = sign(z) * max(|z| - lr_t * lambda, 0)` (the soft threshold), for the selected
 * parameters (biases and normalization scales/shifts excluded by default); other updates pass
 * unchanged. Applying `w + u'` gives `prox(z)`, with EXACT zeros wherever `|z| <= lr_t * lambda`
 * (the update there is exactly `-w`). `lr_t = learningRate(t)` (t = 0 at the first update).
 *
 * After plain SGD (`u = -lr g`) this is proximal gradient descent on `loss + lambda * sum |w|`,
 * which converges to the lasso solution with irrelevant weights exactly 0. After an adaptive
 * optimizer the threshold `lr * lambda` ignores the per-coordinate scaling (a heuristic, as in
 * most libraries). Without a chain, run {@link softThreshold} after the optimizer step instead.
 *
 * One fused kernel per parameter, no read-back. `update` needs `params`.
 *
 * @param lambda the strength, a finite number >= 0.
 * @param options `learningRate` (required) and which parameters (`include`, `exclude`).
 * @returns a transformation whose state is `{ count }` (updates done).
 * @throws {ValueError} for a negative or non-finite lambda or learningRate (or schedule value),
 *   a missing learningRate, or `update` called without params.
 * @see Tibshirani, "Regression Shrinkage and Selection via the Lasso", JRSS B 58(1), 1996.
 * @see Parikh & Boyd, "Proximal Algorithms", Foundations and Trends in Optimization 1(3), 2014, section 6.5.2.
 * @example
 * ```ts
 * const lr = 0.1;
 * const opt = chain(scale(-lr), l1Proximal(1e-3, { learningRate: lr })); // ISTA
 * ```
 */
export function l1Proximal(lambda: number, options: L1ProximalOptions): GradientTransformation<StepState> {
  const op = 'l1Proximal';
  const l1 = nonNegative(op, 'lambda', lambda);
  const opts = optionsObject(op, options);
  const lr = rate(op, 'learningRate', opts.learningRate);
  const pick = selector(op, opts);
  return {
    init: () => ({ count: 0 }),
    update(updates, state, params) {
      const count = countOf(op, state);
      const t = rateAt(op, 'learningRate', lr, count) * l1;
      return [mapWithParams(op, updates, params, pick, S.proximalUpdate, t), { count: count + 1 }];
    },
  };
}
