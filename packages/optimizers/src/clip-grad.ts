import type { Tensor } from '@gradkit/tensor';
import { noGrad, zeros } from '@gradkit/tensor';
import { CLIP_BY_NORM } from './clip-by-global-norm.js';
import { clipParamsByValue } from './clip-by-value.js';
import { sumOfSquares } from './global-norm.js';
import { fused } from './kernel.js';
import type { ParamsInput } from './param-groups.js';
import { normalizeParams } from './param-groups.js';
import { nonNegative } from './validate.js';

function withGrads(op: string, params: ParamsInput): Tensor[] {
  return normalizeParams(op, params)
    .flatMap((g) => g.entries.map(([, t]) => t))
    .filter((t) => t.grad !== null);
}

/**
 * Clips the gradients (`.grad`) of parameters in place by their global L2 norm, as PyTorch's
 * `torch.nn.utils.clip_grad_norm_`: `g <- g * min(1, maxNorm / (||g|| + eps))`. For the stateful
 * face: call it between `backward()` and `step()`. Returns the norm before clipping as a scalar
 * tensor on the device (no read-back; `.item()` reads it).
 *
 * @param maxNorm the largest norm allowed (>= 0).
 * @param options.eps added to the norm in the divisor (default 1e-6, PyTorch's).
 * @throws {ValueError} for a negative `maxNorm` or an empty parameter list.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_norm_.html
 * @example
 * ```ts
 * loss.backward();
 * const norm = clipGradNorm(model, 1.0);
 * opt.step();
 * ```
 */
export function clipGradNorm(
  params: ParamsInput,
  maxNorm: number,
  options: { readonly eps?: number } = {},
): Tensor {
  const op = 'clipGradNorm';
  nonNegative(op, 'maxNorm', maxNorm);
  const eps = nonNegative(op, 'eps', options.eps ?? 1e-6);
  const list = withGrads(op, params);
  return noGrad(() => {
    if (list.length === 0) return zeros([]);
    const n2 = sumOfSquares(
      op,
      list.map((p) => p.grad as Tensor),
    );
    for (const p of list)
      p.grad = fused('clipByGlobalNorm', CLIP_BY_NORM, { g: p.grad as Tensor, n2 }, { max: maxNorm, eps });
    const norm = n2.sqrt();
    n2.dispose();
    return norm;
  });
}

/**
 * Clips every gradient element (`.grad`) of parameters in place to `[-clipValue, clipValue]`, as
 * PyTorch's `torch.nn.utils.clip_grad_value_`.
 *
 * @throws {ValueError} for a negative `clipValue` or an empty parameter list.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_value_.html
 * @example
 * ```ts
 * loss.backward();
 * clipGradValue(model, 0.5);
 * opt.step();
 * ```
 */
export function clipGradValue(params: ParamsInput, clipValue: number): void {
  const op = 'clipGradValue';
  nonNegative(op, 'clipValue', clipValue);
  const list = withGrads(op, params);
  const clipped = clipParamsByValue(
    Object.fromEntries(list.map((p, i) => [String(i), p.grad as Tensor])),
    clipValue,
  );
  list.forEach((p, i) => {
    p.grad = clipped[String(i)];
  });
}
