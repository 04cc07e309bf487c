import { assignAll } from './assign.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { S } from './specs.js';
import { nonNegative, optionsObject } from './validate.js';

/**
 * The L1 proximal operator applied in place, after an optimizer step (a post-update function, as
 * the constraints):
 *
 * `w <- sign(w) * max(|w| - threshold, 0)` for the selected parameters (biases and
 * normalization scales/shifts excluded by default). After an SGD step with learning rate `lr`,
 * `threshold = lr * lambda` makes it a proximal gradient (ISTA) step for `loss + lambda * sum |w|`;
 * weights with `|w| <= threshold` become exactly 0.
 *
 * Runs under {@link @gradkit/tensor!noGrad} on the device (one fused kernel per parameter, no read-back); every
 * new value is computed before any parameter is written.
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param threshold `lr * lambda`, a finite number >= 0.
 * @param options which parameters (`include`, `exclude`; see {@link SelectOptions}).
 * @throws {ValueError} for a negative or non-finite threshold.
 * @see Parikh & Boyd, "Proximal Algorithms", 2014, section 6.5.2.
 * @example
 * ```ts
 * sgdStep(model, lr); // p <- p - lr * grad
 * softThreshold(model, lr * 1e-3);
 * ```
 */
export function softThreshold(params: ParamSource, threshold: number, options: SelectOptions = {}): void {
  const op = 'softThreshold';
  const t = nonNegative(op, 'threshold', threshold);
  const chosen = select(op, params, optionsObject(op, options));
  if (t === 0) return;
  assignAll(chosen.map(([, w]) => [w, () => w.device.map(S.softThreshold, [w.array], [t])]));
}
