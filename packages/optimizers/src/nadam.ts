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
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** `psi` of the momentum schedule, >= 0 (default 4e-3). */
  readonly momentumDecay?: number;
  /**
   * PyTorch 1.13 computes the coefficient of `m` with `1 - P_t mu_t mu_{t+1}`, multiplying `mu_t`
   * in twice (fixed in PyTorch 2.0, pytorch/pytorch#92699). true uses Dozat's `1 - P_t mu_{t+1}`,
   * as PyTorch >= 2.0 does. Default false (PyTorch 1.13).
   */
  readonly fixMuProduct?: boolean;
  /** Ascend instead of descend (default false; PyTorch 1.13's NAdam has no such option). */
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
      'fixMuProduct',
      'maximize',
    ]);
    return {
      lr: learningRate(op, 'lr', options.lr ?? 2e-3),
      betas: betaPair(op, options.betas ?? [0.9, 0.999]),
      eps: positive(op, 'eps', options.eps ?? 1e-8),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      momentumDecay: nonNegative(op, 'momentumDecay', options.momentumDecay ?? 4e-3),
      fixMuProduct: bool(op, 'fixMuProduct', options.fixMuProduct ?? false),
      maximize: bool(op, 'maximize', options.maximize ?? false),
    };
  },
};

/**
 * NAdam, as PyTorch 1.13's `torch.optim.NAdam`. For each parameter, with `g` the gradient plus the
 * L2 term `wd p`:
 *
 * ```
 * mu_t = b1 (1 - 0.5 * 0.96^(t psi))        P_t = mu_1 ... mu_t      (muProduct)
 * m = b1 m + (1 - b1) g                     v = b2 v + (1 - b2) g^2
 * d = sqrt(v / (1 - b2^t)) + eps
 * p = p - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_{t+1} / (1 - P_t mu_t mu_{t+1}) * m / d
 * ```
 *
 * The `mu_t` in the last denominator is PyTorch 1.13's (a bug fixed in PyTorch 2.0); Dozat's
 * formula, `1 - P_t mu_{t+1}`, is `fixMuProduct: true`.
 *
 * Defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, momentumDecay 4e-3. Equals
 * `chain(addDecayedWeights(wd), scaleByNadam(...), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `NAdam`, the option and the value.
 * @see https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ (Dozat, Incorporating Nesterov Momentum into Adam)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.NAdam.html
 * @example
 * ```ts
 * const opt = nadam(model, { lr: 2e-3 });
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
