// Argument checks shared by the schedules (internal: not exported from the barrel).
import { ValueError } from '@gradkit/tensor';
import { float32RateProblem } from '../validate.js';

/** A value as it should appear in an error message. */
export function show(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  if (typeof value === 'string') return `'${value}'`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function fail(op: string, name: string, requirement: string, value: unknown): never {
  throw new ValueError(op, `${name} must be ${requirement}, got ${show(value)}`);
}

/** `value` as a finite number, or a {@link ValueError} naming `op` and `name`. */
export function finite(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(op, name, 'a finite number', value);
  return value;
}

/** A finite number `>= 0`. */
export function nonNegative(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(op, name, 'a finite number >= 0', value);
  }
  return value;
}

/**
 * A learning rate given as an option: a finite number `>= 0` that float32 kernels can use
 * (`Math.fround(value)` finite, and a positive rate that does not round to 0).
 */
export function learningRate(op: string, name: string, value: unknown): number {
  const x = nonNegative(op, name, value);
  const problem = float32RateProblem(x);
  if (problem) throw new ValueError(op, `${name} ${show(value)} ${problem}`);
  return x;
}

/** A finite number `> 0`. */
export function positive(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(op, name, 'a finite number > 0', value);
  }
  return value;
}

/** An integer `>= 1`. */
export function positiveInteger(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail(op, name, 'an integer >= 1', value);
  }
  return value;
}

/** An integer `>= 0`. */
export function nonNegativeInteger(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(op, name, 'an integer >= 0', value);
  }
  return value;
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
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (includeLo ? value >= lo : value > lo) &&
    (includeHi ? value <= hi : value < hi);
  if (!ok) fail(op, name, `in ${includeLo ? '[' : '('}${lo}, ${hi}${includeHi ? ']' : ')'}`, value);
  return value as number;
}

/** One of `choices`. */
export function oneOf<T extends string>(op: string, name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    fail(op, name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
  }
  return value as T;
}

/** A step: an integer `>= 0` (thrown from inside the schedule when it is called with another). */
export function checkStep(op: string, step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) fail(op, 'step', 'an integer >= 0', step);
}
