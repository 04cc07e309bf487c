import type { GradientTransformation } from '@gradkit/tensor';
import type { AdamHyperparams, AdamOptions } from './adam.js';
import { resolveAdamFamily } from './adam.js';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import { makeAdamRule } from './scale-by-adam.js';
import type { RuleState } from './update-rule.js';

/**
 * Options of {@link adamw}: those of Adam, with `weightDecay` the decoupled decay coefficient
 * (default 1e-2; 4e-3 with `convention: 'keras'`).
 */
export type AdamWOptions = AdamOptions;

/** @internal */
export const ADAMW: OptimizerSpec<AdamHyperparams> = {
  name: 'AdamW',
  rule: makeAdamRule('AdamW', true),
  resolve: (o, op) =>
    resolveAdamFamily(op, o as AdamOptions, { lr: 1e-3, weightDecay: 1e-2, kerasWeightDecay: 4e-3 }),
};

/**
 * AdamW, as PyTorch 1.13's `torch.optim.AdamW`: Adam with decoupled weight decay. For each
 * parameter:
 *
 * ```
 * p = p (1 - lr wd)
 * m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2         (AMSGrad: vmax = max(vmax, v))
 * p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2, amsgrad false. Equals
 * `chain(scaleByAdam(...), addDecayedWeights(wd), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `AdamW`, the option and the value.
 * @see https://arxiv.org/abs/1711.05101 (Loshchilov & Hutter, Decoupled Weight Decay Regularization)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.AdamW.html
 * @example
 * ```ts
 * const opt = adamw(model, { lr: 1e-3, weightDecay: 0.05 });
 * ```
 */
export function adamw(
  params: OptimizerParams<AdamWOptions>,
  options: AdamWOptions = {},
): Optimizer<AdamHyperparams> {
  return new Optimizer(ADAMW, params, options);
}

/**
 * AdamW as a {@link GradientTransformation} (see {@link adamw}); the learning rate may be a
 * schedule.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adamw
 * @example
 * ```ts
 * const tx = adamwTransform({ lr: 1e-3, weightDecay: 0.01 });
 * ```
 */
export function adamwTransform(
  options: TransformOptions<AdamWOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(ADAMW, options);
}
