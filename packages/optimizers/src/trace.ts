import type { GradientTransformation } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { bool, knownKeys, nonNegative, unitInterval } from './validate.js';

/**
 * Hyperparameters of SGD's rule: {@link sgd}'s options with every default filled in.
 *
 * @inline
 */
export interface SgdRuleHyperparams extends RuleHyperparams {
  /** Momentum factor (0: plain SGD). */
  readonly momentum: number;
  /** Dampening of the gradient in the momentum buffer. */
  readonly dampening: number;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
}

/**
 * SGD's rule: with momentum, the `momentumBuffer` kernel (`g` on the first step, as PyTorch
 * clones the gradient), then the output. @internal
 */
export const sgdRule: UpdateRule<SgdRuleHyperparams> = {
  name: 'SGD',
  slots: (hp) => (hp.momentum !== 0 ? ['momentumBuffer'] : []),
  step(ctx: RuleContext, hp: SgdRuleHyperparams): RuleResult {
    const G = gradExpr(hp);
    const gi = gradInputs(ctx, hp);
    if (hp.momentum === 0) {
      return { slots: {}, out: emit('sgd', ctx, hp, { expr: G }, gi.inputs, gi.params, -hp.lr) };
    }
    const buf =
      ctx.count === 1
        ? pending('sgd.momentumBuffer0', G, gi.inputs, gi.params)
        : pending(
            'sgd.momentumBuffer',
            `$mom * $buf + $omd * ${G}`,
            { ...gi.inputs, buf: ctx.slots.momentumBuffer },
            { ...gi.params, mom: hp.momentum, omd: 1 - hp.dampening },
          );
    const out = hp.nesterov
      ? emit(
          'sgd.nesterov',
          ctx,
          hp,
          { expr: `${G} + $mom * $nbuf` },
          { ...gi.inputs, nbuf: buf },
          { ...gi.params, mom: hp.momentum },
          -hp.lr,
        )
      : emit('sgd.momentum', ctx, hp, { expr: '$nbuf' }, { nbuf: buf }, {}, -hp.lr);
    return { slots: { momentumBuffer: buf }, out };
  },
};

/** Options of {@link trace}. */
export interface TraceOptions {
  /** The momentum coefficient (>= 0). */
  readonly decay: number;
  /** Dampening of the gradient term after the first step, in [0, 1] (default 0). */
  readonly dampening?: number;
  /** Nesterov momentum: output `g + decay * buf` (default false). */
  readonly nesterov?: boolean;
}

/**
 * A momentum trace, as the buffer of PyTorch's SGD: `buf_1 = g_1`,
 * `buf_t = decay * buf_{t-1} + (1 - dampening) g_t`; the update is `buf_t`, or with Nesterov
 * `g_t + decay * buf_t`. With `dampening = 0` it is optax's `trace`. State: `momentumBuffer` per
 * parameter.
 *
 * @throws {ValueError} for a negative decay or a dampening outside [0, 1].
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.trace
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.SGD.html
 * @example
 * ```ts
 * const heavyBall = chain(trace({ decay: 0.9 }), scaleByLearningRate(0.01));
 * ```
 */
export function trace(options: TraceOptions): GradientTransformation<RuleState> {
  const op = 'trace';
  knownKeys(op, options ?? {}, ['decay', 'dampening', 'nesterov']);
  return directionTransformation(
    sgdRule,
    {
      momentum: nonNegative(op, 'decay', options?.decay),
      dampening: unitInterval(op, 'dampening', options.dampening ?? 0, true),
      nesterov: bool(op, 'nesterov', options.nesterov ?? false),
    },
    op,
  );
}
