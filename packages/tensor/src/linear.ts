import type { ActivationGradOp, DeviceArray } from '@gradkit/kernels';
import {
  ACTIVATION_GRAD,
  broadcastShapes,
  formatShape,
  ShapeError,
  shapesEqual,
  UNARY,
  ValueError,
} from '@gradkit/kernels';
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

/** The fused `dy * f'(.)` kernel of each activation (identity has none). */
const ACTIVATION_GRADS: Readonly<Record<Exclude<Activation, 'identity'>, ActivationGradOp>> = {
  relu: 'reluGrad',
  leakyRelu: 'leakyReluGrad',
  sigmoid: 'sigmoidGrad',
  tanh: 'tanhGrad',
  gelu: 'geluGrad',
  geluTanh: 'geluTanhGrad',
  selu: 'seluGrad',
  softplus: 'softplusGrad',
  elu: 'eluGrad',
};

/** Whether {@link biasActivation}'s backward reads the saved output (else the pre-activation). */
function gradFromOutput(activation: Activation, negativeSlope: number): boolean {
  return (
    activation === 'relu' ||
    activation === 'sigmoid' ||
    activation === 'tanh' ||
    (activation === 'leakyRelu' && negativeSlope >= 0)
  );
}

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
    const fromOutput = gradFromOutput(activation, negativeSlope);
    const sy = fromOutput ? ctx.save(yArr) : null;
    const sx = !fromOutput && activation !== 'identity' ? ctx.save(x.array) : null;
    const sb = !fromOutput && activation !== 'identity' ? ctx.save(bias.array) : null;
    return (dy) => {
      let dz: DeviceArray;
      if (activation === 'identity') dz = dy;
      else {
        const pre = sy ?? d.binary('add', sx!, sb!);
        dz = d.activationGrad(ACTIVATION_GRADS[activation], pre, dy, ...params);
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
 * (`matmul(x, W, { transB: true })`, no transposed copy). Where the backward pass needs only the
 * output (a bias with no activation, relu, sigmoid, tanh, leakyRelu with a slope >= 0; without a
 * bias sigmoid and tanh), bias and activation run as the matmul's epilogue
 * (`Device.matmulMap`: on gl no separate kernel, no product array); otherwise, as
 * {@link biasActivation}, one kernel after the matmul, whose result is an internal intermediate
 * owned by the returned tensor (disposed with it). Values and gradients are the same either way,
 * bit for bit.
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
  if (
    bias
      ? activation === 'identity' || gradFromOutput(activation, negativeSlope)
      : activation === 'sigmoid' || activation === 'tanh'
  )
    return linearFused(x, weight, bias ?? null, activation, negativeSlope);
  const z = matmul(x, weight, { transB: true });
  if (!bias && activation === 'identity') return z;
  const y = bias
    ? biasActivation(z, bias, activation, negativeSlope)
    : applyActivation(z, activation, negativeSlope);
  y._adopt(z);
  return y;
}

/**
 * `linear` as one matmul with the bias and activation as its epilogue (`Device.matmulMap`), for
 * the activations whose backward reads the output. The backward pass is one `Device.linearGrad`:
 * `dz = activationGrad(y, dy)`, `dx = dz W`, `dW = dz^T x`, `db = sum of dz over the rows`, equal
 * bit for bit to the kernels that {@link biasActivation} (or sigmoid/tanh) and {@link matmul}
 * would run (on gl, `dz` is computed inside the pack passes of the two products).
 */
function linearFused(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  activation: Activation,
  negativeSlope: number,
): Tensor {
  const d = x.device;
  const params = activation === 'leakyRelu' ? [finite('linear', 'negativeSlope', negativeSlope)] : [];
  const spec = bias ? BIAS_ACT[activation] : UNARY[activation as 'sigmoid' | 'tanh'];
  const operands = bias ? [bias.array] : [];
  const y = d.matmulMap(x.array, weight.array, { spec, operands, params }, { transB: true });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return fromOp(`linear(${activation})`, y, inputs, (ctx, yArr) => {
    const sy = activation !== 'identity' ? ctx.save(yArr) : null;
    const sx = ctx.needs[1] ? ctx.save(x.array) : null;
    const sw = ctx.needs[0] ? ctx.save(weight.array) : null;
    return (dy) => {
      // dz = f'(y) dy, dx = dz W, dW = dz^T x, db = sum of dz over the rows, as one device op
      // (on gl dz is computed in the passes that pack it and never stored)
      const dz =
        activation === 'identity'
          ? dy
          : { spec: ACTIVATION_GRAD[ACTIVATION_GRADS[activation]], inputs: [sy!, dy], params };
      const { dx, dw, db } = d.linearGrad(dz, { x: sx, weight: sw, bias: bias !== null && ctx.needs[2] });
      return bias ? [dx, dw, db] : [dx, dw];
    };
  });
}
