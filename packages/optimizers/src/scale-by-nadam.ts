import type { GradientTransformation } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { betaPair, bool, knownKeys, nonNegative, positive } from './validate.js';

/**
 * Hyperparameters of NAdam's rule: {@link nadam}'s options with every default filled in.
 *
 * @inline
 */
export interface NadamRuleHyperparams extends RuleHyperparams {
  /** `[beta1, beta2]`, the decay rates of the first and second moment averages. */
  readonly betas: readonly [number, number];
  /** Added to the denominator. */
  readonly eps: number;
  /** `psi` of the momentum schedule `mu_t = beta1 (1 - 0.5 * 0.96^(t psi))`. */
  readonly momentumDecay: number;
  /** PyTorch 1.13's coefficient `1 - P_t mu_t mu_{t+1}` instead of Dozat's (PyTorch >= 2.0) `1 - P_t mu_{t+1}`. */
  readonly legacyMuProduct: boolean;
  /** Decay the parameter by `lr wd` (NAdamW) instead of adding `wd p` to the gradient. */
  readonly decoupledWeightDecay: boolean;
}

/** The momentum coefficient of step `t`: `mu_t = b1 (1 - 0.5 * 0.96^(t psi))`. */
const muAt = (b1: number, t: number, psi: number): number => b1 * (1 - 0.5 * 0.96 ** (t * psi));

/**
 * NAdam's rule. `muProduct` is a host scalar rounded to float32 at each step, as PyTorch keeps it
 * in a float32 tensor. @internal
 */
export const nadamRule: UpdateRule<NadamRuleHyperparams> = {
  name: 'NAdam',
  slots: () => ['expAvg', 'expAvgSq'],
  scalars: { muProduct: 1 },
  advance(scalars, count, hp) {
    const mu = muAt(hp.betas[0], count, hp.momentumDecay);
    return { muProduct: Math.fround(scalars.muProduct * Math.fround(mu)) };
  },
  step(ctx: RuleContext, hp: NadamRuleHyperparams): RuleResult {
    const [b1, b2] = hp.betas;
    const t = ctx.count;
    const coupled = hp.decoupledWeightDecay ? { ...hp, weightDecay: 0 } : hp;
    const G = gradExpr(coupled);
    const gi = gradInputs(ctx, coupled);
    const m = pending(
      'nadam.expAvg',
      `$b1 * $m + $c1 * ${G}`,
      { ...gi.inputs, m: ctx.slots.expAvg },
      { ...gi.params, b1, c1: 1 - b1 },
    );
    const v = pending(
      'nadam.expAvgSq',
      `$b2 * $v + $c2 * (${G} * ${G})`,
      { ...gi.inputs, v: ctx.slots.expAvgSq },
      { ...gi.params, b2, c2: 1 - b2 },
    );
    const mu = muAt(b1, t, hp.momentumDecay);
    const muNext = muAt(b1, t + 1, hp.momentumDecay);
    const muProduct = ctx.scalars.muProduct;
    // PyTorch >= 2.0 (and Dozat): P_t mu_{t+1}, the float32 P_t times mu_{t+1} in float64
    // (`_get_value(mu_product) * mu_next`). PyTorch 1.13 multiplies mu_t in twice, in float32
    // tensor ops (`mu_product * mu * mu_next`).
    const muProductNext = hp.legacyMuProduct
      ? Math.fround(Math.fround(muProduct * Math.fround(mu)) * Math.fround(muNext))
      : muProduct * muNext;
    const out = emit(
      'nadam',
      ctx,
      hp,
      {
        stmts: 'let t_d = Math.sqrt($v / $bc2) + $eps;',
        expr: `$cg * (${G} / t_d) + $cm * ($m / t_d)`,
      },
      { ...gi.inputs, m, v },
      {
        ...gi.params,
        bc2: 1 - b2 ** t,
        eps: hp.eps,
        cg: (hp.lr * (1 - mu)) / (1 - muProduct),
        cm: (hp.lr * muNext) / (1 - muProductNext),
      },
      -1,
      hp.decoupledWeightDecay,
    );
    return { slots: { expAvg: m, expAvgSq: v }, out };
  },
};

/** Options of {@link scaleByNadam}. */
export interface ScaleByNadamOptions {
  /** `[beta1, beta2]` (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to the denominator, > 0 (default 1e-8). */
  readonly eps?: number;
  /** `psi` of the momentum schedule `mu_t = b1 (1 - 0.5 * 0.96^(t psi))`, >= 0 (default 4e-3). */
  readonly momentumDecay?: number;
  /** Use PyTorch 1.13's `P_t mu_t mu_{t+1}` instead of Dozat's (and PyTorch >= 2.0's) `P_t mu_{t+1}` (default false). */
  readonly legacyMuProduct?: boolean;
}

/**
 * NAdam's scaling (Adam with Nesterov momentum and Dozat's momentum schedule), the direction of
 * {@link nadam} without the learning rate. State: `expAvg`, `expAvgSq`, the scalar `muProduct`.
 *
 * @see https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ (Dozat, Incorporating Nesterov Momentum into Adam)
 * @see https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html
 * @example
 * ```ts
 * const nadamLike = chain(scaleByNadam(), scaleByLearningRate(2e-3));
 * ```
 */
export function scaleByNadam(options: ScaleByNadamOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByNadam';
  knownKeys(op, options, ['betas', 'eps', 'momentumDecay', 'legacyMuProduct']);
  return directionTransformation(
    nadamRule,
    {
      betas: betaPair(op, options.betas ?? [0.9, 0.999]),
      eps: positive(op, 'eps', options.eps ?? 1e-8),
      momentumDecay: nonNegative(op, 'momentumDecay', options.momentumDecay ?? 4e-3),
      legacyMuProduct: bool(op, 'legacyMuProduct', options.legacyMuProduct ?? false),
      decoupledWeightDecay: false,
    },
    op,
  );
}
