import type { GradientTransformation } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import { NAN_MAX } from './scale-by-adam.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { betaPair, knownKeys, positive } from './validate.js';

/**
 * Hyperparameters of Adamax's rule: {@link adamax}'s options with every default filled in.
 *
 * @inline
 */
export interface AdamaxRuleHyperparams extends RuleHyperparams {
  /** `[beta1, beta2]`: the decay of the first moment and of the infinity norm. */
  readonly betas: readonly [number, number];
  /** Added to `|g|` in the infinity norm. */
  readonly eps: number;
}

/** Adamax's rule: `expAvg`, `expInf`, then the output. @internal */
export const adamaxRule: UpdateRule<AdamaxRuleHyperparams> = {
  name: 'Adamax',
  slots: () => ['expAvg', 'expInf'],
  step(ctx: RuleContext, hp: AdamaxRuleHyperparams): RuleResult {
    const [b1, b2] = hp.betas;
    const G = gradExpr(hp);
    const gi = gradInputs(ctx, hp);
    const m = pending(
      'adamax.expAvg',
      `$b1 * $m + $c1 * ${G}`,
      { ...gi.inputs, m: ctx.slots.expAvg },
      { ...gi.params, b1, c1: 1 - b1 },
    );
    const u = pending(
      'adamax.expInf',
      { stmts: `let t_a = $b2 * $u; let t_b = Math.abs(${G}) + $eps;`, expr: NAN_MAX('t_a', 't_b') },
      { ...gi.inputs, u: ctx.slots.expInf },
      { ...gi.params, b2, eps: hp.eps },
    );
    const out = emit('adamax', ctx, hp, { expr: '$m / $u' }, { m, u }, {}, -hp.lr / (1 - b1 ** ctx.count));
    return { slots: { expAvg: m, expInf: u }, out };
  },
};

/** Options of {@link scaleByAdamax}. */
export interface ScaleByAdamaxOptions {
  /** `[beta1, beta2]` (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to `|g|` in the infinity norm, > 0 (default 1e-8). */
  readonly eps?: number;
}

/**
 * Adamax's scaling (Adam with the infinity norm): `m = b1 m + (1 - b1) g`,
 * `u = max(b2 u, |g| + eps)`, output `m / ((1 - b1^t) u)`. Defaults as PyTorch's Adamax. State:
 * `expAvg`, `expInf`.
 *
 * @see https://arxiv.org/abs/1412.6980 (Kingma & Ba, section 7.1)
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_adamax
 * @example
 * ```ts
 * const adamaxLike = chain(scaleByAdamax(), scaleByLearningRate(2e-3));
 * ```
 */
export function scaleByAdamax(options: ScaleByAdamaxOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByAdamax';
  knownKeys(op, options, ['betas', 'eps']);
  return directionTransformation(
    adamaxRule,
    { betas: betaPair(op, options.betas ?? [0.9, 0.999]), eps: positive(op, 'eps', options.eps ?? 1e-8) },
    op,
  );
}
