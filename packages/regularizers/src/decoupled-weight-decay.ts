import type { GradientTransformation, Schedule } from '@gradkit/tensor';
import type { SelectOptions } from './select.js';
import { selector } from './select.js';
import { S } from './specs.js';
import type { StepState } from './transform-util.js';
import { countOf, mapWithParams } from './transform-util.js';
import { nonNegative, optionsObject, rate, rateAt } from './validate.js';

/** Options of {@link decoupledWeightDecay}. */
export interface DecoupledWeightDecayOptions extends SelectOptions {
  /**
   * The learning rate the decay is multiplied by: the optimizer's own learning rate (the same
   * number or {@link Schedule}) to match PyTorch's AdamW. Required; pass `1` to give the decay
   * per step directly as `weightDecay`.
   */
  readonly learningRate: number | Schedule;
}

/**
 * Decoupled weight decay (AdamW, Loshchilov & Hutter) as a gradient transformation that goes
 * LAST in a chain, after the optimizer's learning-rate scaling:
 *
 * `u <- u - lr_t * wd * w` for the selected parameters (biases and normalization scales/shifts
 * excluded by default), `u` unchanged for the others. `lr_t = learningRate(t)` for a schedule
 * (t = 0 at the first update), or the number.
 *
 * With `u = -lr_t * adam_t` from the optimizer, applying `w + u` gives
 * `w - lr_t * adam_t - lr_t * wd * w`, exactly PyTorch's `torch.optim.AdamW` step
 * (`p -= lr * wd * p`, then `p -= lr * adam`; both read the same `p`). After plain SGD
 * (`u = -lr g`) it is `w (1 - lr wd) - lr g`. The decay does not pass through the adaptive
 * scaling, which is the difference from L2 in the loss (see {@link halfL2Penalty}).
 *
 * Conventions: PyTorch multiplies the decay by the learning rate (`lr * wd`, AdamW's default
 * `weight_decay = 0.01`); the paper multiplies it by the schedule multiplier `eta_t` only: pass
 * `learningRate: eta` (a Schedule, or 1) for that. optax's `add_decayed_weights(wd)` adds
 * `+wd w` BEFORE the `-lr` scaling, which is the same step.
 *
 * One fused kernel per decayed parameter (`u + k w`), no read-back. `update` needs `params`.
 *
 * @param weightDecay the decay `wd`, a finite number >= 0.
 * @param options `learningRate` (required) and which parameters (`include`, `exclude`).
 * @returns a transformation whose state is `{ count }` (updates done).
 * @throws {ValueError} for a negative or non-finite weightDecay or learningRate (or a schedule
 *   value), a missing learningRate, or `update` called without params.
 * @see Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, https://arxiv.org/abs/1711.05101
 * @see https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
 * @example
 * ```ts
 * // AdamW(lr = 1e-3, weight_decay = 1e-2), with biases not decayed
 * const opt = chain(scaleByAdam(), scale(-1e-3), decoupledWeightDecay(1e-2, { learningRate: 1e-3 }));
 * ```
 */
export function decoupledWeightDecay(
  weightDecay: number,
  options: DecoupledWeightDecayOptions,
): GradientTransformation<StepState> {
  const op = 'decoupledWeightDecay';
  const wd = nonNegative(op, 'weightDecay', weightDecay);
  const opts = optionsObject(op, options);
  const lr = rate(op, 'learningRate', opts.learningRate);
  const pick = selector(op, opts);
  return {
    init: () => ({ count: 0 }),
    update(updates, state, params) {
      const count = countOf(op, state);
      const k = -rateAt(op, 'learningRate', lr, count) * wd;
      return [mapWithParams(op, updates, params, pick, S.addScaled, k), { count: count + 1 }];
    },
  };
}
