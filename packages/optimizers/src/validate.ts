import { ValueError } from '@gradkit/tensor';

// Argument checks shared by every transformation and optimizer. Each throws a ValueError whose
// message names the optimizer (or transformation), the argument and the value:
// `Adam: betas[1] must be in [0, 1), got 1`.

const show = (v: unknown): string =>
  typeof v === 'number' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? String(v));

function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueError(op, `${name} must be a finite number, got ${show(v)}`);
  }
  return v;
}

/**
 * `v >= 0` and finite.
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function nonNegative(op: string, name: string, v: unknown): number {
  const x = finite(op, name, v);
  if (!(x >= 0)) throw new ValueError(op, `${name} must be >= 0, got ${show(v)}`);
  return x;
}

/** The largest finite float32, `(2 - 2^-23) * 2^127`. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Why a finite, non-negative learning rate `x` cannot be used by float32 kernels, or null when it
 * can: `Math.fround(x)` is Infinity (`x` above the largest float32, about 3.4e38), or, unless
 * `allowUnderflow`, `x > 0` rounds to 0 (below about 1.4e-45: a rate that silently never updates).
 *
 * @internal
 */
export function float32RateProblem(x: number, allowUnderflow = false): string | null {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return `is not finite in float32 (the largest float32 is ${FLOAT32_MAX})`;
  if (!allowUnderflow && x > 0 && f === 0) {
    return 'rounds to 0 in float32 (the smallest positive float32 is 1.4e-45): give 0 or a larger rate';
  }
  return null;
}

/**
 * A learning rate given as an option: finite, `>= 0`, and usable by the float32 kernels:
 * `Math.fround(v)` finite (`1e300` is an error, not a step that writes Infinity into every
 * weight) and a positive rate that does not round to 0 (`1e-50` is an error, not a rate that
 * silently never updates).
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function learningRate(op: string, name: string, v: unknown): number {
  const x = nonNegative(op, name, v);
  const problem = float32RateProblem(x);
  if (problem) throw new ValueError(op, `${name} ${show(v)} ${problem}`);
  return x;
}

/**
 * A learning rate set while training (`setLr`, a schedule's value): finite, `>= 0` and finite in
 * float32, as {@link learningRate}; a positive rate below the smallest float32 is returned as 0,
 * the rate float32 kernels compute with (a decaying schedule may legitimately get there).
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function runtimeLearningRate(op: string, name: string, v: unknown): number {
  const x = nonNegative(op, name, v);
  const problem = float32RateProblem(x, true);
  if (problem) throw new ValueError(op, `${name} ${show(v)} ${problem}`);
  return Math.fround(x) === 0 ? 0 : x;
}

/**
 * `v > 0` and finite.
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function positive(op: string, name: string, v: unknown): number {
  const x = finite(op, name, v);
  if (!(x > 0)) throw new ValueError(op, `${name} must be > 0, got ${show(v)}`);
  return x;
}

/**
 * `0 <= v < 1` (or `<= 1` when `closed`).
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function unitInterval(op: string, name: string, v: unknown, closed = false): number {
  const x = finite(op, name, v);
  if (!(x >= 0 && (closed ? x <= 1 : x < 1))) {
    throw new ValueError(op, `${name} must be in [0, 1${closed ? ']' : ')'}, got ${show(v)}`);
  }
  return x;
}

/**
 * Any finite number.
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function finiteNumber(op: string, name: string, v: unknown): number {
  return finite(op, name, v);
}

/**
 * A boolean.
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function bool(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValueError(op, `${name} must be a boolean, got ${show(v)}`);
  return v;
}

/**
 * A pair `[beta1, beta2]` with both in [0, 1).
 *
 * @internal
 * @throws {ValueError} naming `op`, the index and the value.
 */
export function betaPair(op: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new ValueError(op, `betas must be a pair [beta1, beta2], got ${show(v)}`);
  }
  return [unitInterval(op, 'betas[0]', v[0]), unitInterval(op, 'betas[1]', v[1])];
}

/**
 * One of `allowed`.
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function oneOf<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ValueError(
      op,
      `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}`,
    );
  }
  return v as T;
}

/**
 * Rejects option names the optimizer does not know (a typo such as `weight_decay` would otherwise
 * be ignored silently).
 *
 * @internal
 * @throws {ValueError} naming `op` and the unknown options.
 */
export function knownKeys(op: string, options: object, known: readonly string[]): void {
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new ValueError(
      op,
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ')})`,
    );
  }
}
