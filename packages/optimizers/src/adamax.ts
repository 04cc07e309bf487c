import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { AdamaxRuleHyperparams } from './scale-by-adamax.js';
import { adamaxRule } from './scale-by-adamax.js';
import type { RuleState } from './update-rule.js';
import { betaPair, bool, knownKeys, learningRate, nonNegative, positive } from './validate.js';

/** Options of {@link adamax} (defaults as `torch.optim.Adamax`). */
export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  readonly lr?: number;
  /** `[beta1, beta2]`, each in [0, 1) (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to `|g|`, > 0 (default 1e-8). */
  readonly eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
}

/**
 * Adamax's resolved hyperparameters.
 *
 * @interface
 */
export type AdamaxHyperparams = AdamaxRuleHyperparams;

/** @internal */
export const ADAMAX: OptimizerSpec<AdamaxHyperparams> = {
  name: 'Adamax',
  rule: adamaxRule,
  resolve(o, op) {
    const options = o as AdamaxOptions;
    knownKeys(op, options, ['lr', 'betas', 'eps', 'weightDecay', 'maximize']);
    return {
      lr: learningRate(op, 'lr', options.lr ?? 2e-3),
      betas: betaPair(op, options.betas ?? [0.9, 0.999]),
      eps: positive(op, 'eps', options.eps ?? 1e-8),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      maximize: bool(op, 'maximize', options.maximize ?? false),
    };
  },
};

/**
 * Adamax, as PyTorch 1.13's `torch.optim.Adamax`. For each parameter, with `g` the gradient plus
 * the L2 term `wd p`:
 *
 * ```
 * m = b1 m + (1 - b1) g
 * u = max(b2 u, |g| + eps)
 * p = p - lr / (1 - b1^t) * m / u
 * ```
 *
 * Defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0. Equals
 * `chain(addDecayedWeights(wd), scaleByAdamax(...), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `Adamax`, the option and the value.
 * @see https://arxiv.org/abs/1412.6980 (Kingma & Ba, section 7.1)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.Adamax.html
 * @example
 * ```ts
 * const opt = adamax(model, { lr: 2e-3 });
 * ```
 */
export function adamax(
  params: OptimizerParams<AdamaxOptions>,
  options: AdamaxOptions = {},
): Optimizer<AdamaxHyperparams> {
  return new Optimizer(ADAMAX, params, options);
}

/**
 * Adamax as a {@link GradientTransformation} (see {@link adamax}); the learning rate may be a schedule.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adamax
 * @example
 * ```ts
 * const tx = adamaxTransform({ lr: 2e-3 });
 * ```
 */
export function adamaxTransform(
  options: TransformOptions<AdamaxOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(ADAMAX, options);
}
