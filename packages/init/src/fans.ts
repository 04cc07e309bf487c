import { ShapeError, ValueError } from '@gradkit/tensor';
import { checkShape, formatShape } from './host.js';

/** Fan-in and fan-out of a weight shape (see {@link computeFans}). */
export interface Fans {
  /** `shape[1] * receptiveField`: the inputs that feed one output unit. */
  readonly fanIn: number;
  /** `shape[0] * receptiveField`: the outputs one input unit feeds. */
  readonly fanOut: number;
}

/** Which fan scales an initializer: PyTorch's `mode='fan_in'` / `'fan_out'`. */
export type FanMode = 'fanIn' | 'fanOut';

/**
 * Fan-in and fan-out of a weight of `shape`, exactly as PyTorch's
 * `torch.nn.init._calculate_fan_in_and_fan_out`: for a linear weight `[out, in]`,
 * `fanIn = in`, `fanOut = out`; for a convolution weight `[out, in, ...kernel]` (PyTorch's layout),
 * `fanIn = in * prod(kernel)` and `fanOut = out * prod(kernel)`.
 *
 * Keras lays convolution kernels out as `[...kernel, in, out]` and so reads the fans from the
 * last two axes; gradkit uses PyTorch's layout everywhere.
 *
 * @throws {ShapeError} for fewer than 2 dimensions (PyTorch: "Fan in and fan out can not be
 *   computed for tensor with fewer than 2 dimensions").
 * @see X. Glorot and Y. Bengio, "Understanding the difficulty of training deep feedforward neural
 *   networks", AISTATS 2010.
 * @example
 * ```ts
 * computeFans([128, 64]); // { fanIn: 64, fanOut: 128 }
 * computeFans([16, 3, 3, 3]); // { fanIn: 27, fanOut: 144 }
 * ```
 */
export function computeFans(shape: readonly number[]): Fans {
  const op = 'computeFans';
  checkShape(op, shape);
  if (shape.length < 2) {
    throw new ShapeError(
      op,
      `fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got shape ${formatShape(shape)}`,
      [shape],
    );
  }
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** @internal Checks a fan mode named by `op`. */
export function checkFanMode(op: string, mode: unknown): FanMode {
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    throw new ValueError(op, `mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  }
  return mode;
}

/**
 * The fan that `mode` selects for a weight of `shape` (PyTorch's `_calculate_correct_fan`).
 *
 * @throws {ShapeError} for fewer than 2 dimensions; {@link ValueError} for an unknown mode.
 * @see K. He et al., "Delving deep into rectifiers", ICCV 2015 (the fan-in / fan-out modes).
 * @example
 * ```ts
 * fanOf([128, 64], 'fanOut'); // 128
 * ```
 */
export function fanOf(shape: readonly number[], mode: FanMode): number {
  checkFanMode('fanOf', mode);
  const { fanIn, fanOut } = computeFans(shape);
  return mode === 'fanIn' ? fanIn : fanOut;
}
