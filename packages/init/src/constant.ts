import type { Tensor } from '@gradkit/tensor';
import { sample } from './distribution.js';
import { fillInPlace, finiteNumber } from './host.js';
import type { FillOptions, InitOptions } from './options.js';

/**
 * A tensor filled with `value` (PyTorch's `nn.init.constant_`, Keras' `Constant`). Draws nothing.
 *
 * @throws {ValueError} when `value` is not a finite number.
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * constant([3], 0.1).dataSync(); // [0.1, 0.1, 0.1] (in float32)
 * ```
 */
export function constant(shape: readonly number[], value: number, options: InitOptions = {}): Tensor {
  finiteNumber('constant', 'value', value);
  return sample({ kind: 'constant', value }, shape, options);
}

/**
 * Zeros (PyTorch's `nn.init.zeros_`, Keras' `Zeros`): the usual bias initializer. The same values
 * as `@gradkit/tensor`'s `zeros`, with the initializer signature.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const bias = zeros([16], { requiresGrad: true });
 * ```
 */
export function zeros(shape: readonly number[], options: InitOptions = {}): Tensor {
  return sample({ kind: 'constant', value: 0 }, shape, options);
}

/**
 * Ones (PyTorch's `nn.init.ones_`, Keras' `Ones`): e.g. a normalization layer's scale.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const gamma = ones([16]);
 * ```
 */
export function ones(shape: readonly number[], options: InitOptions = {}): Tensor {
  return sample({ kind: 'constant', value: 1 }, shape, options);
}

/**
 * Fills `t` with `value` in place (PyTorch's `constant_`) and returns it.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * constant_(layer.bias, 0.01);
 * ```
 */
export function constant_<T extends Tensor>(t: T, value: number, options: FillOptions = {}): T {
  finiteNumber('constant_', 'value', value);
  return fillInPlace('constant_', t, (s, o) => constant(s, value, o), options);
}

/**
 * Fills `t` with zeros in place (PyTorch's `zeros_`) and returns it.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * zeros_(layer.bias);
 * ```
 */
export function zeros_<T extends Tensor>(t: T, options: FillOptions = {}): T {
  return fillInPlace('zeros_', t, zeros, options);
}

/**
 * Fills `t` with ones in place (PyTorch's `ones_`) and returns it.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * ones_(norm.weight);
 * ```
 */
export function ones_<T extends Tensor>(t: T, options: FillOptions = {}): T {
  return fillInPlace('ones_', t, ones, options);
}
