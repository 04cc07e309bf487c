import type { GradientTransformation } from '@gradkit/tensor';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { AdamRuleHyperparams, Convention } from './scale-by-adam.js';
import { adamRule } from './scale-by-adam.js';
import type { RuleState } from './update-rule.js';
import { betaPair, bool, knownKeys, learningRate, nonNegative, oneOf, positive } from './validate.js';

/** Options of {@link adam} (PyTorch's names in camelCase; defaults as `torch.optim.Adam`). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  readonly lr?: number;
  /** `[beta1, beta2]`, decay rates of the moment averages, each in [0, 1) (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to the denominator, > 0 (default 1e-8; 1e-7 with `convention: 'keras'`). */
  readonly eps?: number;
  /** L2 penalty added to the gradient, `g + wd p` (default 0; for decoupled decay use {@link adamw}). */
  readonly weightDecay?: number;
  /** AMSGrad: normalize by the running maximum of the second moment (default false). */
  readonly amsgrad?: boolean;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
  /**
   * `'pytorch'` (default): `p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)`. `'keras'`: TF/Keras's
   * `p -= lr sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)` (epsilon before bias correction), with
   * Keras's default eps 1e-7.
   */
  readonly convention?: Convention;
}

/**
 * Adam's resolved hyperparameters (every option filled in).
 *
 * @interface
 */
export type AdamHyperparams = AdamRuleHyperparams;

const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'convention'];

/** Validates Adam-family options and fills in the defaults. @internal */
export function resolveAdamFamily(
  op: string,
  options: AdamOptions,
  defaults: { lr: number; weightDecay: number; kerasWeightDecay: number },
): AdamHyperparams {
  knownKeys(op, options, ADAM_KEYS);
  const convention = oneOf(op, 'convention', options.convention ?? 'pytorch', ['pytorch', 'keras'] as const);
  const keras = convention === 'keras';
  return {
    lr: learningRate(op, 'lr', options.lr ?? defaults.lr),
    betas: betaPair(op, options.betas ?? [0.9, 0.999]),
    eps: positive(op, 'eps', options.eps ?? (keras ? 1e-7 : 1e-8)),
    weightDecay: nonNegative(
      op,
      'weightDecay',
      options.weightDecay ?? (keras ? defaults.kerasWeightDecay : defaults.weightDecay),
    ),
    amsgrad: bool(op, 'amsgrad', options.amsgrad ?? false),
    maximize: bool(op, 'maximize', options.maximize ?? false),
    convention,
  };
}

/** @internal */
export const ADAM: OptimizerSpec<AdamHyperparams> = {
  name: 'Adam',
  rule: adamRule,
  resolve: (o, op) =>
    resolveAdamFamily(op, o as AdamOptions, { lr: 1e-3, weightDecay: 0, kerasWeightDecay: 0 }),
};

/**
 * Adam, as PyTorch 1.13's `torch.optim.Adam`. For each parameter, with `g` the gradient plus the
 * L2 term `wd p`:
 *
 * ```
 * m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2         (AMSGrad: vmax = max(vmax, v))
 * p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, amsgrad false. One fused kernel
 * per parameter on `wasm` and `cpu` (the moments and the parameter in one pass); on `gl`, one per
 * state tensor and one for the parameter. Equals
 * `chain(addDecayedWeights(wd), scaleByAdam(...), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `Adam`, the option and the value: lr < 0, betas outside [0, 1), eps <= 0, ...
 * @see https://arxiv.org/abs/1412.6980 (Kingma & Ba, Adam: A Method for Stochastic Optimization)
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.Adam.html
 * @example
 * ```ts
 * const opt = adam(model, { lr: 1e-3 });
 * loss.backward();
 * opt.step();
 * opt.zeroGrad();
 * ```
 */
export function adam(
  params: OptimizerParams<AdamOptions>,
  options: AdamOptions = {},
): Optimizer<AdamHyperparams> {
  return new Optimizer(ADAM, params, options);
}

/**
 * Adam as a {@link GradientTransformation} (`update` returns `-lr * ...`; add it with
 * `applyUpdates`), the learning rate a number or a schedule. Same options and formulas as
 * {@link adam}; state: `{ count, slots: { expAvg, expAvgSq }, scalars }`.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adam
 * @example
 * ```ts
 * const tx = chain(clipByGlobalNorm(1), adamTransform({ lr: (t) => 1e-3 * 0.99 ** t }));
 * ```
 */
export function adamTransform(
  options: TransformOptions<AdamOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(ADAM, options);
}
