import { assignAll } from './assign.js';
import type { NormAxisOptions } from './norm-axes.js';
import { checkAxisOption, sumOfSquares, unitAxes } from './norm-axes.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { S } from './specs.js';
import { optionsObject, positive } from './validate.js';

/** Options of {@link maxNorm}. */
export interface MaxNormOptions extends SelectOptions, NormAxisOptions {
  /** Added to the norm in the rescaling `c / (n + eps)`, so the new norm is just below c (default 1e-7, as `torch.renorm` and Keras). */
  readonly eps?: number;
}

/**
 * The max-norm constraint, applied in place after an optimizer step:
 *
 * for each unit (see `axis`; default: each output row of a `[out, in]` weight) with L2 norm
 * `n = ||w_unit||_2 > c`, `w_unit <- w_unit * c / (n + eps)`; units with `n <= c` are unchanged.
 * Afterwards every unit's norm is at most c (up to float32 rounding). Selected parameters only
 * (biases and normalization scales/shifts excluded by default).
 *
 * Conventions: the default (per output unit of gradkit's and PyTorch's `[out, in]` weights) is
 * Srivastava et al.'s "incoming weight vector of each hidden unit", computed as
 * `torch.renorm(w, p=2, dim=0, maxnorm=c)`. Keras' `MaxNorm(max_value, axis=0)` constrains the
 * columns of its `[in, out]` kernel: pass `axis: 0` for a kernel in that layout. Keras rescales
 * every unit by `min(n, c) / (n + eps)` (units under c shrink by a factor `n / (n + 1e-7)`: a
 * relative change of `1e-7 / n`, below float32 resolution for n >= 2, 1e-6 at n = 0.1); gradkit
 * leaves them untouched, as `torch.renorm` does.
 *
 * Runs under {@link @gradkit/tensor!noGrad} on the device: per parameter a square, a reduction and one fused
 * rescaling kernel; no read-back; every new value is computed before any parameter is written.
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param maxValue the bound c, a finite number > 0 (Keras' default 2; Srivastava et al. used 3 to 4).
 * @param options `axis` (default every axis but the first), `eps` (default 1e-7), and which
 *   parameters (`include`, `exclude`).
 * @throws {ValueError} for `maxValue <= 0` (or not finite), `eps <= 0`, a non-integer axis.
 * @throws {ShapeError} for an axis out of range for a selected parameter.
 * @see Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov, "Dropout: A Simple Way to Prevent
 *   Neural Networks from Overfitting", JMLR 15, 2014, section 5.1.
 * @see https://keras.io/api/layers/constraints/
 * @example
 * ```ts
 * optimizerStep(model);
 * maxNorm(model, 3); // every row of every weight has L2 norm <= 3
 * maxNorm({ kernel }, 2, { axis: 0 }); // Keras layout [in, out]: columns
 * ```
 */
export function maxNorm(params: ParamSource, maxValue: number, options: MaxNormOptions = {}): void {
  const op = 'maxNorm';
  const c = positive(op, 'maxValue', maxValue);
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
          return w.device.map(S.maxNorm, [w.array, ss], [c, eps]);
        } finally {
          ss.dispose();
        }
      },
    ]),
  );
}
