// Argument checks of the schedules (internal: not exported from the barrel): the shared checks of
// @gradkit/tensor (one message format in every package: `stepSchedule: gamma must be > 0, got 0`)
// under the names used here.
import { checkInteger, checkInterval, invalidArgument } from '@gradkit/tensor';

export {
  checkFinite as finite,
  checkNonNegative as nonNegative,
  checkOneOf as oneOf,
  checkPositive as positive,
  describeValue as show,
} from '@gradkit/tensor';
export { learningRate } from '../validate.js';

/** An integer `>= 1`. */
export function positiveInteger(op: string, name: string, value: unknown): number {
  return checkInteger(op, name, value, 1);
}

/** An integer `>= 0`. */
export function nonNegativeInteger(op: string, name: string, value: unknown): number {
  return checkInteger(op, name, value, 0);
}

/** A finite number in the interval given by `lo`, `hi` and whether each end is included. */
export function inInterval(
  op: string,
  name: string,
  value: unknown,
  lo: number,
  hi: number,
  includeLo: boolean,
  includeHi: boolean,
): number {
  return checkInterval(op, name, value, lo, hi, { includeLow: includeLo, includeHigh: includeHi });
}

/** A step: an integer `>= 0` (thrown from inside the schedule when it is called with another). */
export function checkStep(op: string, step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) invalidArgument(op, 'step', 'an integer >= 0', step);
}
