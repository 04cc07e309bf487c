import type { Tensor } from '@gradkit/tensor';
import { penaltyOp } from './penalty-op.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { nonNegative, optionsObject } from './validate.js';

function l2(op: string, params: ParamSource, coefficient: number, options: SelectOptions): Tensor {
  const chosen = select(op, params, optionsObject(op, options));
  return penaltyOp(
    op,
    chosen.map(([, param]) => ({ param, l1: 0, l2: coefficient })),
  );
}

/**
 * The L2 penalty in Keras' convention (`regularizers.L2(l2)`), to add to the loss:
 *
 * `lambda * sum_w sum_i w_i^2` over the selected parameters (biases and normalization
 * scales/shifts excluded by default, see {@link excludedByDefault}). Gradient: `2 lambda w`.
 *
 * Not PyTorch's `weight_decay`: that one adds `wd * w` to the gradient, the gradient of
 * {@link halfL2Penalty} with `lambda = wd` (equivalently of this penalty with `lambda = wd / 2`).
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param lambda the strength, a finite number >= 0 (Keras' default 0.01; gradkit has no default).
 * @param options which parameters (`include`, `exclude`; see {@link SelectOptions}).
 * @returns a scalar tensor (a constant 0 when nothing is selected).
 * @throws {ValueError} for a negative or non-finite lambda.
 * @see https://keras.io/api/layers/regularizers/
 * @example
 * ```ts
 * const loss = softmaxCrossEntropy(model.forward(x), labels).add(l2Penalty(model, 1e-4));
 * ```
 */
export function l2Penalty(params: ParamSource, lambda: number, options: SelectOptions = {}): Tensor {
  const op = 'l2Penalty';
  return l2(op, params, nonNegative(op, 'lambda', lambda), options);
}

/**
 * The L2 penalty with a half, whose gradient is PyTorch's `weight_decay` term, to add to the loss:
 *
 * `(lambda / 2) * sum_w sum_i w_i^2` over the selected parameters (biases and normalization
 * scales/shifts excluded by default). Gradient: `lambda w`, exactly what
 * `torch.optim.SGD(..., weight_decay=lambda)` (and Adam, RMSprop, Adagrad) add to the gradient,
 * so plain SGD on `loss + halfL2Penalty(model, wd)` takes PyTorch's steps. It is `l2Penalty` with
 * `lambda / 2`: Keras' `L2(l2)` equals `halfL2Penalty` with `lambda = 2 l2`.
 *
 * For AdamW-style decay that does not pass through the adaptive scaling, use
 * {@link decoupledWeightDecay} instead.
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param lambda the weight decay, a finite number >= 0.
 * @param options which parameters (`include`, `exclude`; see {@link SelectOptions}).
 * @returns a scalar tensor (a constant 0 when nothing is selected).
 * @throws {ValueError} for a negative or non-finite lambda.
 * @see https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
 * @example
 * ```ts
 * // same steps as torch.optim.SGD(params, lr, weight_decay=5e-4) on the weights
 * const loss = criterion(model.forward(x), y).add(halfL2Penalty(model, 5e-4));
 * ```
 */
export function halfL2Penalty(params: ParamSource, lambda: number, options: SelectOptions = {}): Tensor {
  const op = 'halfL2Penalty';
  return l2(op, params, nonNegative(op, 'lambda', lambda) / 2, options);
}
