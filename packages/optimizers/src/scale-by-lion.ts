import type { GradientTransformation } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { betaPair, knownKeys } from './validate.js';

/**
 * Hyperparameters of Lion's rule: {@link lion}'s options with every default filled in.
 *
 * @inline
 */
export interface LionRuleHyperparams extends RuleHyperparams {
  /** `[beta1, beta2]`: the interpolation for the sign of the update, and the momentum decay. */
  readonly betas: readonly [number, number];
}

/**
 * Lion's rule: the output `sign(b1 m + (1 - b1) g)` from the old `expAvg` (with decoupled weight
 * decay), then `expAvg`. @internal
 */
export const lionRule: UpdateRule<LionRuleHyperparams> = {
  name: 'Lion',
  slots: () => ['expAvg'],
  step(ctx: RuleContext, hp: LionRuleHyperparams): RuleResult {
    const [b1, b2] = hp.betas;
    const plain = { ...hp, weightDecay: 0 };
    const G = gradExpr(plain);
    const gi = gradInputs(ctx, plain);
    const out = emit(
      'lion',
      ctx,
      hp,
      {
        stmts: `let t_c = $b1 * $m + $c1 * ${G};`,
        expr: 't_c > 0.0 ? 1.0 : (t_c < 0.0 ? -1.0 : (t_c == 0.0 ? 0.0 : t_c))',
      }, // sign; NaN stays NaN
      { ...gi.inputs, m: ctx.slots.expAvg },
      { b1, c1: 1 - b1 },
      -hp.lr,
      true,
    );
    const m = pending(
      'lion.expAvg',
      `$b2 * $m + $c2 * ${G}`,
      { ...gi.inputs, m: ctx.slots.expAvg },
      { b2, c2: 1 - b2 },
    );
    return { slots: { expAvg: m }, out };
  },
};

/** Options of {@link scaleByLion}. */
export interface ScaleByLionOptions {
  /** `[beta1, beta2]`: interpolation of the update and decay of the momentum (default `[0.9, 0.99]`). */
  readonly betas?: readonly [number, number];
}

/**
 * Lion's scaling (EvoLved Sign Momentum): `u = sign(b1 m + (1 - b1) g)`, then
 * `m = b2 m + (1 - b2) g`. State: `expAvg`.
 *
 * @see https://arxiv.org/abs/2302.06675 (Chen et al., Symbolic Discovery of Optimization Algorithms)
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_lion
 * @example
 * ```ts
 * const lionLike = chain(scaleByLion(), addDecayedWeights(0.1), scaleByLearningRate(1e-4));
 * ```
 */
export function scaleByLion(options: ScaleByLionOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByLion';
  knownKeys(op, options, ['betas']);
  return directionTransformation(lionRule, { betas: betaPair(op, options.betas ?? [0.9, 0.99]) }, op);
}
