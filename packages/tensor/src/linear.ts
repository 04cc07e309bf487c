import type { DeviceArray } from '@gradkit/kernels';
import { broadcastShapes, formatShape, ShapeError, shapesEqual, ValueError } from '@gradkit/kernels';
import type { Activation } from './activations.js';
import { elu, gelu, leakyRelu, relu, selu, sigmoid, softplus, tanh } from './activations.js';
import { fromOp } from './autograd.js';
import { matmul } from './matmul.js';
import { deviceOf, finite } from './operands.js';
import { BIAS_ACT } from './specs.js';
import type { Tensor } from './tensor.js';
import { sumTo, view } from './util.js';

const ACTIVATIONS: readonly Activation[] = [
  'identity',
  'relu',
  'leakyRelu',
  'sigmoid',
  'tanh',
  'gelu',
  'geluTanh',
  'selu',
  'softplus',
  'elu',
];

function checkActivation(op: string, activation: Activation): void {
  if (!ACTIVATIONS.includes(activation)) {
    throw new ValueError(
      op,
      `unknown activation '${String(activation)}'; expected one of ${ACTIVATIONS.join(', ')}`,
    );
  }
}

/**
 * `activation(x + bias)` in one fused kernel (the bias broadcasts, typically `[C]` against
 * `[N, C]`). The backward pass uses the kernels' fused `activationGrad` kernels: relu, leakyRelu
 * (slope >= 0), sigmoid and tanh from the saved output; gelu, geluTanh, selu, softplus and elu from the
 * pre-activation, recomputed in the backward pass. Gradients: `dz = dy * f'(x + bias)` for x, and
 * `dz` summed over the broadcast dimensions for the bias.
 *
 * @param negativeSlope the slope of `'leakyRelu'` (default 0.01); ignored otherwise.
 * @throws {ShapeError} when the bias does not broadcast to x's shape.
 * @example
 * ```ts
 * biasActivation(tensor([[1, -2]]), tensor([0.5, 0.5]), 'relu').toArray(); // [[1.5, 0]]
 * ```
 */
export function biasActivation(
  x: Tensor,
  bias: Tensor,
  activation: Activation = 'identity',
  negativeSlope = 0.01,
): Tensor {
  const op = 'biasActivation';
  const d = deviceOf(op, x, bias);
  checkActivation(op, activation);
  const params = activation === 'leakyRelu' ? [finite(op, 'negativeSlope', negativeSlope)] : [];
  const out = broadcastShapes(op, x.shape, bias.shape);
  if (!shapesEqual(out, x.shape)) {
    throw new ShapeError(op, `bias ${formatShape(bias.shape)} must broadcast to x ${formatShape(x.shape)}`, [
      x.shape,
      bias.shape,
    ]);
  }
  const y = d.map(BIAS_ACT[activation], [x.array, bias.array], params);
  return fromOp(`biasActivation(${activation})`, y, [x, bias], (ctx, yArr) => {
    const fromOutput =
      activation === 'relu' ||
      activation === 'sigmoid' ||
      activation === 'tanh' ||
      (activation === 'leakyRelu' && negativeSlope >= 0);
    const sy = fromOutput ? ctx.save(yArr) : null;
    const sx = !fromOutput && activation !== 'identity' ? ctx.save(x.array) : null;
    const sb = !fromOutput && activation !== 'identity' ? ctx.save(bias.array) : null;
    return (dy) => {
      let dz: DeviceArray;
      if (activation === 'identity') dz = dy;
      else {
        const pre = sy ?? d.binary('add', sx!, sb!);
        switch (activation) {
          case 'relu':
            dz = d.activationGrad('reluGrad', pre, dy);
            break;
          case 'leakyRelu':
            dz = d.activationGrad('leakyReluGrad', pre, dy, negativeSlope);
            break;
          case 'sigmoid':
            dz = d.activationGrad('sigmoidGrad', pre, dy);
            break;
          case 'tanh':
            dz = d.activationGrad('tanhGrad', pre, dy);
            break;
          case 'gelu':
            dz = d.activationGrad('geluGrad', pre, dy);
            break;
          case 'geluTanh':
            dz = d.activationGrad('geluTanhGrad', pre, dy);
            break;
          case 'selu':
            dz = d.activationGrad('seluGrad', pre, dy);
            break;
          case 'softplus':
            dz = d.activationGrad('softplusGrad', pre, dy);
            break;
          default:
            dz = d.activationGrad('eluGrad', pre, dy);
        }
        if (pre !== sy) pre.dispose();
      }
      const gb = ctx.needs[1] ? sumTo(view(dz), bias.shape) : null;
      if (!ctx.needs[0] && dz !== dy) dz.dispose();
      return [ctx.needs[0] ? dz : null, gb];
    };
  });
}

/** @internal Applies an activation by name (no bias). */
export function applyActivation(x: Tensor, activation: Activation, negativeSlope = 0.01): Tensor {
  switch (activation) {
    case 'identity':
      return x;
    case 'relu':
      return relu(x);
    case 'leakyRelu':
      return leakyRelu(x, negativeSlope);
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return tanh(x);
    case 'gelu':
      return gelu(x);
    case 'geluTanh':
      return gelu(x, { approximate: 'tanh' });
    case 'selu':
      return selu(x);
    case 'softplus':
      return softplus(x);
    case 'elu':
      return elu(x);
    default:
      throw new ValueError('activation', `unknown activation '${String(activation)}'`);
  }
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Activation fused with the bias (default `'identity'`). */
  readonly activation?: Activation;
  /** Slope of `'leakyRelu'` (default 0.01). */
  readonly negativeSlope?: number;
}

/**
 * A dense layer, PyTorch's `F.linear` plus a fused activation: `activation(x W^T + b)` for x
 * `[N, in]`, weight `[out, in]`, bias `[out]` (optional). The product reads W transposed in place
 * (`matmul(x, W, { transB: true })`, no transposed copy); bias and activation run as one kernel.
 * The matmul result is an internal intermediate owned by the returned tensor (disposed with it).
 *
 * @throws {ShapeError} naming `linear` when x is not 2-D, W is not `[out, in]` or b is not `[out]`.
 * @example
 * ```ts
 * const y = linear(x, w, b, { activation: 'relu' }); // relu(x w^T + b)
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, options: LinearOptions = {}): Tensor {
  const op = 'linear';
  const { activation = 'identity', negativeSlope = 0.01 } = options;
  const tensors = bias ? [x, weight, bias] : [x, weight];
  deviceOf(op, ...tensors);
  checkActivation(op, activation);
  if (x.rank !== 2 || weight.rank !== 2 || x.shape[1] !== weight.shape[1]) {
    throw new ShapeError(
      op,
      `expects x [N, in] and weight [out, in], got x ${formatShape(x.shape)} and weight ${formatShape(weight.shape)}`,
      [x.shape, weight.shape],
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new ShapeError(op, `bias must have shape [${weight.shape[0]}], got ${formatShape(bias.shape)}`, [
      weight.shape,
      bias.shape,
    ]);
  }
  const z = matmul(x, weight, { transB: true });
  if (!bias && activation === 'identity') return z;
  const y = bias
    ? biasActivation(z, bias, activation, negativeSlope)
    : applyActivation(z, activation, negativeSlope);
  y._adopt(z);
  return y;
}
