import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { LionRuleHyperparams } from './scale-by-lion.js';
import { lionRule } from './scale-by-lion.js';
import type { RuleState } from './update-rule.js';
import { betaPair, bool, knownKeys, learningRate, nonNegative } from './validate.js';

/** Options of {@link lion} (defaults as the paper's reference implementation). */
export interface LionOptions {
  /** Learning rate (default 1e-4: Lion wants 3-10x less than AdamW). */
  readonly lr?: number;
  /** `[beta1, beta2]`, each in [0, 1) (default `[0.9, 0.99]`). */
  readonly betas?: readonly [number, number];
  /** Decoupled weight decay (default 0; use 3-10x AdamW's). */
  readonly weightDecay?: number;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
}

/**
 * Lion's resolved hyperparameters.
 *
 * @interface
 */
export type LionHyperparams = LionRuleHyperparams;

/** @internal */
export const LION: OptimizerSpec<LionHyperparams> = {
  name: 'Lion',
  rule: lionRule,
  resolve(o, op) {
    const options = o as LionOptions;
    knownKeys(op, options, ['lr', 'betas', 'weightDecay', 'maximize']);
    return {
      lr: learningRate(op, 'lr', options.lr ?? 1e-4),
      betas: betaPair(op, options.betas ?? [0.9, 0.99]),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      maximize: bool(op, 'maximize', options.maximize ?? false),
    };
  },
};

/**
 * Lion (EvoLved Sign Momentum). PyTorch 1.13 has no Lion; this follows the paper's Algorithm 2 and
 * its reference implementation (google/automl `lion_pytorch.py`). For each parameter:
 *
 * ```
 * p = p (1 - lr wd)
 * p = p - lr sign(b1 m + (1 - b1) g)
 * m = b2 m + (1 - b2) g
 * ```
 *
 * Defaults: lr 1e-4, betas [0.9, 0.99], weightDecay 0. Two kernels per parameter. Equals
 * `chain(scaleByLion(...), addDecayedWeights(wd), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `Lion`, the option and the value.
 * @see https://arxiv.org/abs/2302.06675 (Chen et al., Symbolic Discovery of Optimization Algorithms)
 * @see https://github.com/google/automl/blob/master/lion/lion_pytorch.py
 * @example
 * ```ts
 * const opt = lion(model, { lr: 3e-4, weightDecay: 0.1 });
 * ```
 */
export function lion(
  params: OptimizerParams<LionOptions>,
  options: LionOptions = {},
): Optimizer<LionHyperparams> {
  return new Optimizer(LION, params, options);
}

/**
 * Lion as a {@link GradientTransformation} (see {@link lion}); the learning rate may be a schedule.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lion
 * @example
 * ```ts
 * const tx = lionTransform({ lr: 1e-4 });
 * ```
 */
export function lionTransform(
  options: TransformOptions<LionOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(LION, options);
}
