import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { Convention } from './scale-by-adam.js';
import type { RmspropRuleHyperparams } from './scale-by-rms.js';
import { rmspropRule } from './scale-by-rms.js';
import type { RuleState } from './update-rule.js';
import { bool, knownKeys, learningRate, nonNegative, oneOf, positive, unitInterval } from './validate.js';

/** Options of {@link rmsprop} (defaults as `torch.optim.RMSprop`). */
export interface RmspropOptions {
  /** Learning rate (default 1e-2; Keras 1e-3). */
  readonly lr?: number;
  /** Decay of the squared-gradient average, in [0, 1) (default 0.99; Keras's `rho` 0.9). */
  readonly alpha?: number;
  /** Added to the denominator, > 0 (default 1e-8; Keras 1e-7). */
  readonly eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Momentum factor, >= 0 (default 0). */
  readonly momentum?: number;
  /** Normalize by the estimated variance `v - a^2` (default false). */
  readonly centered?: boolean;
  /** `g / sqrt(v + eps)` (Keras) instead of `g / (sqrt(v) + eps)` (PyTorch). Default false; Keras true. */
  readonly epsInsideSqrt?: boolean;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
  /** `'keras'` switches the defaults above to TF/Keras's RMSprop (explicit options still win). Default `'pytorch'`. */
  readonly convention?: Convention;
}

/**
 * RMSProp's resolved hyperparameters.
 *
 * @interface
 */
export type RmspropHyperparams = RmspropRuleHyperparams & {
  /** Whose defaults were filled in: `'pytorch'` or `'keras'` (TF/Keras's RMSprop). */
  readonly convention: Convention;
};

/** @internal */
export const RMSPROP: OptimizerSpec<RmspropHyperparams> = {
  name: 'RMSprop',
  rule: rmspropRule,
  resolve(o, op) {
    const options = o as RmspropOptions;
    knownKeys(op, options, [
      'lr',
      'alpha',
      'eps',
      'weightDecay',
      'momentum',
      'centered',
      'epsInsideSqrt',
      'maximize',
      'convention',
    ]);
    const convention = oneOf(op, 'convention', options.convention ?? 'pytorch', [
      'pytorch',
      'keras',
    ] as const);
    const keras = convention === 'keras';
    return {
      lr: learningRate(op, 'lr', options.lr ?? (keras ? 1e-3 : 1e-2)),
      alpha: unitInterval(op, 'alpha', options.alpha ?? (keras ? 0.9 : 0.99)),
      eps: positive(op, 'eps', options.eps ?? (keras ? 1e-7 : 1e-8)),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      momentum: nonNegative(op, 'momentum', options.momentum ?? 0),
      centered: bool(op, 'centered', options.centered ?? false),
      epsInsideSqrt: bool(op, 'epsInsideSqrt', options.epsInsideSqrt ?? keras),
      maximize: bool(op, 'maximize', options.maximize ?? false),
      convention,
    };
  },
};

/**
 * RMSProp, as PyTorch 1.13's `torch.optim.RMSprop`. For each parameter, with `g` the gradient plus
 * the L2 term `wd p`:
 *
 * ```
 * v = alpha v + (1 - alpha) g^2
 * a = alpha a + (1 - alpha) g                   (centered)
 * d = sqrt(v) + eps  or  sqrt(v - a^2) + eps    (Keras: sqrt(v + eps), sqrt(v - a^2 + eps))
 * buf = momentum buf + g / d;  p = p - lr buf   (momentum > 0)
 * p = p - lr g / d                              (momentum = 0)
 * ```
 *
 * Defaults: lr 1e-2, alpha 0.99, eps 1e-8, weightDecay 0, momentum 0, centered false.
 * `convention: 'keras'`: lr 1e-3, alpha (Keras's rho) 0.9, eps 1e-7 inside the square root.
 * Equals `chain(addDecayedWeights(wd), scaleByRms(...), trace({ decay: momentum }), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `RMSprop`, the option and the value.
 * @see https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf (Hinton, Lecture 6e)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.RMSprop.html
 * @example
 * ```ts
 * const opt = rmsprop(model, { lr: 1e-3, momentum: 0.9, centered: true });
 * ```
 */
export function rmsprop(
  params: OptimizerParams<RmspropOptions>,
  options: RmspropOptions = {},
): Optimizer<RmspropHyperparams> {
  return new Optimizer(RMSPROP, params, options);
}

/**
 * RMSProp as a {@link GradientTransformation} (see {@link rmsprop}); the learning rate may be a
 * schedule. With momentum, the buffer accumulates `g / d` and the current learning rate scales it,
 * as in PyTorch.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.rmsprop
 * @example
 * ```ts
 * const tx = rmspropTransform({ lr: 1e-3, centered: true });
 * ```
 */
export function rmspropTransform(
  options: TransformOptions<RmspropOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(RMSPROP, options);
}
