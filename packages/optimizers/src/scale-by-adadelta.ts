import type { GradientTransformation } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { knownKeys, positive, unitInterval } from './validate.js';

/**
 * Hyperparameters of Adadelta's rule: {@link adadelta}'s options with every default filled in.
 *
 * @internal
 */
export interface AdadeltaRuleHyperparams extends RuleHyperparams {
  /** Decay of the running averages of squared gradients and squared updates. */
  readonly rho: number;
  /** Added inside both square roots. */
  readonly eps: number;
}

/**
 * Adadelta's rule: `squareAvg`, then `accDelta` and the output, each recomputing the step
 * `delta = sqrt(accDelta + eps) / sqrt(squareAvg + eps) * g` in its own kernel (from the old
 * `accDelta`) rather than storing it. @internal
 */
export const adadeltaRule: UpdateRule<AdadeltaRuleHyperparams> = {
  name: 'Adadelta',
  slots: () => ['squareAvg', 'accDelta'],
  step(ctx: RuleContext, hp: AdadeltaRuleHyperparams): RuleResult {
    const G = gradExpr(hp);
    const gi = gradInputs(ctx, hp);
    const rho = hp.rho;
    const sq = pending(
      'adadelta.squareAvg',
      `$rho * $sq + $cr * (${G} * ${G})`,
      { ...gi.inputs, sq: ctx.slots.squareAvg },
      { ...gi.params, rho, cr: 1 - rho },
    );
    const delta = `let t_d = Math.sqrt($acc + $eps) / Math.sqrt($sq + $eps) * ${G};`;
    const acc = pending(
      'adadelta.accDelta',
      { stmts: delta, expr: '$rho * $acc + $cr * (t_d * t_d)' },
      { ...gi.inputs, sq, acc: ctx.slots.accDelta },
      { ...gi.params, eps: hp.eps, rho, cr: 1 - rho },
    );
    const out = emit(
      'adadelta',
      ctx,
      hp,
      { stmts: delta, expr: 't_d' },
      { ...gi.inputs, sq, acc: ctx.slots.accDelta },
      { ...gi.params, eps: hp.eps },
      -hp.lr,
    );
    return { slots: { squareAvg: sq, accDelta: acc }, out };
  },
};

/** Options of {@link scaleByAdadelta}. */
export interface ScaleByAdadeltaOptions {
  /** Decay of the running averages, in [0, 1] (default 0.9). */
  readonly rho?: number;
  /** Added inside both square roots, > 0 (default 1e-6). */
  readonly eps?: number;
}

/**
 * Adadelta's scaling: `v = rho v + (1 - rho) g^2`, `u = sqrt(a + eps) / sqrt(v + eps) * g`,
 * `a = rho a + (1 - rho) u^2`. Defaults as PyTorch's Adadelta. State: `squareAvg`, `accDelta`.
 *
 * @see https://arxiv.org/abs/1212.5701 (Zeiler, ADADELTA: An Adaptive Learning Rate Method)
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adadelta
 * @example
 * ```ts
 * const adadeltaLike = chain(scaleByAdadelta(), scaleByLearningRate(1.0));
 * ```
 */
export function scaleByAdadelta(options: ScaleByAdadeltaOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByAdadelta';
  knownKeys(op, options, ['rho', 'eps']);
  return directionTransformation(
    adadeltaRule,
    { rho: unitInterval(op, 'rho', options.rho ?? 0.9, true), eps: positive(op, 'eps', options.eps ?? 1e-6) },
    op,
  );
}
