import type { GradientTransformation, Params, Tensor } from '@gradkit/tensor';
import { noGrad } from '@gradkit/tensor';
import type { EmptyState } from './empty-state.js';
import { sumOfSquares } from './global-norm.js';
import { fused } from './kernel.js';
import { nonNegative } from './validate.js';

/** Options of {@link clipByGlobalNorm}. */
export interface ClipByGlobalNormOptions {
  /**
   * Added to the norm in the divisor, as PyTorch's `clip_grad_norm_` (default 1e-6). 0 gives
   * optax's `clip_by_global_norm` exactly.
   */
  readonly eps?: number;
}

/**
 * The clipping kernel: `g * min(1, max / (sqrt(n2) + eps))` for the squared global norm `n2`. A
 * NaN norm (a NaN anywhere in the gradients) makes every gradient NaN, as PyTorch's
 * `clip_grad_norm_` does; spelled out because GLSL's min returns the non-NaN operand. @internal
 */
export const CLIP_BY_NORM = {
  stmts: 'let t_f = $max / (Math.sqrt($n2) + $eps);',
  expr: '$g * (t_f != t_f ? t_f : Math.min(1.0, t_f))',
};

/** `g * min(1, maxNorm / (norm + eps))` for every gradient, the norm computed on the device. @internal */
export function clipParamsByGlobalNorm(op: string, grads: Params, maxNorm: number, eps: number): Params {
  return noGrad(() => {
    const entries = Object.entries(grads);
    if (entries.length === 0) return {};
    const n2: Tensor = sumOfSquares(
      op,
      entries.map(([, g]) => g),
    );
    const out: Params = {};
    for (const [k, g] of entries) {
      out[k] = fused('clipByGlobalNorm', CLIP_BY_NORM, { g, n2 }, { max: maxNorm, eps });
    }
    n2.dispose();
    return out;
  });
}

/**
 * Clips the updates by their global L2 norm, as PyTorch's `torch.nn.utils.clip_grad_norm_`:
 * `u = g * min(1, maxNorm / (||g|| + eps))` with `||g|| = sqrt(sum over every tensor of g^2)`.
 * Afterwards the global norm is at most `maxNorm`; clipping again changes nothing beyond float
 * rounding (exactly nothing with `eps: 0`). The norm stays on the device (no read-back).
 *
 * @param maxNorm the largest norm allowed (>= 0).
 * @throws {ValueError} for a negative or non-finite `maxNorm` or `eps`.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_norm_.html
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.clip_by_global_norm
 * @example
 * ```ts
 * const tx = chain(clipByGlobalNorm(1.0), adamTransform({ lr: 1e-3 }));
 * ```
 */
export function clipByGlobalNorm(
  maxNorm: number,
  options: ClipByGlobalNormOptions = {},
): GradientTransformation<EmptyState> {
  const op = 'clipByGlobalNorm';
  nonNegative(op, 'maxNorm', maxNorm);
  const eps = nonNegative(op, 'eps', options.eps ?? 1e-6);
  return {
    init: () => ({}),
    update: (grads: Params, state: EmptyState): [Params, EmptyState] => [
      clipParamsByGlobalNorm(op, grads, maxNorm, eps),
      state,
    ],
  };
}
