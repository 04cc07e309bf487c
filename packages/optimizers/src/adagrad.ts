import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { AdagradRuleHyperparams } from './scale-by-adagrad.js';
import { adagradRule } from './scale-by-adagrad.js';
import type { Convention } from './scale-by-adam.js';
import type { RuleState } from './update-rule.js';
import { bool, knownKeys, learningRate, nonNegative, oneOf, positive } from './validate.js';

/** Options of {@link adagrad} (defaults as `torch.optim.Adagrad`). */
export interface AdagradOptions {
  /** Learning rate (default 1e-2; Keras 1e-3). */
  readonly lr?: number;
  /** Learning-rate decay: `lr_t = lr / (1 + (t - 1) lrDecay)` (default 0). */
  readonly lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Initial value of the sum of squares (default 0; Keras 0.1). */
  readonly initialAccumulatorValue?: number;
  /** Added to the denominator, > 0 (default 1e-10; Keras 1e-7). */
  readonly eps?: number;
  /** `g / sqrt(s + eps)` (Keras) instead of `g / (sqrt(s) + eps)` (PyTorch). Default false; Keras true. */
  readonly epsInsideSqrt?: boolean;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
  /** `'keras'` switches the defaults above to TF/Keras's Adagrad (explicit options still win). Default `'pytorch'`. */
  readonly convention?: Convention;
}

/**
 * AdaGrad's resolved hyperparameters.
 *
 * @interface
 */
export type AdagradHyperparams = AdagradRuleHyperparams & {
  /** Whose defaults were filled in: `'pytorch'` or `'keras'` (TF/Keras's AdaGrad). */
  readonly convention: Convention;
};

/** @internal */
export const ADAGRAD: OptimizerSpec<AdagradHyperparams> = {
  name: 'Adagrad',
  rule: adagradRule,
  resolve(o, op) {
    const options = o as AdagradOptions;
    knownKeys(op, options, [
      'lr',
      'lrDecay',
      'weightDecay',
      'initialAccumulatorValue',
      'eps',
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
      lrDecay: nonNegative(op, 'lrDecay', options.lrDecay ?? 0),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      initialAccumulatorValue: nonNegative(
        op,
        'initialAccumulatorValue',
        options.initialAccumulatorValue ?? (keras ? 0.1 : 0),
      ),
      eps: positive(op, 'eps', options.eps ?? (keras ? 1e-7 : 1e-10)),
      epsInsideSqrt: bool(op, 'epsInsideSqrt', options.epsInsideSqrt ?? keras),
      maximize: bool(op, 'maximize', options.maximize ?? false),
      convention,
    };
  },
};

/**
 * AdaGrad, as PyTorch 1.13's `torch.optim.Adagrad`. For each parameter, with `g` the gradient plus
 * the L2 term `wd p`:
 *
 * ```
 * s = s + g^2                                   (s starts at initialAccumulatorValue)
 * p = p - lr / (1 + (t - 1) lrDecay) * g / (sqrt(s) + eps)      (Keras: g / sqrt(s + eps))
 * ```
 *
 * Defaults: lr 1e-2, lrDecay 0, weightDecay 0, initialAccumulatorValue 0, eps 1e-10.
 * `convention: 'keras'`: lr 1e-3, initialAccumulatorValue 0.1, eps 1e-7 inside the square root.
 * Equals `chain(addDecayedWeights(wd), scaleByAdagrad(...), scaleByLearningRate((t) => lr / (1 + t lrDecay)))`.
 *
 * @throws {ValueError} naming `Adagrad`, the option and the value.
 * @see https://jmlr.org/papers/v12/duchi11a.html (Duchi et al., Adaptive Subgradient Methods)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.Adagrad.html
 * @example
 * ```ts
 * const opt = adagrad(model, { lr: 0.05, lrDecay: 1e-4 });
 * ```
 */
export function adagrad(
  params: OptimizerParams<AdagradOptions>,
  options: AdagradOptions = {},
): Optimizer<AdagradHyperparams> {
  return new Optimizer(ADAGRAD, params, options);
}

/**
 * AdaGrad as a {@link GradientTransformation} (see {@link adagrad}); the learning rate may be a
 * schedule (then `lrDecay` still applies on top).
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adagrad
 * @example
 * ```ts
 * const tx = adagradTransform({ lr: 0.01 });
 * ```
 */
export function adagradTransform(
  options: TransformOptions<AdagradOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(ADAGRAD, options);
}
