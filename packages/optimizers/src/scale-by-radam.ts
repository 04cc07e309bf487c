import type { GradientTransformation } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { betaPair, knownKeys, positive } from './validate.js';

/**
 * Hyperparameters of RAdam's rule: {@link radam}'s options with every default filled in.
 *
 * @inline
 */
export interface RadamRuleHyperparams extends RuleHyperparams {
  /** `[beta1, beta2]`, the decay rates of the first and second moment averages. */
  readonly betas: readonly [number, number];
  /** Added to the denominator. */
  readonly eps: number;
}

/**
 * RAdam's rectification at step `t`: `rho_t` and, when `rho_t > 5`, the factor `r_t` (else null:
 * the step is un-adapted momentum SGD). Host arithmetic in float64, as PyTorch's. @internal
 */
export function radamRectification(b2: number, t: number): number | null {
  const rhoInf = 2 / (1 - b2) - 1;
  const rhoT = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
  if (!(rhoT > 5)) return null;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

/** RAdam's rule: `expAvg`, `expAvgSq`, then the rectified or plain-momentum output. @internal */
export const radamRule: UpdateRule<RadamRuleHyperparams> = {
  name: 'RAdam',
  slots: () => ['expAvg', 'expAvgSq'],
  step(ctx: RuleContext, hp: RadamRuleHyperparams): RuleResult {
    const [b1, b2] = hp.betas;
    const t = ctx.count;
    const G = gradExpr(hp);
    const gi = gradInputs(ctx, hp);
    const m = pending(
      'radam.expAvg',
      `$b1 * $m + $c1 * ${G}`,
      { ...gi.inputs, m: ctx.slots.expAvg },
      { ...gi.params, b1, c1: 1 - b1 },
    );
    const v = pending(
      'radam.expAvgSq',
      `$b2 * $v + $c2 * (${G} * ${G})`,
      { ...gi.inputs, v: ctx.slots.expAvgSq },
      { ...gi.params, b2, c2: 1 - b2 },
    );
    const bc1 = 1 - b1 ** t;
    const rect = radamRectification(b2, t);
    const out =
      rect === null
        ? emit('radam.sgd', ctx, hp, { expr: '$m' }, { m }, {}, -hp.lr / bc1)
        : emit(
            'radam.adaptive',
            ctx,
            hp,
            { expr: '$m / (Math.sqrt($v) + $eps)' },
            { m, v },
            { eps: hp.eps },
            (-hp.lr * rect * Math.sqrt(1 - b2 ** t)) / bc1,
          );
    return { slots: { expAvg: m, expAvgSq: v }, out };
  },
};

/** Options of {@link scaleByRadam}. */
export interface ScaleByRadamOptions {
  /** `[beta1, beta2]` (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to the denominator, > 0 (default 1e-8). */
  readonly eps?: number;
}

/**
 * RAdam's scaling, the direction of {@link radam} without the learning rate: bias-corrected
 * momentum, rectified by `r_t / (sqrt(v̂) + eps)` once the variance estimate is tractable
 * (`rho_t > 5`). State: `expAvg`, `expAvgSq`.
 *
 * @see https://arxiv.org/abs/1908.03265 (Liu et al., On the Variance of the Adaptive Learning Rate and Beyond)
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_radam
 * @example
 * ```ts
 * const radamLike = chain(scaleByRadam(), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByRadam(options: ScaleByRadamOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByRadam';
  knownKeys(op, options, ['betas', 'eps']);
  return directionTransformation(
    radamRule,
    { betas: betaPair(op, options.betas ?? [0.9, 0.999]), eps: positive(op, 'eps', options.eps ?? 1e-8) },
    op,
  );
}
