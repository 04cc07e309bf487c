// Internal: the distributions of the fan-scaled initializers (Xavier, Kaiming, LeCun).
import type { Tensor } from '@gradkit/tensor';
import { ShapeError, ValueError } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import { sample } from './distribution.js';
import { computeFans } from './fans.js';
import { checkShape, finiteNumber, formatShape, upload } from './host.js';
import { TRUNCATED_STD_AT_2 } from './normal-cdf.js';
import type { InitOptions } from './options.js';

/** U(-bound, bound) with bound = sqrt(3) std, written as PyTorch computes it. */
export function uniformFromStd(std: number): Distribution {
  const bound = Math.sqrt(3.0) * std;
  return { kind: 'uniform', low: -bound, high: bound };
}

/**
 * N(0, std^2), or with `truncated` Keras' convention: a normal with standard deviation
 * `std / 0.8796...` cut at two of its standard deviations, whose variance is again std^2.
 */
export function normalFromStd(std: number, truncated: boolean): Distribution {
  if (!truncated) return { kind: 'normal', mean: 0, std };
  const s = std / TRUNCATED_STD_AT_2;
  return { kind: 'truncatedNormal', mean: 0, std: s, a: -2 * s, b: 2 * s };
}

/** Checks an optional boolean option. */
export function checkBoolean(op: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ValueError(op, `${name} must be a boolean, got ${String(value)}`);
  return value;
}

/** Checks a gain: a finite number >= 0. */
export function checkGain(op: string, gain: unknown): number {
  finiteNumber(op, 'gain', gain);
  if ((gain as number) < 0) throw new ValueError(op, `gain must be >= 0, got ${String(gain)}`);
  return gain as number;
}

/** A ShapeError for a zero fan (a weight with an empty dimension), named by `op`. */
export function checkFan(op: string, shape: readonly number[], fan: number, name: string): number {
  if (fan === 0) {
    throw new ShapeError(op, `${name} of shape ${formatShape(shape)} is 0: the scale would be infinite`, [
      shape,
    ]);
  }
  return fan;
}

/**
 * Samples a fan-scaled initializer: checks the shape (rank >= 2), returns an empty tensor for a
 * shape with no elements without drawing (PyTorch's no-op on zero-element tensors), else samples
 * the distribution `make` computes.
 */
export function sampleScaled(
  op: string,
  shape: readonly number[],
  options: InitOptions,
  make: () => Distribution,
): Tensor {
  const size = checkShape(op, shape);
  computeFans(shape);
  if (size === 0) return upload(new Float32Array(0), shape, options);
  return sample(make(), shape, options);
}
