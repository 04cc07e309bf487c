import { Module } from './module.js';
import { Tensor } from './tensor.js';

/**
 * Clears gradients: sets `.grad` to null (disposing it) on every tensor given, as PyTorch's
 * `zero_grad(set_to_none=True)`. Accepts a module (all its parameters), an iterable of tensors,
 * or a record of tensors (e.g. `Params`).
 *
 * @example
 * ```ts
 * zeroGrad(model);
 * zeroGrad([w, b]);
 * ```
 */
export function zeroGrad(
  params: Module<never, unknown> | Iterable<Tensor> | Readonly<Record<string, Tensor>>,
): void {
  let list: Iterable<Tensor>;
  if (params instanceof Module) list = params.parameters();
  else if (typeof (params as Iterable<Tensor>)[Symbol.iterator] === 'function')
    list = params as Iterable<Tensor>;
  else list = Object.values(params as Record<string, Tensor>);
  for (const t of list) if (t instanceof Tensor) t.grad = null;
}
