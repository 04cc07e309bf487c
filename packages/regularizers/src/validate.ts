import type { Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';

// Argument checks shared by every export. Messages name the function, the argument and the value.

function show(x: unknown): string {
  if (typeof x === 'number') return String(x);
  if (typeof x === 'string') return JSON.stringify(x);
  if (x === null) return 'null';
  if (typeof x === 'function') return 'a function';
  return typeof x;
}

/** @internal A finite number >= 0 (a lambda, a weight decay, a threshold), else a ValueError. */
export function nonNegative(op: string, name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new ValueError(op, `${name} must be a finite number >= 0, got ${show(x)}`);
  }
  return x;
}

/** @internal A finite number > 0 (a max-norm bound, an epsilon), else a ValueError. */
export function positive(op: string, name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) {
    throw new ValueError(op, `${name} must be a finite number > 0, got ${show(x)}`);
  }
  return x;
}

/** @internal A learning rate: a finite number >= 0 or a {@link Schedule}. */
export function rate(op: string, name: string, x: unknown): number | Schedule {
  if (typeof x === 'function') return x as Schedule;
  if (x === undefined) {
    throw new ValueError(op, `${name} is required (a number >= 0 or a Schedule), got undefined`);
  }
  return nonNegative(op, name, x);
}

/** @internal The value of a rate at optimizer step `count`, checked. */
export function rateAt(op: string, name: string, r: number | Schedule, count: number): number {
  if (typeof r === 'number') return r;
  const v = r(count);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ValueError(op, `${name}(${count}) must be a finite number >= 0, got ${show(v)}`);
  }
  return v;
}

/** @internal An options object (or undefined), else a ValueError. */
export function optionsObject<T extends object>(
  op: string,
  x: T | undefined,
  name = 'options',
): T | Partial<T> {
  if (x === undefined) return {};
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    throw new ValueError(op, `${name} must be an object, got ${show(x)}`);
  }
  return x;
}
