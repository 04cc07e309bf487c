import type { BinaryOp, DeviceArray } from '@gradkit/kernels';
import { broadcastShapes } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { arrayOf, deviceOf, numeric } from './operands.js';
import { S } from './specs.js';
import type { Tensor } from './tensor.js';
import { sumTo, view } from './util.js';

function binaryOp(
  op: BinaryOp,
  a: Tensor,
  b: Tensor,
  grads: (
    dy: DeviceArray,
    a: DeviceArray,
    b: DeviceArray,
    needs: readonly boolean[],
  ) => (DeviceArray | null)[],
  saveInputs: boolean,
): Tensor {
  const d = deviceOf(op, a, b);
  broadcastShapes(op, a.shape, b.shape);
  const out = d.binary(op, a.array, b.array);
  return fromOp(op, out, [a, b], (ctx) => {
    const sa = saveInputs ? ctx.save(a.array) : a.array;
    const sb = saveInputs ? ctx.save(b.array) : b.array;
    return (dy) => {
      const [ga, gb] = grads(dy, sa, sb, ctx.needs);
      // sumTo consumes its argument: hand it a view where the gradient is dy itself.
      const mine = (g: DeviceArray) => (g === dy ? view(dy) : g);
      return [ga ? sumTo(mine(ga), a.shape) : null, gb ? sumTo(mine(gb), b.shape) : null];
    };
  });
}

/**
 * Element-wise sum `a + b` with NumPy broadcasting (a number is a broadcast scalar).
 * Gradients: `dy` for both, summed back to each input's shape over broadcast dimensions.
 *
 * @throws {ShapeError} when the shapes do not broadcast, naming `add` and both shapes.
 * @example
 * ```ts
 * add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toArray(); // [[11, 22], [13, 24]]
 * add(tensor([1, 2]), 1).toArray(); // [2, 3]
 * ```
 */
export function add(a: Tensor, b: Tensor | number): Tensor {
  arrayOf('add', a);
  if (typeof b === 'number') {
    numeric('add', 'b', b);
    const d = a.device;
    return fromOp('add', d.scalar('addScalar', a.array, b), [a], () => (dy) => [dy]);
  }
  return binaryOp('add', a, b, (dy, _a, _b, needs) => [needs[0] ? dy : null, needs[1] ? dy : null], false);
}

/**
 * Element-wise difference `a - b` with broadcasting. Gradients: `dy` and `-dy`, summed back to
 * each input's shape.
 *
 * @example
 * ```ts
 * sub(tensor([5, 7]), tensor([1, 2])).toArray(); // [4, 5]
 * ```
 */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  arrayOf('sub', a);
  if (typeof b === 'number') {
    numeric('sub', 'b', b);
    return fromOp('sub', a.device.scalar('addScalar', a.array, -b), [a], () => (dy) => [dy]);
  }
  return binaryOp(
    'sub',
    a,
    b,
    (dy, _a, _b, needs) => [needs[0] ? dy : null, needs[1] ? dy.device.unary('neg', dy) : null],
    false,
  );
}

/**
 * Element-wise product `a * b` with broadcasting. Gradients: `dy * b` and `dy * a`, summed back
 * to each input's shape.
 *
 * @example
 * ```ts
 * mul(tensor([1, 2, 3]), 2).toArray(); // [2, 4, 6]
 * ```
 */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  arrayOf('mul', a);
  if (typeof b === 'number') {
    numeric('mul', 'b', b);
    const d = a.device;
    return fromOp('mul', d.scalar('mulScalar', a.array, b), [a], () => (dy) => [
      d.scalar('mulScalar', dy, b),
    ]);
  }
  return binaryOp(
    'mul',
    a,
    b,
    (dy, sa, sb, needs) => [
      needs[0] ? dy.device.binary('mul', dy, sb) : null,
      needs[1] ? dy.device.binary('mul', dy, sa) : null,
    ],
    true,
  );
}

/**
 * Element-wise quotient `a / b` with broadcasting (IEEE division: x/0 is ±Infinity or NaN).
 * Gradients: `dy / b` and `-dy a / b^2`, summed back to each input's shape.
 *
 * @example
 * ```ts
 * div(tensor([1, 2]), tensor([4, 8])).toArray(); // [0.25, 0.25]
 * ```
 */
export function div(a: Tensor, b: Tensor | number): Tensor {
  arrayOf('div', a);
  if (typeof b === 'number') {
    numeric('div', 'b', b);
    const d = a.device;
    return fromOp('div', d.map(S.divScalar, [a.array], [b]), [a], () => (dy) => [
      d.map(S.divScalar, [dy], [b]),
    ]);
  }
  return binaryOp(
    'div',
    a,
    b,
    (dy, sa, sb, needs) => [
      needs[0] ? dy.device.binary('div', dy, sb) : null,
      needs[1] ? dy.device.map(S.divGradB, [dy, sa, sb]) : null,
    ],
    true,
  );
}

/**
 * Element-wise negation `-x`. Gradient: `-dy`.
 *
 * @example
 * ```ts
 * neg(tensor([1, -2])).toArray(); // [-1, 2]
 * ```
 */
export function neg(x: Tensor): Tensor {
  const d = deviceOf('neg', x);
  return fromOp('neg', d.unary('neg', x.array), [x], () => (dy) => [d.unary('neg', dy)]);
}

/**
 * Element-wise power `x ** exponent` (PyTorch's `pow`): a negative base with an integer exponent
 * gives the signed result, with a non-integer exponent NaN. Gradients: `dy * p * x^(p-1)` (0 when
 * p = 0) for the base, and for a tensor exponent `dy * x^p * log(x)` (0 where x = 0 and p >= 0).
 *
 * @example
 * ```ts
 * pow(tensor([2, 3]), 2).toArray(); // [4, 9]
 * pow(tensor([2, 2]), tensor([3, 0.5])).toArray(); // [8, 1.4142135]
 * ```
 */
export function pow(x: Tensor, exponent: Tensor | number): Tensor {
  const op = 'pow';
  arrayOf(op, x);
  const d = x.device;
  if (typeof exponent === 'number') {
    numeric(op, 'exponent', exponent);
    return fromOp(op, d.scalar('powScalar', x.array, exponent), [x], (ctx) => {
      const sx = ctx.save(x.array);
      return (dy) => [d.map(S.powScalarGrad, [sx, dy], [exponent])];
    });
  }
  deviceOf(op, x, exponent);
  broadcastShapes(op, x.shape, exponent.shape);
  const out = d.binary('pow', x.array, exponent.array);
  return fromOp(op, out, [x, exponent], (ctx, y) => {
    const sx = ctx.save(x.array);
    const se = ctx.save(exponent.array);
    const sy = ctx.needs[1] ? ctx.save(y) : null;
    return (dy) => [
      ctx.needs[0] ? sumTo(d.map(S.powGradA, [sx, se, dy]), x.shape) : null,
      ctx.needs[1] ? sumTo(d.map(S.powGradB, [sx, se, sy!, dy]), exponent.shape) : null,
    ];
  });
}

function extremum(op: 'maximum' | 'minimum', a: Tensor, b: Tensor | number): Tensor {
  arrayOf(op, a);
  const d = a.device;
  if (typeof b === 'number') {
    numeric(op, 'b', b);
    const fwd = op === 'maximum' ? S.maximumScalar : S.minimumScalar;
    const bwd = op === 'maximum' ? S.maximumScalarGrad : S.minimumScalarGrad;
    return fromOp(op, d.map(fwd, [a.array], [b]), [a], (ctx) => {
      const sa = ctx.save(a.array);
      return (dy) => [d.map(bwd, [sa, dy], [b])];
    });
  }
  const grad = op === 'maximum' ? S.maximumGrad : S.minimumGrad;
  return binaryOp(
    op,
    a,
    b,
    (dy, sa, sb, needs) => [
      needs[0] ? d.map(grad, [sa, sb, dy]) : null,
      needs[1] ? d.map(grad, [sb, sa, dy]) : null,
    ],
    true,
  );
}

/**
 * Element-wise maximum with broadcasting. Gradient (PyTorch): `dy` goes to the larger input,
 * split in halves where both are equal.
 *
 * @example
 * ```ts
 * maximum(tensor([1, 5]), tensor([3, 2])).toArray(); // [3, 5]
 * ```
 */
export function maximum(a: Tensor, b: Tensor | number): Tensor {
  return extremum('maximum', a, b);
}

/**
 * Element-wise minimum with broadcasting. Gradient (PyTorch): `dy` goes to the smaller input,
 * split in halves where both are equal.
 *
 * @example
 * ```ts
 * minimum(tensor([1, 5]), 2).toArray(); // [1, 2]
 * ```
 */
export function minimum(a: Tensor, b: Tensor | number): Tensor {
  return extremum('minimum', a, b);
}
