import type { Device, DeviceArray } from '@gradkit/kernels';
import {
  BackendError,
  DisposedError,
  formatShape,
  getDevice,
  invalidArgument,
  ShapeError,
  ValueError,
} from '@gradkit/kernels';
import { Tensor } from './tensor.js';

/** @internal The device for new tensors: the option, else the kernels' shared default device. */
export function defaultDevice(device?: Device): Device {
  return device ?? getDevice();
}

/**
 * Checks that `value` is a live {@link Tensor} (not disposed) and returns it: the check every
 * package's functions run on their tensor arguments, with the message format of the shared
 * argument checks.
 *
 * @param name how the message names the argument (default `input`).
 * @throws {ValueError} `<op>: <name> must be a Tensor, got <value>`.
 * @throws {DisposedError} `<op>: the <name> tensor was disposed`.
 * @example
 * ```ts
 * checkTensor('dropout', x); // x
 * checkTensor('dropout', [1, 2]); // ValueError: dropout: input must be a Tensor, got [1,2]
 * ```
 */
export function checkTensor(op: string, value: unknown, name = 'input'): Tensor {
  if (!(value instanceof Tensor)) invalidArgument(op, name, 'a Tensor', value);
  if (value.isDisposed) throw new DisposedError(op, `the ${name} tensor was disposed`);
  return value;
}

/** @internal Checks that `t` is a live Tensor and returns its array; errors name `op`. */
export function arrayOf(op: string, t: unknown, name = 'input'): DeviceArray {
  if (!(t instanceof Tensor)) invalidArgument(op, name, 'a Tensor', t);
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

// The shared checks of @gradkit/kernels under the names the op files use.
export { checkFinite as finite, checkNumber as numeric } from '@gradkit/kernels';

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
