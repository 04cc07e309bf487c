// Internal helpers shared by the initializers (not exported from the barrel).
import type { Rng } from '@gradkit/tensor';
import {
  checkShape as checkTensorShape,
  DisposedError,
  getDevice,
  getRng,
  noGrad,
  sizeOf,
  Tensor,
  ValueError,
} from '@gradkit/tensor';
import type { FillOptions, InitOptions } from './options.js';

// The shared shape helper of @gradkit/tensor, as the kernels' error messages write shapes: `[2,3]`.
export { formatShape } from '@gradkit/tensor';

/** Checks a shape (an array of non-negative integers; the shared check) and returns its size. */
export function checkShape(op: string, shape: readonly number[]): number {
  return sizeOf(checkTensorShape(op, shape));
}

/** The generator of the options, else tensor's global one. */
export function rngOf(options: { readonly rng?: Rng }): Rng {
  return options.rng ?? getRng();
}

/** Throws a ValueError unless `x` is a finite number (the shared check); returns it. */
export { checkFinite as finiteNumber } from '@gradkit/tensor';

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
