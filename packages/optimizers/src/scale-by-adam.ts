import type { GradientTransformation } from '@gradkit/tensor';
import { pending } from './kernel.js';
import { directionTransformation } from './named.js';
import type { RuleContext, RuleHyperparams, RuleResult, RuleState, UpdateRule } from './update-rule.js';
import { emit, gradExpr, gradInputs } from './update-rule.js';
import { betaPair, bool, knownKeys, positive } from './validate.js';

/** Where Adam's epsilon goes: PyTorch's `sqrt(v̂) + eps`, or Keras's `sqrt(v) + eps` before bias correction. */
export type Convention = 'pytorch' | 'keras';

/**
 * Hyperparameters of the Adam family's rule: {@link adam}'s or {@link adamw}'s options with every
 * default filled in.
 *
 * @inline
 */
export interface AdamRuleHyperparams extends RuleHyperparams {
  /** `[beta1, beta2]`, the decay rates of the first and second moment averages. */
  readonly betas: readonly [number, number];
  /** Added to the denominator. */
  readonly eps: number;
  /** AMSGrad: normalize by the running maximum of the second moment. */
  readonly amsgrad: boolean;
  /** Where epsilon goes: PyTorch's `sqrt(v̂) + eps` or Keras's `sqrt(v) + eps` (see {@link Convention}). */
  readonly convention: Convention;
}

/** `max(a, b)` propagating NaN as `torch.maximum` (GLSL's max drops a NaN operand). @internal */
export const NAN_MAX = (a: string, b: string): string =>
  `((${a} != ${a} || ${b} != ${b}) ? ${a} + ${b} : Math.max(${a}, ${b}))`;

/**
 * Adam's rule (AdamW's with `decoupled`): kernels for `expAvg`, `expAvgSq` (and `maxExpAvgSq`
 * with AMSGrad), then the output. @internal
 */
export function makeAdamRule(name: string, decoupled: boolean): UpdateRule<AdamRuleHyperparams> {
  return {
    name,
    slots: (hp) => (hp.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq']),
    step(ctx: RuleContext, hp: AdamRuleHyperparams): RuleResult {
      const [b1, b2] = hp.betas;
      const coupled = decoupled ? { ...hp, weightDecay: 0 } : hp;
      const G = gradExpr(coupled);
      const gi = gradInputs(ctx, coupled);
      const m = pending(
        'adam.expAvg',
        `$b1 * $m + $c1 * ${G}`,
        { ...gi.inputs, m: ctx.slots.expAvg },
        { ...gi.params, b1, c1: 1 - b1 },
      );
      const v = pending(
        'adam.expAvgSq',
        `$b2 * $v + $c2 * (${G} * ${G})`,
        { ...gi.inputs, v: ctx.slots.expAvgSq },
        { ...gi.params, b2, c2: 1 - b2 },
      );
      const slots: Record<string, typeof m> = { expAvg: m, expAvgSq: v };
      let denomSource = v;
      if (hp.amsgrad) {
        denomSource = pending('adam.maxExpAvgSq', NAN_MAX('$vmax', '$v'), { vmax: ctx.slots.maxExpAvgSq, v });
        slots.maxExpAvgSq = denomSource;
      }
      const bc1 = 1 - b1 ** ctx.count;
      const bc2Sqrt = Math.sqrt(1 - b2 ** ctx.count);
      const keras = hp.convention === 'keras';
      const out = emit(
        'adam',
        ctx,
        hp,
        { expr: '$m / (Math.sqrt($v) / $s2 + $eps)' },
        { m, v: denomSource },
        { s2: keras ? 1 : bc2Sqrt, eps: hp.eps },
        keras ? (-hp.lr * bc2Sqrt) / bc1 : -hp.lr / bc1,
        decoupled,
      );
      return { slots, out };
    },
  };
}

/** The rule of {@link adam}. @internal */
export const adamRule = makeAdamRule('Adam', false);

/** Options of {@link scaleByAdam}. */
export interface ScaleByAdamOptions {
  /** `[beta1, beta2]`, decay rates of the moment averages (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to `sqrt(v̂)` (default 1e-8). */
  readonly eps?: number;
  /** Normalize by the running maximum of `v` (AMSGrad; default false). */
  readonly amsgrad?: boolean;
}

/**
 * Adam's scaling, the direction of Adam without the learning rate:
 * `m_t = b1 m + (1 - b1) g`, `v_t = b2 v + (1 - b2) g^2`, `u = m̂ / (sqrt(v̂) + eps)` with
 * `m̂ = m_t / (1 - b1^t)`, `v̂ = v_t / (1 - b2^t)` (AMSGrad: `v̂` from `max` of all `v_t`).
 * Defaults as PyTorch's Adam: betas `[0.9, 0.999]`, eps 1e-8. State: `expAvg`, `expAvgSq`
 * (`maxExpAvgSq`) per parameter.
 *
 * @see https://arxiv.org/abs/1412.6980 (Kingma & Ba, Adam)
 * @see https://openreview.net/forum?id=ryQu7f-RZ (Reddi et al., AMSGrad)
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_adam
 * @example
 * ```ts
 * const adamLike = chain(scaleByAdam(), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByAdam(options: ScaleByAdamOptions = {}): GradientTransformation<RuleState> {
  const op = 'scaleByAdam';
  knownKeys(op, options, ['betas', 'eps', 'amsgrad']);
  return directionTransformation(
    adamRule,
    {
      betas: betaPair(op, options.betas ?? [0.9, 0.999]),
      eps: positive(op, 'eps', options.eps ?? 1e-8),
      amsgrad: bool(op, 'amsgrad', options.amsgrad ?? false),
      convention: 'pytorch',
    },
    op,
  );
}
