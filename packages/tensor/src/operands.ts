import type { Device, DeviceArray } from '@gradkit/kernels';
import { BackendError, formatShape, getDevice, ShapeError, ValueError } from '@gradkit/kernels';
import { Tensor } from './tensor.js';

/** @internal The device for new tensors: the option, else the kernels' shared default device. */
export function defaultDevice(device?: Device): Device {
  return device ?? getDevice();
}

/** @internal Checks that `t` is a live Tensor and returns its array; errors name `op`. */
export function arrayOf(op: string, t: unknown, name = 'input'): DeviceArray {
  if (!(t instanceof Tensor)) {
    throw new ValueError(op, `${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  return t._arrayFor(op);
}

/** @internal Checks that every tensor is live and on one device, and returns it. */
export function deviceOf(op: string, ...tensors: Tensor[]): Device {
  const d = tensors[0].device;
  for (const t of tensors) {
    arrayOf(op, t);
    if (t.device !== d) {
      throw new BackendError(
        d.name,
        `${op}: operands are on different devices (${d.name} and ${t.device.name})`,
      );
    }
  }
  return d;
}

/** @internal Throws a ValueError unless `x` is a finite number. */
export function finite(op: string, name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x))
    throw new ValueError(op, `${name} must be a finite number, got ${String(x)}`);
  return x;
}

/** @internal Throws a ValueError unless `x` is a number (NaN and infinities allowed). */
export function numeric(op: string, name: string, x: unknown): number {
  if (typeof x !== 'number') throw new ValueError(op, `${name} must be a number, got ${typeof x}`);
  return x;
}

/** Class labels: a tensor of integer-valued floats, or host integers. */
export type Labels = Tensor | readonly number[] | Int32Array;

/**
 * @internal Host labels checked to be integers in [0, depth) and uploaded (`[n]`), or a Tensor's
 * array (not checked: that would need a read-back). `owned` says whether the caller must dispose it.
 */
export function labelsArray(
  op: string,
  labels: Labels,
  depth: number,
  device: Device,
  expectedShape?: readonly number[],
): { array: DeviceArray; owned: boolean } {
  if (labels instanceof Tensor) {
    const a = arrayOf(op, labels, 'labels');
    if (labels.device !== device) throw new BackendError(device.name, `${op}: labels are on another device`);
    if (expectedShape && formatShape(labels.shape) !== formatShape(expectedShape)) {
      throw new ShapeError(
        op,
        `labels have shape ${formatShape(labels.shape)}, expected ${formatShape(expectedShape)}`,
        [labels.shape, expectedShape],
      );
    }
    return { array: a, owned: false };
  }
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new ValueError(op, 'labels must be a Tensor, an array of integers or an Int32Array');
  }
  const n = labels.length;
  if (expectedShape && (expectedShape.length !== 1 || expectedShape[0] !== n)) {
    throw new ShapeError(op, `got ${n} labels, expected shape ${formatShape(expectedShape)}`, [
      [n],
      expectedShape,
    ]);
  }
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= depth) {
      throw new ValueError(op, `label ${i} is ${String(v)}; labels must be integers in [0, ${depth})`);
    }
    values[i] = v;
  }
  return { array: device.array(values, [n]), owned: true };
}
