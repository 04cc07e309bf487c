import { ValueError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf } from './operands.js';
import { S } from './specs.js';
import type { Tensor } from './tensor.js';

/**
 * Element-wise `e^x`. Gradient: `dy * e^x` (the saved output).
 *
 * @example
 * ```ts
 * exp(tensor([0, 1])).toArray(); // [1, 2.7182817]
 * ```
 */
export function exp(x: Tensor): Tensor {
  const d = deviceOf('exp', x);
  return fromOp('exp', d.unary('exp', x.array), [x], (ctx, y) => {
    const sy = ctx.save(y);
    return (dy) => [d.binary('mul', dy, sy)];
  });
}

/**
 * Element-wise natural logarithm (NaN below 0, -Infinity at 0). Gradient: `dy / x`.
 *
 * @example
 * ```ts
 * log(tensor([1, Math.E])).toArray(); // [0, 1]
 * ```
 */
export function log(x: Tensor): Tensor {
  const d = deviceOf('log', x);
  return fromOp('log', d.unary('log', x.array), [x], (ctx) => {
    const sx = ctx.save(x.array);
    return (dy) => [d.binary('div', dy, sx)];
  });
}

/**
 * Element-wise square root. Gradient: `dy / (2 sqrt(x))` (from the saved output, as PyTorch).
 *
 * @example
 * ```ts
 * sqrt(tensor([4, 9])).toArray(); // [2, 3]
 * ```
 */
export function sqrt(x: Tensor): Tensor {
  const d = deviceOf('sqrt', x);
  return fromOp('sqrt', d.unary('sqrt', x.array), [x], (ctx, y) => {
    const sy = ctx.save(y);
    return (dy) => [d.map(S.sqrtGrad, [sy, dy])];
  });
}

/**
 * Element-wise absolute value. Gradient: `dy * sign(x)`, 0 at x = 0 (PyTorch).
 *
 * @example
 * ```ts
 * abs(tensor([-2, 3])).toArray(); // [2, 3]
 * ```
 */
export function abs(x: Tensor): Tensor {
  const d = deviceOf('abs', x);
  return fromOp('abs', d.unary('abs', x.array), [x], (ctx) => {
    const sx = ctx.save(x.array);
    return (dy) => [d.map(S.absGrad, [sx, dy])];
  });
}

/**
 * Element-wise square `x^2`. Gradient: `2 x dy`.
 *
 * @example
 * ```ts
 * square(tensor([-2, 3])).toArray(); // [4, 9]
 * ```
 */
export function square(x: Tensor): Tensor {
  const d = deviceOf('square', x);
  return fromOp('square', d.unary('square', x.array), [x], (ctx) => {
    const sx = ctx.save(x.array);
    return (dy) => [d.map(S.squareGrad, [sx, dy])];
  });
}

const FLT_MAX = 3.4028234663852886e38;

/**
 * Limits every element to `[min, max]`: `min(max(x, min), max)`; `null`/`undefined` leaves that
 * side open. Gradient (PyTorch): `dy` where `min <= x <= max`, else 0.
 *
 * @throws {ValueError} when both bounds are missing, a bound is NaN, or `min > max`.
 * @example
 * ```ts
 * clamp(tensor([-2, 0.5, 3]), 0, 1).toArray(); // [0, 0.5, 1]
 * clamp(tensor([-2, 3]), null, 1).toArray(); // [-2, 1]
 * ```
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const op = 'clamp';
  const d = deviceOf(op, x);
  if ((min === undefined || min === null) && (max === undefined || max === null)) {
    throw new ValueError(op, 'needs at least one of min and max');
  }
  for (const [name, v] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (v !== undefined && v !== null && (typeof v !== 'number' || Number.isNaN(v))) {
      throw new ValueError(op, `${name} must be a number, got ${String(v)}`);
    }
  }
  const lo = min === undefined || min === null ? -FLT_MAX : Math.max(min, -FLT_MAX);
  const hi = max === undefined || max === null ? FLT_MAX : Math.min(max, FLT_MAX);
  if (lo > hi) throw new ValueError(op, `min (${min}) must not exceed max (${max})`);
  return fromOp(op, d.scalar('clamp', x.array, lo, hi), [x], (ctx) => {
    const sx = ctx.save(x.array);
    return (dy) => [d.map(S.clampGrad, [sx, dy], [lo, hi])];
  });
}

/**
 * A copy of `x` in a new device buffer, recorded by autograd (gradient: `dy`). Unlike
 * {@link Tensor.detach} it keeps the history.
 *
 * @example
 * ```ts
 * const y = clone(x); // y.gradFn === 'clone' when x requires grad
 * ```
 */
export function clone(x: Tensor): Tensor {
  const d = deviceOf('clone', x);
  return fromOp('clone', d.copy(x.array), [x], () => (dy) => [dy]);
}
