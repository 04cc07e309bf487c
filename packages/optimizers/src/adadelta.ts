import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { AdadeltaRuleHyperparams } from './scale-by-adadelta.js';
import { adadeltaRule } from './scale-by-adadelta.js';
import type { Convention } from './scale-by-adam.js';
import type { RuleState } from './update-rule.js';
import { bool, knownKeys, learningRate, nonNegative, oneOf, positive, unitInterval } from './validate.js';

/** Options of {@link adadelta} (defaults as `torch.optim.Adadelta`). */
export interface AdadeltaOptions {
  /** Learning rate, scaling the step (default 1.0; Keras 1e-3). */
  readonly lr?: number;
  /** Decay of the running averages, in [0, 1] (default 0.9; Keras 0.95). */
  readonly rho?: number;
  /** Added inside both square roots, > 0 (default 1e-6; Keras 1e-7). */
  readonly eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
  /** `'keras'` switches the defaults above to TF/Keras's Adadelta (same formula). Default `'pytorch'`. */
  readonly convention?: Convention;
}

/**
 * Adadelta's resolved hyperparameters.
 *
 * @interface
 */
export type AdadeltaHyperparams = AdadeltaRuleHyperparams & {
  /** Whose defaults were filled in: `'pytorch'` or `'keras'` (TF/Keras's Adadelta). */
  readonly convention: Convention;
};

/** @internal */
export const ADADELTA: OptimizerSpec<AdadeltaHyperparams> = {
  name: 'Adadelta',
  rule: adadeltaRule,
  resolve(o, op) {
    const options = o as AdadeltaOptions;
    knownKeys(op, options, ['lr', 'rho', 'eps', 'weightDecay', 'maximize', 'convention']);
    const convention = oneOf(op, 'convention', options.convention ?? 'pytorch', [
      'pytorch',
      'keras',
    ] as const);
    const keras = convention === 'keras';
    return {
      lr: learningRate(op, 'lr', options.lr ?? (keras ? 1e-3 : 1.0)),
      rho: unitInterval(op, 'rho', options.rho ?? (keras ? 0.95 : 0.9), true),
      eps: positive(op, 'eps', options.eps ?? (keras ? 1e-7 : 1e-6)),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      maximize: bool(op, 'maximize', options.maximize ?? false),
      convention,
    };
  },
};

/**
 * Adadelta, as PyTorch 1.13's `torch.optim.Adadelta`. For each parameter, with `g` the gradient
 * plus the L2 term `wd p`:
 *
 * ```
 * v = rho v + (1 - rho) g^2
 * d = sqrt(a + eps) / sqrt(v + eps) * g
 * a = rho a + (1 - rho) d^2
 * p = p - lr d
 * ```
 *
 * Defaults: lr 1.0, rho 0.9, eps 1e-6, weightDecay 0 (`convention: 'keras'`: lr 1e-3, rho 0.95,
 * eps 1e-7). Equals `chain(addDecayedWeights(wd), scaleByAdadelta(...), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `Adadelta`, the option and the value.
 * @see https://arxiv.org/abs/1212.5701 (Zeiler, ADADELTA: An Adaptive Learning Rate Method)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.Adadelta.html
 * @example
 * ```ts
 * const opt = adadelta(model);
 * ```
 */
export function adadelta(
  params: OptimizerParams<AdadeltaOptions>,
  options: AdadeltaOptions = {},
): Optimizer<AdadeltaHyperparams> {
  return new Optimizer(ADADELTA, params, options);
}

/**
 * Adadelta as a {@link GradientTransformation} (see {@link adadelta}); the learning rate may be a
 * schedule.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adadelta
 * @example
 * ```ts
 * const tx = adadeltaTransform({ lr: 1.0 });
 * ```
 */
export function adadeltaTransform(
  options: TransformOptions<AdadeltaOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(ADADELTA, options);
}
