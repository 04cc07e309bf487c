import type { Schedule } from '@gradkit/tensor';
import { checkNonNegative, checkOptions, checkPositive, invalidArgument } from '@gradkit/tensor';

// The argument checks of the regularizers: the shared checks of @gradkit/tensor (one message
// format in every package: `l2Penalty: lambda must be >= 0, got -1`) plus the learning rate that
// may be a Schedule.

/** @internal A finite number >= 0 (a lambda, a weight decay, a threshold), else a ValueError. */
export const nonNegative: (op: string, name: string, x: unknown) => number = checkNonNegative;

/** @internal A finite number > 0 (a max-norm bound, an epsilon), else a ValueError. */
export const positive: (op: string, name: string, x: unknown) => number = checkPositive;

/** @internal An options object (or undefined, giving `{}`), else a ValueError. */
export const optionsObject = checkOptions;

/** @internal A learning rate: a finite number >= 0 or a {@link Schedule}. */
export function rate(op: string, name: string, x: unknown): number | Schedule {
  if (typeof x === 'function') return x as Schedule;
  if (x === undefined) invalidArgument(op, name, 'a number >= 0 or a Schedule', x);
  return checkNonNegative(op, name, x);
}

/** @internal The value of a rate at optimizer step `count`, checked: `lr(3) must be >= 0, got -1`. */
export function rateAt(op: string, name: string, r: number | Schedule, count: number): number {
  if (typeof r === 'number') return r;
  return checkNonNegative(op, `${name}(${count})`, r(count));
}
