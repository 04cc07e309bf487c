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
