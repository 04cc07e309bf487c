import type { GradientTransformation } from '@gradkit/tensor';
import { full } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { bool, knownKeys, nonNegative, positive } from './validate.js';

/**
 * Hyperparameters of AdaGrad's rule: {@link adagrad}'s options with every default filled in.
 *
 * @internal
 */
export interface AdagradRuleHyperparams extends RuleHyperparams {
  /** Learning-rate decay: `lr_t = lr / (1 + (t - 1) lrDecay)`. */
  readonly lrDecay: number;
  /** Initial value of the sum of squared gradients. */
  readonly initialAccumulatorValue: number;
  /** Added to the denominator (inside the square root when `epsInsideSqrt`). */
  readonly eps: number;
  /** `g / sqrt(s + eps)` (Keras) instead of `g / (sqrt(s) + eps)` (PyTorch). */
  readonly epsInsideSqrt: boolean;
}

/** The denominator `sqrt(s) + eps`, or `sqrt(s + eps)` with `epsInsideSqrt`, as kernel code. @internal */
export const rootPlusEps = (s: string, inside: boolean): string =>
  inside ? `Math.sqrt(${s} + $eps)` : `(Math.sqrt(${s}) + $eps)`;

/** AdaGrad's rule: the `sum` kernel, then the output. @internal */
export const adagradRule: UpdateRule<AdagradRuleHyperparams> = {
  name: 'Adagrad',
  slots: () => ['sum'],
  initSlot: (_slot, p, hp) => full(p.shape, hp.initialAccumulatorValue, { device: p.device }),
  step(ctx: RuleContext, hp: AdagradRuleHyperparams): RuleResult {
    const G = gradExpr(hp);
    const gi = gradInputs(ctx, hp);
    const sum = pending('adagrad.sum', `$s + ${G} * ${G}`, { ...gi.inputs, s: ctx.slots.sum }, gi.params);
    const clr = hp.lr / (1 + (ctx.count - 1) * hp.lrDecay);
    const out = emit(
      'adagrad',
      ctx,
      hp,
      { expr: `${G} / ${rootPlusEps('$s', hp.epsInsideSqrt)}` },
      { ...gi.inputs, s: sum },
      { ...gi.params, eps: hp.eps },
      -clr,
    );
    return { slots: { sum }, out };
  },
};

/** Options of {@link scaleByAdagrad}. */
export interface ScaleByAdagradOptions {
  /** Initial value of the sum of squares, >= 0 (default 0; Keras and optax use 0.1). */
  readonly initialAccumulatorValue?: number;
  /** Added to the denominator, > 0 (default 1e-10). */
  readonly eps?: number;
  /** `g / sqrt(s + eps)` (Keras, optax) instead of `g / (sqrt(s) + eps)` (PyTorch). Default false. */
  readonly epsInsideSqrt?: boolean;
}

/**
 * AdaGrad's scaling: `s = s + g^2`, `u = g / (sqrt(s) + eps)`. Defaults as PyTorch's Adagrad:
 * initial accumulator 0, eps 1e-10. State: `sum` per parameter.
 *
 * @see https://jmlr.org/papers/v12/duchi11a.html (Duchi et al., Adaptive Subgradient Methods)
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_rss
 * @example
 * ```ts
 * const adagradLike = chain(scaleByAdagrad(), scaleByLearningRate(0.01));
 * ```
 */
export function scaleByAdagrad(options: ScaleByAdagradOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByAdagrad';
  knownKeys(op, options, ['initialAccumulatorValue', 'eps', 'epsInsideSqrt']);
  return directionTransformation(
    adagradRule,
    {
      lrDecay: 0,
      initialAccumulatorValue: nonNegative(
        op,
        'initialAccumulatorValue',
        options.initialAccumulatorValue ?? 0,
      ),
      eps: positive(op, 'eps', options.eps ?? 1e-10),
      epsInsideSqrt: bool(op, 'epsInsideSqrt', options.epsInsideSqrt ?? false),
    },
    op,
  );
}
