import type { Tensor } from '@gradkit/tensor';
import { penaltyOp } from './penalty-op.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { nonNegative, optionsObject } from './validate.js';

/** The strengths of {@link l1l2Penalty}. */
export interface L1L2Strengths {
  /** Coefficient of `sum |w|` (default 0). */
  readonly l1?: number;
  /** Coefficient of `sum w^2` (default 0; Keras' convention, no half). */
  readonly l2?: number;
}

/**
 * The elastic-net penalty in Keras' convention (`regularizers.L1L2(l1, l2)`), to add to the loss:
 *
 * `l1 * sum |w| + l2 * sum w^2` over the selected parameters (biases and normalization
 * scales/shifts excluded by default). Gradient: `l1 sign(w) + 2 l2 w`, sign(0) = 0. One fused
 * kernel per parameter for both terms.
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param strengths `{ l1, l2 }`, each a finite number >= 0, default 0 (as Keras' `L1L2` class).
 * @param options which parameters (`include`, `exclude`; see {@link SelectOptions}).
 * @returns a scalar tensor (a constant 0 when nothing is selected or both strengths are 0).
 * @throws {ValueError} for a negative or non-finite strength.
 * @see Zou & Hastie, "Regularization and variable selection via the elastic net", JRSS B 67(2), 2005.
 * @example
 * ```ts
 * const loss = mseLoss(model.forward(x), y).add(l1l2Penalty(model, { l1: 1e-5, l2: 1e-4 }));
 * ```
 */
export function l1l2Penalty(
  params: ParamSource,
  strengths: L1L2Strengths,
  options: SelectOptions = {},
): Tensor {
  const op = 'l1l2Penalty';
  const s = optionsObject(op, strengths, 'strengths');
  const l1 = nonNegative(op, 'l1', s.l1 ?? 0);
  const l2 = nonNegative(op, 'l2', s.l2 ?? 0);
  const chosen = select(op, params, optionsObject(op, options));
  return penaltyOp(
    op,
    chosen.map(([, param]) => ({ param, l1, l2 })),
  );
}
