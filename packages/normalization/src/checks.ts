import type { Device, DeviceArray } from '@gradkit/tensor';
import {
  BackendError,
  checkInteger,
  checkNonNegative,
  formatShape,
  invalidArgument,
  ShapeError,
  Tensor,
  ValueError,
} from '@gradkit/tensor';

// Argument checks shared by the layers. Every error names the op or layer that was called.

// The shared shape helpers and boolean check (one message format for every package).
export { checkBoolean, formatShape, sizeOf } from '@gradkit/tensor';

/** @internal Throws a ValueError unless `value` is a finite number >= 0; returns it. */
export function checkEps(op: string, value: unknown): number {
  return checkNonNegative(op, 'eps', value);
}

/** @internal Throws a ValueError unless `value` is null or a number in [0, 1]; returns it. */
export function checkMomentum(op: string, value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    invalidArgument(op, 'momentum', 'a number in [0, 1] or null', value);
  }
  return value;
}

/** @internal Throws a ValueError unless `value` is an integer >= 1; returns it. */
export function checkPositiveInt(op: string, name: string, value: unknown): number {
  return checkInteger(op, name, value, 1);
}

/** @internal A `normalizedShape` given as a number or a list of positive integers, as a list. */
export function normalizeShapeArg(op: string, value: unknown): number[] {
  const list = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    invalidArgument(op, 'normalizedShape', 'an integer >= 1 or a non-empty list of them', value);
  }
  return list.map((s, i) => checkPositiveInt(op, `normalizedShape[${i}]`, s));
}

/**
 * @internal Checks that `x` is a live tensor and that the optional operands are live tensors on
 * its device; returns the device.
 */
export function checkOperands(
  op: string,
  x: unknown,
  others: Readonly<Record<string, Tensor | null | undefined>>,
): Device {
  if (!(x instanceof Tensor)) throw new ValueError(op, `the input must be a Tensor, got ${describe(x)}`);
  const d = x.array.device; // reading .array throws a DisposedError for a disposed tensor
  for (const [name, t] of Object.entries(others)) {
    if (t === null || t === undefined) continue;
    if (!(t instanceof Tensor))
      throw new ValueError(op, `${name} must be a Tensor or null, got ${describe(t)}`);
    if (t.array.device !== d) {
      throw new BackendError(
        d.name,
        `${op}: ${name} is on another device (${t.device.name}) than the input (${d.name})`,
      );
    }
  }
  return d;
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v;
}

/** @internal Throws a ShapeError naming `op` unless `t` (when given) has exactly `shape`. */
export function checkParamShape(
  op: string,
  name: string,
  t: Tensor | null | undefined,
  shape: readonly number[],
  x: Tensor,
): void {
  if (!t) return;
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new ShapeError(
      op,
      `${name} must have shape ${formatShape(shape)} for an input of shape ${formatShape(x.shape)}, got ${formatShape(t.shape)}`,
      [x.shape, t.shape],
    );
  }
}

/** @internal Disposes every array given (null entries skipped, each array once). */
export function disposeAll(...arrays: (DeviceArray | null | undefined)[]): void {
  for (const a of new Set(arrays)) a?.dispose();
}

/** @internal Wraps `ctx.own` so that an array passed twice is owned once. */
export function ownOnce(own: (a: DeviceArray) => DeviceArray): (a: DeviceArray) => DeviceArray {
  const done = new Set<DeviceArray>();
  return (a) => {
    if (!done.has(a)) {
      done.add(a);
      own(a);
    }
    return a;
  };
}
