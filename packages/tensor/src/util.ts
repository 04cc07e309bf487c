import type { Device, DeviceArray, Shape } from '@gradkit/kernels';
import { formatShape, shapesEqual } from '@gradkit/kernels';

/** @internal True for a promise or any thenable. */
export function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

/** @internal Disposes every array given (null entries skipped). */
export function disposeAll(...arrays: (DeviceArray | null | undefined)[]): void {
  for (const a of arrays) a?.dispose();
}

/**
 * @internal Sums a gradient `g` (owned; disposed if replaced) over the broadcast dimensions so it
 * has `shape`: leading dimensions are summed away, dimensions where `shape` has 1 are summed with
 * the 1 kept. Returns `g` itself when it already has `shape`.
 */
export function sumTo(g: DeviceArray, shape: Shape): DeviceArray {
  if (shapesEqual(g.shape, shape)) return g;
  const d: Device = g.device;
  const lead = g.rank - shape.length;
  if (lead < 0)
    throw new Error(`sumTo: gradient ${formatShape(g.shape)} has lower rank than ${formatShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < lead; i++) axes.push(i);
  for (let j = 0; j < shape.length; j++) if (shape[j] === 1 && g.shape[lead + j] !== 1) axes.push(lead + j);
  let r = g;
  if (axes.length > 0) {
    r = d.sum(g, axes, true);
    g.dispose();
  }
  if (shapesEqual(r.shape, shape)) return r;
  const v = d.reshape(r, shape);
  r.dispose();
  return v;
}

/** @internal A view of `x` (same storage, its own reference count). */
export function view(x: DeviceArray, shape: Shape = x.shape): DeviceArray {
  return x.device.reshape(x, shape);
}
