// Host-side geometry of 2-D convolution and pooling windows: argument parsing (ints or [h, w]
// pairs, per-side padding) and the window specs that read the patches. No kernels here.
import type { Shape, WindowSpec } from '@gradkit/kernels';
import { describeValue, formatShape, invalidArgument, ShapeError } from '@gradkit/kernels';

/** @internal An `[h, w]` pair from an int or a pair of ints, each `>= min`. */
export function pair2(op: string, name: string, v: unknown, dflt: number, min: number): [number, number] {
  const p: unknown = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (
    !Array.isArray(p) ||
    p.length !== 2 ||
    !p.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= min)
  ) {
    invalidArgument(op, name, `an integer >= ${min} or a pair [h, w] of them`, v);
  }
  return [p[0] as number, p[1] as number];
}

/** @internal Resolved geometry of a 2-D window over `[N, C, H, W]`. */
export interface Geometry2d {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** Padding read before the first row / column (top, left). */
  readonly before: readonly [number, number];
  /** Output height and width. */
  readonly out: readonly [number, number];
}

/**
 * @internal The window spec of every patch of an `[N, C, H, W]` input, in one of three orders:
 * `'taps'` `[N, C, KH, KW, OH, OW]` (pooling reduces the two tap axes), `'channels'`
 * `[C, KH, KW, N, OH, OW]` (the im2col matrix `[C KH KW, N OH OW]` of a dense convolution) and
 * `'grouped-channels'` `[C/G, KH, KW, N, G, OH, OW]` (channel `g C/G + c` split into `groups`
 * blocks, for a grouped convolution); element reads
 * `x[n, c, oh sh - top + kh dh, ow sw - left + kw dw]`, `padValue` outside. Every order ends in
 * the output positions, so the rows the window kernels walk are `OW` long (not `KW`), and a
 * reduction over the taps is one middle block of axes (see the kernels' `reduceBlock`).
 */
export function patchSpec(
  inShape: Shape,
  g: Geometry2d,
  layout: 'taps' | 'channels' | 'grouped-channels',
  padValue: number,
  groups = 1,
): WindowSpec {
  const [N, C] = inShape;
  const [OH, OW] = g.out;
  const [KH, KW] = g.kernel;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  type Ax = [number, number, number]; // size, input axis, step
  const n: Ax = [N, 0, 1];
  const c: Ax = [C, 1, 1];
  const oh: Ax = [OH, 2, sh];
  const ow: Ax = [OW, 3, sw];
  const kh: Ax = [KH, 2, dh];
  const kw: Ax = [KW, 3, dw];
  const order =
    layout === 'taps'
      ? [n, c, kh, kw, oh, ow]
      : layout === 'channels'
        ? [c, kh, kw, n, oh, ow]
        : [[C / groups, 1, 1] as Ax, kh, kw, n, [groups, 1, C / groups] as Ax, oh, ow];
  return {
    outShape: order.map((e) => e[0]),
    axes: order.map((e) => e[1]),
    steps: order.map((e) => e[2]),
    offsets: [0, 0, -g.before[0], -g.before[1]],
    padValue,
  };
}

/** @internal Checks that `x` is `[N, C, H, W]`. */
export function check4d(op: string, name: string, shape: Shape, what = '[N, C, H, W]'): void {
  if (shape.length !== 4) {
    throw new ShapeError(op, `${name} must be 4-D ${what}, got ${formatShape(shape)}`, [shape]);
  }
}

/** @internal A boolean option (default `dflt`). */
export function flag(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') invalidArgument(op, name, 'a boolean', v);
  return v;
}

/** @internal `describeValue` re-exported for the op files' messages. */
export const show = describeValue;
