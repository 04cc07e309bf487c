import { assignAll } from './assign.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { S } from './specs.js';
import { optionsObject } from './validate.js';

/**
 * The non-negativity constraint, applied in place after an optimizer step:
 *
 * `w <- max(w, 0)` element-wise (NaN stays NaN) for the selected parameters (biases and
 * normalization scales/shifts excluded by default; pass `exclude: null` to constrain them too).
 * Keras' `NonNeg()` computes the same `w * (w >= 0)`.
 *
 * Runs under {@link @gradkit/tensor!noGrad} on the device: one kernel per parameter, no read-back; every new
 * value is computed before any parameter is written.
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param options which parameters (`include`, `exclude`; see {@link SelectOptions}).
 * @see https://keras.io/api/layers/constraints/
 * @example
 * ```ts
 * nonNeg(model, { include: 'decoder' }); // non-negative decoder weights (as in NMF-like models)
 * ```
 */
export function nonNeg(params: ParamSource, options: SelectOptions = {}): void {
  const op = 'nonNeg';
  const chosen = select(op, params, optionsObject(op, options));
  assignAll(chosen.map(([, w]) => [w, () => w.device.map(S.nonNeg, [w.array], [])]));
}
