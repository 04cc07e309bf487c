import { ShapeError, ValueError } from './errors.js';

/** A tensor shape: one non-negative integer per dimension; `[]` is a scalar. */
export type Shape = readonly number[];

/**
 * Formats a shape the way error messages print it: `[2,3]`.
 *
 * @example
 * ```ts
 * formatShape([2, 3]); // '[2,3]'
 * ```
 */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/**
 * Number of elements of a shape: the product of its dimensions (1 for a scalar).
 *
 * @example
 * ```ts
 * sizeOf([2, 3, 4]); // 24
 * ```
 */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Row-major (C-order) strides of a shape, in elements: `strides[i] = prod(shape[i+1:])`.
 *
 * @example
 * ```ts
 * stridesOf([2, 3, 4]); // [12, 4, 1]
 * ```
 */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * True when both shapes have the same rank and dimensions.
 *
 * @example
 * ```ts
 * shapesEqual([2, 3], [2, 3]); // true
 * shapesEqual([6], [2, 3]); // false
 * ```
 */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks that `shape` is a list of non-negative integers; throws a {@link ShapeError} naming `op`.
 */
export function assertValidShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape))
    throw new ShapeError(op, `shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(
        op,
        `shape ${formatShape(shape)} has a dimension that is not a non-negative integer`,
        [shape],
      );
    }
  }
}

/**
 * NumPy broadcasting of any number of shapes: align on the right, each dimension pair must be
 * equal or contain a 1.
 *
 * @throws {ShapeError} naming `op`, the shapes and the first dimension that does not broadcast.
 * @example
 * ```ts
 * broadcastShapes('add', [4, 1, 3], [5, 1]); // [4, 5, 3]
 * ```
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let i = 1; i <= rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s.length - i >= 0 ? s[s.length - i] : 1;
      if (d === 1) continue;
      if (dim === 1) dim = d;
      else if (d !== dim) {
        throw new ShapeError(
          op,
          `shapes ${shapes.map(formatShape).join(' and ')} cannot be broadcast (dimension -${i}: ${dim} vs ${d})`,
          shapes,
        );
      }
    }
    out[rank - i] = dim;
  }
  return out;
}

/**
 * Normalizes axes for a tensor of rank `rank`: negative axes count from the end, duplicates are
 * an error, the result is sorted. `undefined` means every axis.
 *
 * @example
 * ```ts
 * normalizeAxes('sum', [-1, 0], 3); // [0, 2]
 * ```
 */
export function normalizeAxes(
  op: string,
  axes: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out: number[] = [];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new ShapeError(op, `axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    const n = a < 0 ? a + rank : a;
    if (out.includes(n)) throw new ShapeError(op, `axis ${a} is repeated in [${list.join(',')}]`);
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

/**
 * The shape left after reducing `axes` (sorted, unique) of `shape`: removed, or kept as 1 with
 * `keepDims`.
 *
 * @example
 * ```ts
 * reducedShape([2, 3, 4], [1], false); // [2, 4]
 * reducedShape([2, 3, 4], [1], true); // [2, 1, 4]
 * ```
 */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(shape[i]);
  }
  return out;
}

/**
 * Resolves a reshape target for `size` elements; one dimension may be `-1` (inferred).
 *
 * @throws {ShapeError} when the sizes disagree or more than one dimension is `-1`.
 * @example
 * ```ts
 * inferReshape('reshape', 12, [3, -1]); // [3, 4]
 * ```
 */
export function inferReshape(op: string, size: number, target: Shape): number[] {
  const out = [...target];
  let unknown = -1;
  let known = 1;
  for (let i = 0; i < out.length; i++) {
    const d = out[i];
    if (d === -1) {
      if (unknown >= 0) throw new ShapeError(op, `only one dimension can be -1, got ${formatShape(target)}`);
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(op, `target shape ${formatShape(target)} has an invalid dimension ${d}`);
    } else known *= d;
  }
  if (unknown >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(op, `cannot reshape ${size} elements into ${formatShape(target)}`);
    }
    out[unknown] = size / known;
  } else if (known !== size) {
    throw new ShapeError(op, `cannot reshape ${size} elements into ${formatShape(target)}`);
  }
  return out;
}

/** Checks a permutation of `0..rank-1` for `transpose`. */
export function assertPermutation(op: string, perm: readonly number[], rank: number): void {
  const seen = new Set<number>();
  if (perm.length !== rank) {
    throw new ShapeError(
      op,
      `permutation [${perm.join(',')}] has ${perm.length} axes, the tensor has ${rank}`,
    );
  }
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen.has(p)) {
      throw new ShapeError(op, `[${perm.join(',')}] is not a permutation of 0..${rank - 1}`);
    }
    seen.add(p);
  }
}

/** Throws a {@link ValueError} unless `x` is a finite number. */
export function assertFinite(op: string, name: string, x: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x))
    throw new ValueError(op, `${name} must be a finite number, got ${x}`);
}
