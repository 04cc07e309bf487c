import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { RadamRuleHyperparams } from './scale-by-radam.js';
import { radamRule } from './scale-by-radam.js';
import type { RuleState } from './update-rule.js';
import { betaPair, bool, knownKeys, learningRate, nonNegative, positive } from './validate.js';

/** Options of {@link radam} (defaults as `torch.optim.RAdam`). */
export interface RadamOptions {
  /** Learning rate (default 1e-3). */
  readonly lr?: number;
  /** `[beta1, beta2]`, each in [0, 1) (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to the denominator, > 0 (default 1e-8). */
  readonly eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Ascend instead of descend (default false; PyTorch 1.13's RAdam has no such option). */
  readonly maximize?: boolean;
}

/**
 * RAdam's resolved hyperparameters.
 *
 * @interface
 */
export type RadamHyperparams = RadamRuleHyperparams;

/** @internal */
export const RADAM: OptimizerSpec<RadamHyperparams> = {
  name: 'RAdam',
  rule: radamRule,
  resolve(o, op) {
    const options = o as RadamOptions;
    knownKeys(op, options, ['lr', 'betas', 'eps', 'weightDecay', 'maximize']);
    return {
      lr: learningRate(op, 'lr', options.lr ?? 1e-3),
      betas: betaPair(op, options.betas ?? [0.9, 0.999]),
      eps: positive(op, 'eps', options.eps ?? 1e-8),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      maximize: bool(op, 'maximize', options.maximize ?? false),
    };
  },
};

/**
 * RAdam (rectified Adam), as PyTorch 1.13's `torch.optim.RAdam`. For each parameter, with `g` the
 * gradient plus the L2 term `wd p`:
 *
 * ```
 * m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2          m̂ = m / (1 - b1^t)
 * rho_inf = 2 / (1 - b2) - 1       rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
 * rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
 *             p = p - lr m̂ r sqrt(1 - b2^t) / (sqrt(v) + eps)
 * otherwise:  p = p - lr m̂
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0. Equals
 * `chain(addDecayedWeights(wd), scaleByRadam(...), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `RAdam`, the option and the value.
 * @see https://arxiv.org/abs/1908.03265 (Liu et al., On the Variance of the Adaptive Learning Rate and Beyond)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.RAdam.html
 * @example
 * ```ts
 * const opt = radam(model, { lr: 1e-3 });
 * ```
 */
export function radam(
  params: OptimizerParams<RadamOptions>,
  options: RadamOptions = {},
): Optimizer<RadamHyperparams> {
  return new Optimizer(RADAM, params, options);
}

/**
 * RAdam as a {@link GradientTransformation} (see {@link radam}); the learning rate may be a schedule.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.radam
 * @example
 * ```ts
 * const tx = radamTransform({ lr: 1e-3 });
 * ```
 */
export function radamTransform(
  options: TransformOptions<RadamOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(RADAM, options);
}
