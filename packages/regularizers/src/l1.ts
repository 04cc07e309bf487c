import type { Tensor } from '@gradkit/tensor';
import { penaltyOp } from './penalty-op.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { nonNegative, optionsObject } from './validate.js';

/**
 * The L1 (lasso) penalty, to add to the loss:
 *
 * `lambda * sum_w sum_i |w_i|` over the selected parameters (biases and normalization
 * scales/shifts excluded by default, see {@link excludedByDefault}).
 *
 * Gradient: `lambda * sign(w)` with `sign(0) = 0` (PyTorch's `abs` backward). Keras:
 * `regularizers.L1(l1)` computes the same `l1 * sum(|w|)` per layer (Keras' default l1 = 0.01;
 * gradkit has no default lambda). Differentiable: one fused kernel and one reduction per parameter.
 * The gradient never makes a weight exactly 0; for exact zeros use {@link l1Proximal} or
 * {@link softThreshold}.
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param lambda the strength, a finite number >= 0.
 * @param options which parameters (`include`, `exclude`; see {@link SelectOptions}).
 * @returns a scalar tensor (a constant 0 when nothing is selected).
 * @throws {ValueError} for a negative or non-finite lambda (`l1Penalty: lambda must be ...`).
 * @see Tibshirani, "Regression Shrinkage and Selection via the Lasso", JRSS B 58(1), 1996.
 * @example
 * ```ts
 * const loss = mseLoss(model.forward(x), y).add(l1Penalty(model, 1e-4));
 * loss.backward();
 * ```
 */
export function l1Penalty(params: ParamSource, lambda: number, options: SelectOptions = {}): Tensor {
  const op = 'l1Penalty';
  const l1 = nonNegative(op, 'lambda', lambda);
  const chosen = select(op, params, optionsObject(op, options));
  return penaltyOp(
    op,
    chosen.map(([, param]) => ({ param, l1, l2: 0 })),
  );
}
