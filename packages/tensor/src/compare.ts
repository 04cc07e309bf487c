import type { BinaryOp, DeviceArray, ElementwiseSpec } from '@gradkit/kernels';
import { broadcastShapes } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { arrayOf, deviceOf, numeric } from './operands.js';
import { S } from './specs.js';
import { Tensor } from './tensor.js';
import { sumTo } from './util.js';

type CompareOp = 'equal' | 'notEqual' | 'less' | 'lessEqual' | 'greater' | 'greaterEqual';

const SCALAR_SPEC: Record<CompareOp, ElementwiseSpec> = {
  equal: S.equalScalar,
  notEqual: S.notEqualScalar,
  less: S.lessScalar,
  lessEqual: S.lessEqualScalar,
  greater: S.greaterScalar,
  greaterEqual: S.greaterEqualScalar,
};

function compare(op: CompareOp, a: Tensor, b: Tensor | number): Tensor {
  arrayOf(op, a);
  const d = a.device;
  if (typeof b === 'number') {
    numeric(op, 'b', b);
    return new Tensor(d.map(SCALAR_SPEC[op], [a.array], [b]));
  }
  deviceOf(op, a, b);
  broadcastShapes(op, a.shape, b.shape);
  return new Tensor(d.binary(op as BinaryOp, a.array, b.array));
}

/**
 * 1 where `a == b`, else 0 (broadcast). Not differentiable (the result never requires grad).
 *
 * @example
 * ```ts
 * equal(tensor([1, 2, 3]), 2).toArray(); // [0, 1, 0]
 * ```
 */
export function equal(a: Tensor, b: Tensor | number): Tensor {
  return compare('equal', a, b);
}

/** 1 where `a != b`, else 0 (broadcast). Not differentiable. @example `notEqual(tensor([1, 2]), 2).toArray(); // [1, 0]` */
export function notEqual(a: Tensor, b: Tensor | number): Tensor {
  return compare('notEqual', a, b);
}

/** 1 where `a < b`, else 0 (broadcast). Not differentiable. @example `less(tensor([1, 2]), 2).toArray(); // [1, 0]` */
export function less(a: Tensor, b: Tensor | number): Tensor {
  return compare('less', a, b);
}

/** 1 where `a <= b`, else 0 (broadcast). Not differentiable. @example `lessEqual(tensor([1, 3]), 2).toArray(); // [1, 0]` */
export function lessEqual(a: Tensor, b: Tensor | number): Tensor {
  return compare('lessEqual', a, b);
}

/** 1 where `a > b`, else 0 (broadcast). Not differentiable. @example `greater(tensor([1, 3]), 2).toArray(); // [0, 1]` */
export function greater(a: Tensor, b: Tensor | number): Tensor {
  return compare('greater', a, b);
}

/** 1 where `a >= b`, else 0 (broadcast). Not differentiable. @example `greaterEqual(tensor([1, 2]), 2).toArray(); // [0, 1]` */
export function greaterEqual(a: Tensor, b: Tensor | number): Tensor {
  return compare('greaterEqual', a, b);
}

/**
 * `cond != 0 ? x : y` element-wise, broadcasting the three (numbers are broadcast scalars).
 * Gradients: `dy` where cond holds to x, elsewhere to y, each summed back to its shape; none for
 * `cond`.
 *
 * @example
 * ```ts
 * where(tensor([1, 0, 1]), tensor([1, 2, 3]), 0).toArray(); // [1, 0, 3]
 * ```
 */
export function where(cond: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  const op = 'where';
  arrayOf(op, cond, 'cond');
  const d = cond.device;
  const tx = typeof x === 'number' ? null : x;
  const ty = typeof y === 'number' ? null : y;
  const tensors = [cond, ...(tx ? [tx] : []), ...(ty ? [ty] : [])];
  deviceOf(op, ...tensors);
  broadcastShapes(op, ...tensors.map((t) => t.shape));
  if (typeof x === 'number') numeric(op, 'x', x);
  if (typeof y === 'number') numeric(op, 'y', y);
  let out: DeviceArray;
  if (tx && ty) out = d.where(cond.array, tx.array, ty.array);
  else if (tx) out = d.map(S.whereScalarY, [cond.array, tx.array], [y as number]);
  else if (ty) out = d.map(S.whereScalarX, [cond.array, ty.array], [x as number]);
  else out = d.map(S.whereScalars, [cond.array], [x as number, y as number]);
  const inputs: Tensor[] = [];
  const grads: ElementwiseSpec[] = [];
  if (tx) {
    inputs.push(tx);
    grads.push(S.whereGradX);
  }
  if (ty) {
    inputs.push(ty);
    grads.push(S.whereGradY);
  }
  return fromOp(op, out, inputs, (ctx) => {
    const sc = ctx.save(cond.array);
    // The mask can broadcast dy beyond an input's shape: sum back to it.
    return (dy) => inputs.map((t, i) => (ctx.needs[i] ? sumTo(d.map(grads[i], [sc, dy]), t.shape) : null));
  });
}
