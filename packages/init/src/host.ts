// Internal helpers shared by the initializers (not exported from the barrel).
import type { Rng } from '@gradkit/tensor';
import { DisposedError, getDevice, getRng, noGrad, ShapeError, Tensor, ValueError } from '@gradkit/tensor';
import type { FillOptions, InitOptions } from './options.js';

/** `[2,3]`, as the kernels' error messages write shapes. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Checks a shape (an array of non-negative integers) and returns its size. */
export function checkShape(op: string, shape: readonly number[]): number {
  if (!Array.isArray(shape)) {
    throw new ShapeError(op, `shape must be an array of integers, got ${String(shape)}`);
  }
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(
        op,
        `shape ${formatShape(shape)} has a dimension that is not a non-negative integer`,
        [shape],
      );
    }
    size *= d;
  }
  return size;
}

/** The generator of the options, else tensor's global one. */
export function rngOf(options: { readonly rng?: Rng }): Rng {
  return options.rng ?? getRng();
}

/** Throws a ValueError unless `x` is a finite number; returns it. */
export function finiteNumber(op: string, name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new ValueError(op, `${name} must be a finite number, got ${String(x)}`);
  }
  return x;
}

/** Uploads host values as a new tensor of `shape` on the options' device (one upload). */
export function upload(values: Float32Array, shape: readonly number[], options: InitOptions): Tensor {
  const device = options.device ?? getDevice();
  return new Tensor(device.array(values, [...shape]), { requiresGrad: options.requiresGrad === true });
}

/**
 * Replaces the values of `target` (a live tensor or Parameter) with those of
 * `make(target.shape, { rng, device: target.device })`, keeping its identity, device and
 * `requiresGrad`; not recorded by autograd. Returns `target`.
 */
export function fillInPlace<T extends Tensor>(
  op: string,
  target: T,
  make: (shape: readonly number[], options: InitOptions) => Tensor,
  options: FillOptions,
): T {
  if (!(target instanceof Tensor)) {
    const got = target === null ? 'null' : typeof target;
    throw new ValueError(op, `expected a Tensor or Parameter to fill, got ${got}`);
  }
  if (target.isDisposed) throw new DisposedError(op, 'the tensor to fill was disposed');
  const fresh = make(target.shape, { rng: options.rng, device: target.device });
  try {
    noGrad(() => target.assign(fresh));
  } finally {
    fresh.dispose();
  }
  return target;
}
