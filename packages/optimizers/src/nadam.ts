import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { NadamRuleHyperparams } from './scale-by-nadam.js';
import { nadamRule } from './scale-by-nadam.js';
import type { RuleState } from './update-rule.js';
import { betaPair, bool, knownKeys, learningRate, nonNegative, positive } from './validate.js';

/** Options of {@link nadam} (defaults as `torch.optim.NAdam`). */
export interface NadamOptions {
  /** Learning rate (default 2e-3). */
  readonly lr?: number;
  /** `[beta1, beta2]`, each in [0, 1) (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to the denominator, > 0 (default 1e-8). */
  readonly eps?: number;
  /**
   * Weight decay (default 0): an L2 penalty `wd p` added to the gradient, or with
   * `decoupledWeightDecay` a decay of the parameter by `lr wd` (NAdamW).
   */
  readonly weightDecay?: number;
  /** `psi` of the momentum schedule, >= 0 (default 4e-3). */
  readonly momentumDecay?: number;
  /**
   * Decoupled weight decay, PyTorch 2.x's `decoupled_weight_decay` (NAdamW): `p = p (1 - lr wd)`
   * before the update instead of adding `wd p` to the gradient (default false).
   */
  readonly decoupledWeightDecay?: boolean;
  /**
   * Reproduce PyTorch 1.13 (and earlier): the coefficient of `m` is `lr mu_{t+1} / (1 - P_t mu_t
   * mu_{t+1})`, `mu_t` multiplied in twice since `P_t` already holds it. PyTorch 2.0 fixed this
   * (pytorch/pytorch#92699) to Dozat's `1 - P_t mu_{t+1}`, the default here. Default false.
   */
  readonly legacyMuProduct?: boolean;
  /** Ascend instead of descend (default false; PyTorch 1.13's NAdam has no such option, later 2.x's has). */
  readonly maximize?: boolean;
}

/**
 * NAdam's resolved hyperparameters.
 *
 * @interface
 */
export type NadamHyperparams = NadamRuleHyperparams;

/** @internal */
export const NADAM: OptimizerSpec<NadamHyperparams> = {
  name: 'NAdam',
  rule: nadamRule,
  resolve(o, op) {
    const options = o as NadamOptions;
    knownKeys(op, options, [
      'lr',
      'betas',
      'eps',
      'weightDecay',
      'momentumDecay',
      'decoupledWeightDecay',
      'legacyMuProduct',
      'maximize',
    ]);
    return {
      lr: learningRate(op, 'lr', options.lr ?? 2e-3),
      betas: betaPair(op, options.betas ?? [0.9, 0.999]),
      eps: positive(op, 'eps', options.eps ?? 1e-8),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      momentumDecay: nonNegative(op, 'momentumDecay', options.momentumDecay ?? 4e-3),
      decoupledWeightDecay: bool(op, 'decoupledWeightDecay', options.decoupledWeightDecay ?? false),
      legacyMuProduct: bool(op, 'legacyMuProduct', options.legacyMuProduct ?? false),
      maximize: bool(op, 'maximize', options.maximize ?? false),
    };
  },
};

/**
 * NAdam, as PyTorch 2.x's `torch.optim.NAdam` (its single-tensor algorithm, which PyTorch runs on
 * the CPU). For each parameter, with `g` the gradient plus the L2 term `wd p`:
 *
 * ```
 * mu_t = b1 (1 - 0.5 * 0.96^(t psi))        P_t = mu_1 ... mu_t      (muProduct, float32)
 * m = b1 m + (1 - b1) g                     v = b2 v + (1 - b2) g^2
 * d = sqrt(v / (1 - b2^t)) + eps
 * p = p - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / d
 * ```
 *
 * `decoupledWeightDecay: true` (PyTorch 2.x's NAdamW) leaves `wd p` out of `g` and decays the
 * parameter instead, `p = p (1 - lr wd)`, before the update.
 *
 * `legacyMuProduct: true` reproduces PyTorch 1.13 (pytorch/pytorch#92699 changed it in 2.0):
 * the last denominator is `1 - P_t mu_t mu_{t+1}`, with `mu_t` multiplied in twice, so the
 * momentum term is smaller than Dozat's (by about 0.1% of the step at the defaults, more with a
 * larger `momentumDecay`). Choose it to continue a run, or match numbers, from PyTorch 1.13.
 *
 * Defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, momentumDecay 4e-3,
 * decoupledWeightDecay false, legacyMuProduct false, maximize false. Equals
 * `chain(addDecayedWeights(wd), scaleByNadam(...), scaleByLearningRate(lr))` (with
 * `decoupledWeightDecay`: `chain(scaleByNadam(...), addDecayedWeights(wd), scaleByLearningRate(lr))`).
 *
 * @throws {ValueError} naming `NAdam`, the option and the value.
 * @see https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ (Dozat, Incorporating Nesterov Momentum into Adam)
 * @see https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html
 * @see https://github.com/pytorch/pytorch/pull/92699 (the momentum-product fix of PyTorch 2.0)
 * @example
 * ```ts
 * const opt = nadam(model, { lr: 2e-3 });
 * const asTorch113 = nadam(model, { lr: 2e-3, legacyMuProduct: true });
 * const nadamw = nadam(model, { lr: 2e-3, weightDecay: 0.01, decoupledWeightDecay: true });
 * ```
 */
export function nadam(
  params: OptimizerParams<NadamOptions>,
  options: NadamOptions = {},
): Optimizer<NadamHyperparams> {
  return new Optimizer(NADAM, params, options);
}

/**
 * NAdam as a {@link GradientTransformation} (see {@link nadam}); the learning rate may be a schedule.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.nadam
 * @example
 * ```ts
 * const tx = nadamTransform({ lr: 2e-3 });
 * ```
 */
export function nadamTransform(
  options: TransformOptions<NadamOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(NADAM, options);
}
