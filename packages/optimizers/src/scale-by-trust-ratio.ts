import type { GradientTransformation, Params, Tensor } from '@gradkit/tensor';
import { noGrad, scope, ValueError } from '@gradkit/tensor';
import type { EmptyState } from './empty-state.js';
import { fused } from './kernel.js';
import { nonNegative } from './validate.js';

/** Options of {@link scaleByTrustRatio}. */
export interface ScaleByTrustRatioOptions {
  /** Multiplies the ratio (default 1). */
  readonly trustCoefficient?: number;
  /** Added to the update norm in the divisor (default 0). */
  readonly eps?: number;
}

/**
 * `s * (u * ratio)` (or `p + s * (u * ratio)` when `p` is given) with
 * `ratio = c ||p|| / (||u|| + eps)`, or 1 when either norm is 0; `pn2`, `un2` are the squared
 * norms (scalar tensors). @internal
 */
export function trustScaled(
  u: Tensor,
  pn2: Tensor,
  un2: Tensor,
  c: number,
  eps: number,
  s: number,
  p?: Tensor,
): Tensor {
  const stmts =
    'let t_pn = Math.sqrt($pn2); let t_un = Math.sqrt($un2);' +
    ' let t_r = t_pn == 0.0 ? 1.0 : (t_un == 0.0 ? 1.0 : $c * t_pn / (t_un + $eps));';
  if (p)
    return fused(
      'trustRatio.apply',
      { stmts, expr: '$p + $s * ($u * t_r)' },
      { u, pn2, un2, p },
      { c, eps, s },
    );
  return fused('trustRatio', { stmts, expr: '$s * ($u * t_r)' }, { u, pn2, un2 }, { c, eps, s });
}

/**
 * Scales each parameter's update by its trust ratio, the layer-wise adaptation of LARS and LAMB:
 * `u' = u * c ||p|| / (||u|| + eps)`, and `u' = u` when `||p||` or `||u||` is 0 (optax's
 * convention). Norms are per parameter tensor and stay on the device. Needs the parameters.
 *
 * @see https://arxiv.org/abs/1904.00962 (You et al., Large Batch Optimization for Deep Learning: LAMB)
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_trust_ratio
 * @example
 * ```ts
 * const lambLike = chain(scaleByAdam({ eps: 1e-6 }), addDecayedWeights(0.01), scaleByTrustRatio(), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByTrustRatio(
  options: ScaleByTrustRatioOptions = {},
): GradientTransformation<EmptyState> {
  const op = 'scaleByTrustRatio';
  const c = nonNegative(op, 'trustCoefficient', options.trustCoefficient ?? 1);
  const eps = nonNegative(op, 'eps', options.eps ?? 0);
  return {
    init: () => ({}),
    update(grads: Params, state: EmptyState, params?: Params): [Params, EmptyState] {
      return noGrad(() => {
        const out: Params = {};
        for (const [k, u] of Object.entries(grads)) {
          const p = params?.[k];
          if (!p)
            throw new ValueError(
              op,
              `needs the parameters (update(grads, state, params)); '${k}' is missing`,
            );
          out[k] = scope(() => trustScaled(u, p.square().sum(), u.square().sum(), c, eps, 1));
        }
        return [out, state];
      });
    },
  };
}
