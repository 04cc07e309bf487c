import type { Device } from '@gradkit/kernels';
import { checkShape, formatShape, ShapeError, sizeOf, ValueError } from '@gradkit/kernels';
import { arrayOf, defaultDevice, finite } from './operands.js';
import type { TensorLike } from './tensor.js';
import { Tensor } from './tensor.js';

/** Options of the creation functions. */
export interface TensorOptions {
  /** Make the tensor a leaf that collects gradients (default false). */
  readonly requiresGrad?: boolean;
  /** The device to create it on (default: `getDevice()` of `@gradkit/kernels`, which honours `GRADKIT_BACKEND`). */
  readonly device?: Device;
}

/** Flattens nested arrays, inferring and checking the (rectangular) shape. */
function flattenNested(values: readonly unknown[]): { flat: number[]; shape: number[] } {
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') {
        throw new ValueError(
          'tensor',
          `element ${path || '[]'} is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number`,
        );
      }
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new ShapeError(
        'tensor',
        `ragged nested array: ${path || 'the value'} should have ${shape[depth]} elements (shape ${formatShape(shape)}), got ${Array.isArray(v) ? v.length : typeof v}`,
      );
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(values, 0, '');
  return { flat, shape };
}

/**
 * Creates a tensor from values: a number (a scalar, shape `[]`), nested arrays (shape inferred),
 * or a flat array / typed array (shape `[length]` unless `shape` is given). With `shape`, the
 * values are laid out row-major and their count must match. Values are stored as float32.
 *
 * @throws {ShapeError} for ragged nested arrays or a shape whose size differs from the count.
 * @example
 * ```ts
 * tensor([[1, 2], [3, 4]]).shape; // [2, 2]
 * tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * tensor(3).shape; // []
 * const w = tensor([0.5, -0.5], undefined, { requiresGrad: true });
 * ```
 */
export function tensor(values: TensorLike, shape?: readonly number[], options: TensorOptions = {}): Tensor {
  const op = 'tensor';
  const device = defaultDevice(options.device);
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof values === 'number') {
    flat = [values];
    inferred = [];
  } else if (Array.isArray(values)) {
    const r = flattenNested(values);
    flat = r.flat;
    inferred = r.shape;
  } else if (
    values !== null &&
    typeof values === 'object' &&
    typeof (values as ArrayLike<number>).length === 'number'
  ) {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  } else {
    throw new ValueError(op, `cannot create a tensor from ${values === null ? 'null' : typeof values}`);
  }
  let s = inferred;
  if (shape !== undefined) {
    s = checkShape(op, shape);
    if (sizeOf(s) !== flat.length) {
      throw new ShapeError(op, `${flat.length} values do not fill shape ${formatShape(s)}`, [inferred, s]);
    }
  }
  return new Tensor(device.array(flat instanceof Float32Array ? flat : Float32Array.from(flat), s), {
    requiresGrad: options.requiresGrad,
  });
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * ```ts
 * full([2, 2], 7).toArray(); // [[7, 7], [7, 7]]
 * ```
 */
export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  const s = checkShape('full', shape);
  if (typeof value !== 'number') throw new ValueError('full', `value must be a number, got ${typeof value}`);
  return new Tensor(defaultDevice(options.device).full(s, value), { requiresGrad: options.requiresGrad });
}

/**
 * A tensor of zeros.
 *
 * @example
 * ```ts
 * zeros([2, 3]).shape; // [2, 3]
 * ```
 */
export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

/**
 * A tensor of ones.
 *
 * @example
 * ```ts
 * ones([3]).toArray(); // [1, 1, 1]
 * ```
 */
export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/**
 * Zeros with the shape (and, unless given, the device) of `t`.
 *
 * @example
 * ```ts
 * zerosLike(w).shape; // w.shape
 * ```
 */
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  arrayOf('zerosLike', t);
  return full(t.shape, 0, { ...options, device: options.device ?? t.device });
}

/**
 * Ones with the shape (and, unless given, the device) of `t`.
 *
 * @example
 * ```ts
 * onesLike(w).shape; // w.shape
 * ```
 */
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  arrayOf('onesLike', t);
  return full(t.shape, 1, { ...options, device: options.device ?? t.device });
}

/**
 * Evenly spaced values in `[start, end)`: `start + i * step` for `i = 0 .. ceil((end - start) / step) - 1`,
 * as PyTorch's `arange`. With one argument it is the end (`arange(n)` is `0 .. n-1`). Values are
 * computed in float64 and stored as float32.
 *
 * @throws {ValueError} for a zero step or a step pointing away from `end`.
 * @example
 * ```ts
 * arange(4).toArray(); // [0, 1, 2, 3]
 * arange(1, 2, 0.25).toArray(); // [1, 1.25, 1.5, 1.75]
 * ```
 */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const op = 'arange';
  let lo = start;
  let hi = end;
  if (hi === undefined) {
    hi = lo;
    lo = 0;
  }
  finite(op, 'start', lo);
  finite(op, 'end', hi);
  finite(op, 'step', step);
  if (step === 0) throw new ValueError(op, 'step must not be zero');
  if ((hi - lo) * step < 0) throw new ValueError(op, `step ${step} does not lead from ${lo} to ${hi}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = lo + i * step;
  return new Tensor(defaultDevice(options.device).array(values, [n]), { requiresGrad: options.requiresGrad });
}
