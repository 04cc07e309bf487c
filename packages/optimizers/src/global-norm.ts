import type { Params, Tensor } from '@gradkit/tensor';
import { noGrad, scope, ValueError } from '@gradkit/tensor';

/** The sum of squares of every element of `tensors`, as a scalar tensor on their device. @internal */
export function sumOfSquares(op: string, tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new ValueError(op, 'needs at least one tensor');
  return noGrad(() =>
    scope(() => {
      let total = tensors[0].square().sum();
      for (let i = 1; i < tensors.length; i++) total = total.add(tensors[i].square().sum());
      return total;
    }),
  );
}

/**
 * The global L2 norm of several tensors, `sqrt(sum_i sum(t_i^2))`, as a scalar tensor on their
 * device (no read-back: call `.item()` to read it).
 *
 * @see https://optax.readthedocs.io/en/latest/api/utilities.html#optax.global_norm
 * @example
 * ```ts
 * const norm = globalNorm(grads).item();
 * ```
 */
export function globalNorm(tensors: Params | readonly Tensor[]): Tensor {
  const list = Array.isArray(tensors) ? (tensors as readonly Tensor[]) : Object.values(tensors as Params);
  return noGrad(() =>
    scope(() => {
      return sumOfSquares('globalNorm', list).sqrt();
    }),
  );
}
