import type { ActivationGradOp, UnaryOp } from '@gradkit/kernels';
import { checkKnownKeys, checkOneOf, checkOptions } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf, finite } from './operands.js';
import type { Tensor } from './tensor.js';

/**
 * Activations available as functions and fused with a bias in {@link biasActivation} and
 * {@link linear}. `'identity'` applies none; `'gelu'` is the exact (erf) GELU and `'geluTanh'` its
 * tanh approximation (`gelu(x, { approximate: 'tanh' })`).
 */
export type Activation =
  | 'identity'
  | 'relu'
  | 'leakyRelu'
  | 'sigmoid'
  | 'tanh'
  | 'gelu'
  | 'geluTanh'
  | 'selu'
  | 'softplus'
  | 'elu';

/**
 * Applies a kernels unary activation; the backward pass is the fused `dy * f'(.)` kernel of
 * `device.activationGrad`, fed with the input x or (for sigmoid and tanh) the saved output y.
 */
function activation(op: UnaryOp, grad: ActivationGradOp, fromOutput: boolean, x: Tensor): Tensor {
  const d = deviceOf(op, x);
  return fromOp(op, d.unary(op, x.array), [x], (ctx, y) => {
    const s = ctx.save(fromOutput ? y : x.array);
    return (dy) => [d.activationGrad(grad, s, dy)];
  });
}

/**
 * Rectified linear unit `max(x, 0)`. Gradient: `dy` where x > 0, else 0 (0 at x = 0, as PyTorch).
 *
 * @example
 * ```ts
 * relu(tensor([-1, 2])).toArray(); // [0, 2]
 * ```
 */
export function relu(x: Tensor): Tensor {
  return activation('relu', 'reluGrad', false, x);
}

/**
 * Leaky ReLU `x > 0 ? x : negativeSlope * x` (PyTorch default slope 0.01). Gradient: `dy` where
 * x > 0, else `negativeSlope * dy`.
 *
 * @example
 * ```ts
 * leakyRelu(tensor([-1, 2]), 0.1).toArray(); // [-0.1, 2]
 * ```
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  const op = 'leakyRelu';
  const d = deviceOf(op, x);
  finite(op, 'negativeSlope', negativeSlope);
  return fromOp(op, d.scalar('leakyRelu', x.array, negativeSlope), [x], (ctx) => {
    const sx = ctx.save(x.array);
    return (dy) => [d.activationGrad('leakyReluGrad', sx, dy, negativeSlope)];
  });
}

/**
 * Logistic sigmoid `1 / (1 + e^-x)`, evaluated stably. Gradient: `dy * y * (1 - y)`.
 *
 * @example
 * ```ts
 * sigmoid(tensor([0])).toArray(); // [0.5]
 * ```
 */
export function sigmoid(x: Tensor): Tensor {
  return activation('sigmoid', 'sigmoidGrad', true, x);
}

/**
 * Hyperbolic tangent. Gradient: `dy * (1 - y^2)`.
 *
 * @example
 * ```ts
 * tanh(tensor([0, 100])).toArray(); // [0, 1]
 * ```
 */
export function tanh(x: Tensor): Tensor {
  return activation('tanh', 'tanhGrad', true, x);
}

/** How {@link gelu} evaluates the Gaussian CDF, as PyTorch's `approximate` argument. */
export type GeluApproximate = 'none' | 'tanh';

/** Options of {@link gelu}. */
export interface GeluOptions {
  /**
   * `'none'` (default, as PyTorch): the exact form `x Phi(x)` with erf; `'tanh'`: the tanh
   * approximation `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
   */
  readonly approximate?: GeluApproximate;
}

/** @internal Checks a GELU `approximate` option (errors name `op`); returns the activation name. */
function geluActivation(op: string, approximate: unknown = 'none'): 'gelu' | 'geluTanh' {
  return checkOneOf(op, 'approximate', approximate, ['none', 'tanh'] as const) === 'tanh'
    ? 'geluTanh'
    : 'gelu';
}

/**
 * GELU, PyTorch's `F.gelu(x, approximate=...)`. The default (`approximate: 'none'`) is exact:
 * `x/2 (1 + erf(x / sqrt 2))` = `x Phi(x)`, gradient `dy (Phi(x) + x phi(x))`. With
 * `approximate: 'tanh'`:
 *
 * `y = x/2 (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`, gradient
 * `dy (1/2 (1 + tanh(u)) + x/2 (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2))`,
 *
 * evaluated as `x sigmoid(2u)` (the same function) so that large negative x loses no accuracy and
 * large |x| cannot overflow. As PyTorch: `gelu(inf) = inf`, `gelu(-inf) = NaN`, gradient NaN at
 * ±inf. For finite |x| above ~1.8e19, where PyTorch's float32 kernel overflows `x^2` and returns a
 * NaN gradient, the gradient here is the float64 value (1 for x > 0, 0 for x < 0).
 *
 * @throws {ValueError} naming `gelu` for an `approximate` other than `'none'` or `'tanh'`, or an
 *   unknown option.
 * @see https://arxiv.org/abs/1606.08415 (Hendrycks & Gimpel, Gaussian Error Linear Units)
 * @see https://pytorch.org/docs/stable/generated/torch.nn.functional.gelu.html
 * @example
 * ```ts
 * gelu(tensor([1])).toArray(); // [0.8413447]
 * gelu(tensor([1]), { approximate: 'tanh' }).toArray(); // [0.841192]
 * ```
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const o = checkOptions<GeluOptions>('gelu', options);
  checkKnownKeys('gelu', o, ['approximate']);
  return geluActivation('gelu', o.approximate) === 'geluTanh'
    ? activation('geluTanh', 'geluTanhGrad', false, x)
    : activation('gelu', 'geluGrad', false, x);
}

/**
 * SELU `scale (x > 0 ? x : alpha (e^x - 1))` with PyTorch's constants alpha = 1.6732632423543772,
 * scale = 1.0507009873554805. Gradient: `dy scale (x > 0 ? 1 : alpha e^x)`.
 *
 * @see https://arxiv.org/abs/1706.02515 (Klambauer et al., Self-Normalizing Neural Networks)
 * @example
 * ```ts
 * selu(tensor([1])).toArray(); // [1.0507009]
 * ```
 */
export function selu(x: Tensor): Tensor {
  return activation('selu', 'seluGrad', false, x);
}

/**
 * Softplus `log(1 + e^x)` with PyTorch's defaults beta = 1, threshold = 20 (above 20 it returns
 * x). Gradient: `dy sigmoid(x)` (`dy` above the threshold).
 *
 * @example
 * ```ts
 * softplus(tensor([0])).toArray(); // [0.6931472]
 * ```
 */
export function softplus(x: Tensor): Tensor {
  return activation('softplus', 'softplusGrad', false, x);
}

/**
 * ELU with alpha = 1 (PyTorch's default): `x > 0 ? x : e^x - 1`. Gradient: `dy (x > 0 ? 1 : e^x)`.
 *
 * @see https://arxiv.org/abs/1511.07289 (Clevert et al.)
 * @example
 * ```ts
 * elu(tensor([-1, 2])).toArray(); // [-0.6321206, 2]
 * ```
 */
export function elu(x: Tensor): Tensor {
  return activation('elu', 'eluGrad', false, x);
}
