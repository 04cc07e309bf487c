// The argument checks of every gradkit package: one module, one message format. Each check throws
// a ValueError (ShapeError for shapes) whose message names the op, the argument, the requirement
// and the value: `Adam: betas[1] must be in [0, 1), got 1`. Re-exported by @gradkit/tensor, so
// every package above it uses the same checks without depending on kernels directly.
import { ValueError } from './errors.js';
import type { Shape } from './shape.js';
import { assertValidShape } from './shape.js';

/** The largest finite float32, `(2 - 2^-23) * 2^127`. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A value as error messages print it: numbers, booleans, bigints, `null` and `undefined` as
 * `String` does (`NaN`, `-1e-8`), strings in double quotes (`"tf"`), arrays and plain objects as
 * JSON (cut at 80 characters), functions as `a function`, other objects by class (`a Tensor`).
 *
 * @example
 * ```ts
 * describeValue(Number.NaN); // 'NaN'
 * describeValue('tf'); // '"tf"'
 * describeValue([0.9]); // '[0.9]'
 * ```
 */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  switch (typeof v) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'string':
      return JSON.stringify(v);
    case 'function':
      return 'a function';
    case 'symbol':
      return v.toString();
    default:
      break;
  }
  const proto = Object.getPrototypeOf(v);
  if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) {
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? 'an array' : 'an object';
  }
  if (json === undefined) return 'an object';
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/**
 * Throws the ValueError every check throws: `<op>: <name> must be <requirement>, got <value>`.
 * Use it for a requirement the named checks do not cover, so that the message keeps the format.
 *
 * @param requirement what the argument must be, e.g. `'a number in [0, 1] or null'`.
 * @throws {ValueError} always.
 * @example
 * ```ts
 * invalidArgument('BatchNorm1d', 'momentum', 'a number in [0, 1] or null', 2);
 * // ValueError: BatchNorm1d: momentum must be a number in [0, 1] or null, got 2
 * ```
 */
export function invalidArgument(op: string, name: string, requirement: string, value: unknown): never {
  throw new ValueError(op, `${name} must be ${requirement}, got ${describeValue(value)}`);
}

/**
 * A finite number (not NaN, not ±Infinity, not a string).
 *
 * @returns `value`, typed as a number.
 * @throws {ValueError} `<op>: <name> must be a finite number, got <value>`.
 * @example
 * ```ts
 * checkFinite('normal', 'mean', 0.5); // 0.5
 * checkFinite('normal', 'mean', Number.NaN); // ValueError: normal: mean must be a finite number, got NaN
 * ```
 */
export function checkFinite(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    invalidArgument(op, name, 'a finite number', value);
  return value;
}

/**
 * A number, NaN and infinities allowed (a fill value, a clamp bound).
 *
 * @throws {ValueError} `<op>: <name> must be a number, got <value>`.
 * @example
 * ```ts
 * checkNumber('full', 'value', Number.NaN); // NaN
 * ```
 */
export function checkNumber(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number') invalidArgument(op, name, 'a number', value);
  return value;
}

/**
 * A finite number `>= 0` (a weight decay, a lambda, a standard deviation).
 *
 * @throws {ValueError} `<name> must be a finite number` when not finite, else
 * `<op>: <name> must be >= 0, got <value>`.
 * @example
 * ```ts
 * checkNonNegative('Adam', 'weightDecay', -0.01); // ValueError: Adam: weightDecay must be >= 0, got -0.01
 * ```
 */
export function checkNonNegative(op: string, name: string, value: unknown): number {
  const x = checkFinite(op, name, value);
  if (!(x >= 0)) invalidArgument(op, name, '>= 0', value);
  return x;
}

/**
 * A finite number `> 0` (an epsilon, a max-norm bound).
 *
 * @throws {ValueError} `<name> must be a finite number` when not finite, else
 * `<op>: <name> must be > 0, got <value>`.
 * @example
 * ```ts
 * checkPositive('Adam', 'eps', 0); // ValueError: Adam: eps must be > 0, got 0
 * ```
 */
export function checkPositive(op: string, name: string, value: unknown): number {
  const x = checkFinite(op, name, value);
  if (!(x > 0)) invalidArgument(op, name, '> 0', value);
  return x;
}

/** Which ends of an interval belong to it (both by default). */
export interface IntervalEnds {
  /** The lower end is allowed (default true). */
  readonly includeLow?: boolean;
  /** The upper end is allowed (default true). */
  readonly includeHigh?: boolean;
}

/**
 * A finite number in an interval, `[low, high]` by default; `ends` opens either end.
 *
 * @throws {ValueError} `<name> must be a finite number` when not finite, else
 * `<op>: <name> must be in [low, high), got <value>` (brackets as given).
 * @example
 * ```ts
 * checkInterval('OneCycle', 'pctStart', 0.3, 0, 1, { includeLow: false, includeHigh: false }); // 0.3
 * checkInterval('OneCycle', 'pctStart', 1, 0, 1, { includeHigh: false });
 * // ValueError: OneCycle: pctStart must be in [0, 1), got 1
 * ```
 */
export function checkInterval(
  op: string,
  name: string,
  value: unknown,
  low: number,
  high: number,
  ends: IntervalEnds = {},
): number {
  const x = checkFinite(op, name, value);
  const lo = ends.includeLow ?? true;
  const hi = ends.includeHigh ?? true;
  if (!((lo ? x >= low : x > low) && (hi ? x <= high : x < high))) {
    invalidArgument(op, name, `in ${lo ? '[' : '('}${low}, ${high}${hi ? ']' : ')'}`, value);
  }
  return x;
}

/**
 * A probability-like value in `[0, 1)`, or `[0, 1]` when `closed` (a beta, a drop probability, a
 * momentum).
 *
 * @param closed accept 1 as well (default false).
 * @throws {ValueError} `<op>: <name> must be in [0, 1), got <value>`.
 * @example
 * ```ts
 * checkUnitInterval('Adam', 'betas[1]', 1); // ValueError: Adam: betas[1] must be in [0, 1), got 1
 * checkUnitInterval('Adadelta', 'rho', 1, true); // 1
 * ```
 */
export function checkUnitInterval(op: string, name: string, value: unknown, closed = false): number {
  return checkInterval(op, name, value, 0, 1, { includeHigh: closed });
}

/**
 * A safe integer `>= min` (default 0): a count, a step, a size.
 *
 * @throws {ValueError} `<op>: <name> must be an integer >= <min>, got <value>`.
 * @example
 * ```ts
 * checkInteger('GroupNorm', 'numGroups', 0, 1); // ValueError: GroupNorm: numGroups must be an integer >= 1, got 0
 * ```
 */
export function checkInteger(op: string, name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    invalidArgument(op, name, `an integer >= ${min}`, value);
  }
  return value;
}

/**
 * A boolean (not a truthy number or string).
 *
 * @throws {ValueError} `<op>: <name> must be a boolean, got <value>`.
 * @example
 * ```ts
 * checkBoolean('Adam', 'amsgrad', 0); // ValueError: Adam: amsgrad must be a boolean, got 0
 * ```
 */
export function checkBoolean(op: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalidArgument(op, name, 'a boolean', value);
  return value;
}

/**
 * One of the strings `allowed`.
 *
 * @throws {ValueError} `<op>: <name> must be one of 'a', 'b', got <value>`.
 * @example
 * ```ts
 * checkOneOf('Adagrad', 'convention', 'tf', ['pytorch', 'keras']);
 * // ValueError: Adagrad: convention must be one of 'pytorch', 'keras', got "tf"
 * ```
 */
export function checkOneOf<T extends string>(
  op: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    invalidArgument(op, name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/**
 * An options object: `undefined` gives `{}`; anything but a plain object (an array, `null`, a
 * number) is an error.
 *
 * @param name how the message names it (default `options`).
 * @throws {ValueError} `<op>: <name> must be an object, got <value>`.
 * @example
 * ```ts
 * checkOptions('l2', undefined); // {}
 * checkOptions('l2', 0.1); // ValueError: l2: options must be an object, got 0.1
 * ```
 */
export function checkOptions<T extends object>(
  op: string,
  value: T | undefined,
  name = 'options',
): T | Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalidArgument(op, name, 'an object', value);
  }
  return value;
}

/**
 * Rejects option names that `op` does not know: a typo such as `weight_decay` would otherwise be
 * ignored silently.
 *
 * @throws {ValueError} `<op>: unknown option 'x' (known: a, b)`.
 * @example
 * ```ts
 * checkKnownKeys('Adam', { weight_decay: 0.1 }, ['lr', 'weightDecay']);
 * // ValueError: Adam: unknown option 'weight_decay' (known: lr, weightDecay)
 * ```
 */
export function checkKnownKeys(op: string, options: object, known: readonly string[]): void {
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new ValueError(
      op,
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ')})`,
    );
  }
}

/**
 * Why a finite number `x` cannot be used by the float32 kernels, or null when it can:
 * `Math.fround(x)` is ±Infinity (`|x|` above {@link FLOAT32_MAX}, about 3.4e38), or, unless
 * `allowUnderflow`, a non-zero `x` rounds to 0 (below about 1.4e-45 in magnitude: a learning rate
 * that silently never updates). The text completes `<name> <value> ...`.
 *
 * @param allowUnderflow accept values that round to 0 (default false).
 * @example
 * ```ts
 * float32Problem(1e300); // 'is not finite in float32 (the largest float32 is 3.4028234663852886e+38)'
 * float32Problem(1e-50); // 'rounds to 0 in float32 (the smallest positive float32 is 1.4e-45): give 0 or a larger rate'
 * float32Problem(0.1); // null
 * ```
 */
export function float32Problem(x: number, allowUnderflow = false): string | null {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return `is not finite in float32 (the largest float32 is ${FLOAT32_MAX})`;
  if (!allowUnderflow && x !== 0 && f === 0) {
    return 'rounds to 0 in float32 (the smallest positive float32 is 1.4e-45): give 0 or a larger rate';
  }
  return null;
}

/**
 * A finite number that stays finite (and, unless `allowUnderflow`, non-zero when non-zero) once
 * the float32 kernels round it: see {@link float32Problem}.
 *
 * @throws {ValueError} `<name> must be a finite number` when not finite, else
 * `<op>: <name> <value> is not finite in float32 (...)` or `... rounds to 0 in float32 (...)`.
 * @example
 * ```ts
 * checkFloat32('SGD', 'lr', 1e300);
 * // ValueError: SGD: lr 1e+300 is not finite in float32 (the largest float32 is 3.4028234663852886e+38)
 * ```
 */
export function checkFloat32(op: string, name: string, value: unknown, allowUnderflow = false): number {
  const x = checkFinite(op, name, value);
  const problem = float32Problem(x, allowUnderflow);
  if (problem) throw new ValueError(op, `${name} ${describeValue(value)} ${problem}`);
  return x;
}

/**
 * A shape: an array of non-negative integers (`[]` is a scalar). Returns a copy, so a caller's
 * array changed later does not change the tensor.
 *
 * @throws {ShapeError} `<op>: shape [2,-1] has a dimension that is not a non-negative integer`
 * (or `shape must be an array of integers` for a non-array).
 * @example
 * ```ts
 * checkShape('zeros', [2, 3]); // [2, 3]
 * checkShape('zeros', [2, 1.5]); // ShapeError: zeros: shape [2,1.5] has a dimension that is not a non-negative integer
 * ```
 */
export function checkShape(op: string, shape: Shape): number[] {
  assertValidShape(op, shape);
  return [...shape];
}
