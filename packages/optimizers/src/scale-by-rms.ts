import type { GradientTransformation } from '@gradkit/tensor';
import type { Operand } from './kernel.js';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import { rootPlusEps } from './scale-by-adagrad.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { bool, knownKeys, positive, unitInterval } from './validate.js';

/**
 * Hyperparameters of RMSProp's rule: {@link rmsprop}'s options with every default filled in.
 *
 * @internal
 */
export interface RmspropRuleHyperparams extends RuleHyperparams {
  /** Decay of the squared-gradient average (Keras's `rho`). */
  readonly alpha: number;
  /** Added to the denominator (inside the square root when `epsInsideSqrt`). */
  readonly eps: number;
  /** Momentum factor (0: none). */
  readonly momentum: number;
  /** Normalize by the estimated variance `v - a^2` instead of `v`. */
  readonly centered: boolean;
  /** `g / sqrt(v + eps)` (Keras) instead of `g / (sqrt(v) + eps)` (PyTorch). */
  readonly epsInsideSqrt: boolean;
}

/** RMSProp's rule: `squareAvg`, `gradAvg` (centered), `momentumBuffer` (momentum), then the output. @internal */
export const rmspropRule: UpdateRule<RmspropRuleHyperparams> = {
  name: 'RMSprop',
  slots: (hp) => [
    'squareAvg',
    ...(hp.momentum > 0 ? ['momentumBuffer'] : []),
    ...(hp.centered ? ['gradAvg'] : []),
  ],
  step(ctx: RuleContext, hp: RmspropRuleHyperparams): RuleResult {
    let G = gradExpr(hp);
    let gi = gradInputs(ctx, hp);
    if (hp.weightDecay !== 0 && hp.centered && hp.momentum > 0) {
      // The momentum kernel would read five inputs (buf, g, p, squareAvg, gradAvg): materialize g + wd p.
      const geff = pending('rmsprop.grad', G, gi.inputs, gi.params);
      G = '$g';
      gi = { inputs: { g: geff }, params: {} };
    }
    const a = hp.alpha;
    const sq = pending(
      'rmsprop.squareAvg',
      `$alpha * $sq + $ca * (${G} * ${G})`,
      { ...gi.inputs, sq: ctx.slots.squareAvg },
      { ...gi.params, alpha: a, ca: 1 - a },
    );
    const slots: Record<string, Operand> = { squareAvg: sq };
    let variance = '$sq';
    const avgInputs: Record<string, Operand | undefined> = { sq };
    if (hp.centered) {
      const ga = pending(
        'rmsprop.gradAvg',
        `$alpha * $ga + $ca * ${G}`,
        { ...gi.inputs, ga: ctx.slots.gradAvg },
        { ...gi.params, alpha: a, ca: 1 - a },
      );
      slots.gradAvg = ga;
      avgInputs.ga = ga;
      variance = '($sq - $ga * $ga)';
    }
    const avg = rootPlusEps(variance, hp.epsInsideSqrt);
    if (hp.momentum > 0) {
      const buf = pending(
        'rmsprop.momentumBuffer',
        `$mom * $buf + ${G} / ${avg}`,
        { ...gi.inputs, ...avgInputs, buf: ctx.slots.momentumBuffer },
        { ...gi.params, mom: hp.momentum, eps: hp.eps },
      );
      slots.momentumBuffer = buf;
      return { slots, out: emit('rmsprop.momentum', ctx, hp, { expr: '$nbuf' }, { nbuf: buf }, {}, -hp.lr) };
    }
    const out = emit(
      'rmsprop',
      ctx,
      hp,
      { expr: `${G} / ${avg}` },
      { ...gi.inputs, ...avgInputs },
      { ...gi.params, eps: hp.eps },
      -hp.lr,
    );
    return { slots, out };
  },
};

/** Options of {@link scaleByRms}. */
export interface ScaleByRmsOptions {
  /** Decay of the squared-gradient average, in [0, 1) (default 0.99, PyTorch's; Keras's rho is 0.9). */
  readonly alpha?: number;
  /** Added to the denominator, > 0 (default 1e-8). */
  readonly eps?: number;
  /** Divide by the standard deviation `sqrt(E[g^2] - E[g]^2)` instead of the root mean square (default false). */
  readonly centered?: boolean;
  /** `g / sqrt(v + eps)` (Keras) instead of `g / (sqrt(v) + eps)` (PyTorch). Default false. */
  readonly epsInsideSqrt?: boolean;
}

/**
 * RMSProp's scaling: `v = alpha v + (1 - alpha) g^2`, `u = g / (sqrt(v) + eps)`; centered:
 * `a = alpha a + (1 - alpha) g`, `u = g / (sqrt(v - a^2) + eps)`. Defaults as PyTorch's RMSprop
 * (alpha 0.99, eps 1e-8). Momentum is a separate `trace`. State: `squareAvg` (and `gradAvg`).
 *
 * @see https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf (Hinton, Lecture 6e)
 * @see https://arxiv.org/abs/1308.0850 (Graves, centered RMSProp)
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_rms
 * @example
 * ```ts
 * const rmspropLike = chain(scaleByRms({ centered: true }), trace({ decay: 0.9 }), scaleByLearningRate(0.01));
 * ```
 */
export function scaleByRms(options: ScaleByRmsOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByRms';
  knownKeys(op, options, ['alpha', 'eps', 'centered', 'epsInsideSqrt']);
  return directionTransformation(
    rmspropRule,
    {
      alpha: unitInterval(op, 'alpha', options.alpha ?? 0.99),
      eps: positive(op, 'eps', options.eps ?? 1e-8),
      momentum: 0,
      centered: bool(op, 'centered', options.centered ?? false),
      epsInsideSqrt: bool(op, 'epsInsideSqrt', options.epsInsideSqrt ?? false),
    },
    op,
  );
}
