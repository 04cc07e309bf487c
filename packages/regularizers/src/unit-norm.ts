import { assignAll } from './assign.js';
import type { NormAxisOptions } from './norm-axes.js';
import { checkAxisOption, sumOfSquares, unitAxes } from './norm-axes.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { S } from './specs.js';
import { optionsObject, positive } from './validate.js';

/** Options of {@link unitNorm}. */
export interface UnitNormOptions extends SelectOptions, NormAxisOptions {
  /** Added to the norm in the division, so an all-zero unit stays 0 (default 1e-7, Keras' epsilon). */
  readonly eps?: number;
}

/**
 * The unit-norm constraint, applied in place after an optimizer step:
 *
 * for each unit (see `axis`; default: each output row of a `[out, in]` weight),
 * `w_unit <- w_unit / (||w_unit||_2 + eps)`, so every unit has L2 norm 1 (just below, by eps).
 * Selected parameters only (biases and normalization scales/shifts excluded by default).
 *
 * Conventions: Keras' `UnitNorm(axis=0)` (same formula, epsilon 1e-7) normalizes the columns of
 * its `[in, out]` kernel: pass `axis: 0` for a kernel in that layout. The default here is per
 * output unit of an `[out, in]` weight.
 *
 * Runs under {@link @gradkit/tensor!noGrad} on the device: per parameter a square, a reduction and one fused
 * kernel; no read-back; every new value is computed before any parameter is written.
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param options `axis` (default every axis but the first), `eps` (default 1e-7), and which
 *   parameters (`include`, `exclude`).
 * @throws {ValueError} for `eps <= 0` or a non-integer axis.
 * @throws {ShapeError} for an axis out of range for a selected parameter.
 * @see https://keras.io/api/layers/constraints/
 * @example
 * ```ts
 * unitNorm(model); // every row of every weight has norm 1
 * ```
 */
export function unitNorm(params: ParamSource, options: UnitNormOptions = {}): void {
  const op = 'unitNorm';
  const opts = optionsObject(op, options);
  const eps = positive(op, 'eps', opts.eps ?? 1e-7);
  checkAxisOption(op, opts.axis);
  const chosen = select(op, params, opts);
  const axes = chosen.map(([name, w]) => unitAxes(op, name, w, opts.axis));
  assignAll(
    chosen.map(([, w], i) => [
      w,
      () => {
        const ss = sumOfSquares(w.array, axes[i]);
        try {
          return w.device.map(S.unitNorm, [w.array, ss], [eps]);
        } finally {
          ss.dispose();
        }
      },
    ]),
  );
}
