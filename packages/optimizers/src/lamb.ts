import type { GradientTransformation, Tensor } from '@gradkit/tensor';
import { fused } from './kernel.js';
import type { TransformOptions } from './named.js';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import { trustScaled } from './scale-by-trust-ratio.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { gradExpr, gradInputs } from './update-rule.js';
import { betaPair, bool, knownKeys, learningRate, nonNegative, positive } from './validate.js';

/** Options of {@link lamb} (defaults as optax's `lamb`; PyTorch 1.13 has no LAMB). */
export interface LambOptions {
  /** Learning rate (default 1e-3). */
  readonly lr?: number;
  /** `[beta1, beta2]`, each in [0, 1) (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to `sqrt(v̂)`, > 0 (default 1e-6). */
  readonly eps?: number;
  /** Decoupled weight decay, added to the Adam direction before the trust ratio (default 0). */
  readonly weightDecay?: number;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
}

/** LAMB's resolved hyperparameters. */
export interface LambHyperparams extends RuleHyperparams {
  /** `[beta1, beta2]`, the decay rates of the first and second moment averages. */
  readonly betas: readonly [number, number];
  /** Added to `sqrt(v̂)`. */
  readonly eps: number;
}

/**
 * LAMB's rule: `expAvg`, `expAvgSq`, the Adam direction plus decay `r` (materialized: its norm is
 * needed), the two squared norms (`||p||^2`, `||r||^2`, each a square kernel and a sum
 * reduction), then the output. @internal
 */
export const lambRule: UpdateRule<LambHyperparams> = {
  name: 'LAMB',
  slots: () => ['expAvg', 'expAvgSq'],
  needsParams: () => true,
  step(ctx: RuleContext, hp: LambHyperparams): RuleResult {
    const [b1, b2] = hp.betas;
    const t = ctx.count;
    const plain = { ...hp, weightDecay: 0 };
    const G = gradExpr(plain);
    const gi = gradInputs(ctx, plain);
    const m = fused(
      'lamb.expAvg',
      `$b1 * $m + $c1 * ${G}`,
      { ...gi.inputs, m: ctx.slots.expAvg },
      { b1, c1: 1 - b1 },
    );
    const v = fused(
      'lamb.expAvgSq',
      `$b2 * $v + $c2 * (${G} * ${G})`,
      { ...gi.inputs, v: ctx.slots.expAvgSq },
      { b2, c2: 1 - b2 },
    );
    const p = ctx.p as Tensor;
    const wd = hp.weightDecay !== 0;
    const r = fused(
      'lamb.direction',
      `($m / $bc1) / (Math.sqrt($v / $bc2) + $eps)${wd ? ' + $wd * $p' : ''}`,
      { m, v, p: wd ? p : undefined },
      { bc1: 1 - b1 ** t, bc2: 1 - b2 ** t, eps: hp.eps, wd: wd ? hp.weightDecay : undefined },
    );
    const out = trustScaled(r, p.square().sum(), r.square().sum(), 1, 0, -hp.lr, ctx.apply ? p : undefined);
    return { slots: { expAvg: m, expAvgSq: v }, out };
  },
};

/** @internal */
export const LAMB: OptimizerSpec<LambHyperparams> = {
  name: 'LAMB',
  rule: lambRule,
  resolve(o, op) {
    const options = o as LambOptions;
    knownKeys(op, options, ['lr', 'betas', 'eps', 'weightDecay', 'maximize']);
    return {
      lr: learningRate(op, 'lr', options.lr ?? 1e-3),
      betas: betaPair(op, options.betas ?? [0.9, 0.999]),
      eps: positive(op, 'eps', options.eps ?? 1e-6),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      maximize: bool(op, 'maximize', options.maximize ?? false),
    };
  },
};

/**
 * LAMB (layer-wise adaptive moments). PyTorch 1.13 has no LAMB; this follows the paper's
 * Algorithm 2 with an identity scaling function, as optax's `lamb`. For each parameter tensor:
 *
 * ```
 * m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2
 * r = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + wd p
 * ratio = ||p|| / ||r||   (1 when either norm is 0)
 * p = p - lr ratio r
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-6, weightDecay 0. The norms are reductions on the
 * device (no read-back). Equals
 * `chain(scaleByAdam({ eps }), addDecayedWeights(wd), scaleByTrustRatio(), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `LAMB`, the option and the value.
 * @see https://arxiv.org/abs/1904.00962 (You et al., Large Batch Optimization for Deep Learning: Training BERT in 76 minutes)
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lamb
 * @example
 * ```ts
 * const opt = lamb(model, { lr: 1e-3, weightDecay: 0.01 });
 * ```
 */
export function lamb(
  params: OptimizerParams<LambOptions>,
  options: LambOptions = {},
): Optimizer<LambHyperparams> {
  return new Optimizer(LAMB, params, options);
}

/**
 * LAMB as a {@link GradientTransformation} (see {@link lamb}); the learning rate may be a schedule.
 * Needs the parameters in `update`.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lamb
 * @example
 * ```ts
 * const tx = lambTransform({ lr: 1e-3, weightDecay: 0.01 });
 * ```
 */
export function lambTransform(
  options: TransformOptions<LambOptions> = {},
): GradientTransformation<RuleState> {
  return namedTransformation(LAMB, options);
}
