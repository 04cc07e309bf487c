// Strided window reads: the one movement primitive that slice, pad, broadcast and im2col-style
// sliding windows are all made of, and its adjoint (scatter-add). Pure shape planning and
// validation shared by every backend; no kernels here.
import { ShapeError, ValueError } from './errors.js';
import type { Shape } from './shape.js';
import { assertValidShape, formatShape, sizeOf } from './shape.js';

/**
 * A strided window read of an input of shape `inShape` (rank `r`) into an output of shape
 * `outShape` (rank `R`). Output element at coordinates `o = (o_0, ..., o_{R-1})` reads the input at
 * the coordinates
 *
 * ```
 * c_a(o) = offsets[a] + sum over output axes k with axes[k] = a of steps[k] * o_k     (a < r)
 * ```
 *
 * and is `x[c(o)]` when every `c_a(o)` lies in `[0, inShape[a])`, else `padValue`. Several output
 * axes may walk the same input axis (a sliding window: output position and kernel offset), an
 * output axis may walk none (`axes[k] = -1`, a broadcast: its step must be 0), a step may be
 * negative (a reversed slice) or 0 (a broadcast of a size-1 axis), and an input axis walked by no
 * output axis is read at `offsets[a]` only (an index into it).
 *
 * Without `padValue` the read must stay inside the input: a plan that could read outside is a
 * {@link ShapeError} (a safety net: a wrong offset never turns silently into zeros). With it,
 * reads outside give that value (zero padding: `padValue: 0`; max-pooling: `-Infinity`).
 *
 * | use | `outShape` | `axes` | `steps` | `offsets` |
 * | --- | --- | --- | --- | --- |
 * | `x[1:5:2]` of `[8]` | `[2]` | `[0]` | `[2]` | `[1]` |
 * | `x[::-1]` of `[n]` | `[n]` | `[0]` | `[-1]` | `[n - 1]` |
 * | pad `[h, w]` by 1 | `[h + 2, w + 2]` | `[0, 1]` | `[1, 1]` | `[-1, -1]` (+ `padValue: 0`) |
 * | `[c]` broadcast to `[n, c]` | `[n, c]` | `[-1, 0]` | `[0, 1]` | `[0]` |
 * | im2col windows of `[N, C, H, W]` | `[N, C, OH, OW, KH, KW]` | `[0, 1, 2, 3, 2, 3]` | `[1, 1, s, s, d, d]` | `[0, 0, -p, -p]` (+ `padValue: 0`) |
 *
 * See {@link windowSpec2d}, {@link sliceWindow}, {@link padWindow} and {@link unfoldWindow} for
 * builders of the common cases.
 *
 * @example
 * ```ts
 * // every second element of a [6] array, starting at 1: x[1::2]
 * device.window(device.array([0, 1, 2, 3, 4, 5]), { outShape: [3], axes: [0], steps: [2], offsets: [1] })
 *   .read(); // [1, 3, 5]
 * ```
 * @see https://github.com/tinygrad/tinygrad (movement ops: shrink, pad, stride, expand)
 */
export interface WindowSpec {
  /** The output shape. */
  readonly outShape: Shape;
  /** Per output axis: the input axis it walks, or -1 for none (a broadcast axis). */
  readonly axes: readonly number[];
  /** Per output axis: how many input elements one step along it moves (any integer; 0 for `axes[k] = -1`). */
  readonly steps: readonly number[];
  /** Per input axis: the input coordinate read at output coordinate 0 (may be negative with `padValue`). */
  readonly offsets: readonly number[];
  /** The value of reads outside the input. Omitted: such reads are an error. */
  readonly padValue?: number;
}

/**
 * A {@link WindowSpec} checked against its input's shape by {@link planWindow}: what a backend
 * receives. `padded` is false when no read can leave the input (then `padValue` is never used).
 */
export interface WindowPlan {
  /** The input's shape. */
  readonly inShape: Shape;
  /** The output shape. */
  readonly outShape: Shape;
  /** Per output axis: the input axis it walks, or -1. */
  readonly axes: readonly number[];
  /** Per output axis: its step along `axes[k]` (0 where `axes[k]` is -1). */
  readonly steps: readonly number[];
  /** Per input axis: the coordinate read at output coordinate 0. */
  readonly offsets: readonly number[];
  /** The value of reads outside the input (0 when none can happen). */
  readonly padValue: number;
  /** Whether some read can fall outside the input. */
  readonly padded: boolean;
  /** Per input axis: the smallest and largest coordinate any output element reads (`[0, -1]` for an empty output). */
  readonly bounds: readonly (readonly [number, number])[];
}

/** Coordinates beyond this magnitude are refused (float32 GPU index arithmetic stays exact well below). */
export const WINDOW_MAX_COORD = 2 ** 30;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * Checks `spec` for an input of shape `inShape` and resolves it into a {@link WindowPlan}: the
 * lists have the right lengths, axes are in `[-1, rank)`, steps and offsets are integers, a
 * broadcast axis (`-1`) has step 0, and without `padValue` every read stays inside the input.
 *
 * @param op the op named in errors (`'window'`, `'slice'`, ...).
 * @throws {ShapeError} for lists of the wrong length, an axis out of range, or (without
 * `padValue`) a read outside the input, naming the axis, the coordinate and the shapes.
 * @throws {ValueError} for a non-integer step or offset, a non-number `padValue`, or a
 * coordinate beyond ±2^30.
 * @example
 * ```ts
 * planWindow('slice', [8], { outShape: [2], axes: [0], steps: [2], offsets: [1] }).bounds; // [[1, 3]]
 * ```
 */
export function planWindow(op: string, inShape: Shape, spec: WindowSpec): WindowPlan {
  if (spec === null || typeof spec !== 'object') throw new ValueError(op, 'expects a window spec object');
  const { outShape, axes, steps, offsets, padValue } = spec;
  assertValidShape(op, outShape);
  const R = outShape.length;
  const r = inShape.length;
  for (const [name, list, len] of [
    ['axes', axes, R],
    ['steps', steps, R],
    ['offsets', offsets, r],
  ] as const) {
    if (!Array.isArray(list) || list.length !== len) {
      const what = name === 'offsets' ? `the input rank ${r}` : `the output rank ${R}`;
      throw new ShapeError(
        op,
        `window ${name} must list ${len} values (${what}), got ${Array.isArray(list) ? `[${list.join(',')}]` : String(list)} for input ${formatShape(inShape)} and output ${formatShape(outShape)}`,
        [inShape, outShape],
      );
    }
  }
  for (let k = 0; k < R; k++) {
    const a = axes[k];
    if (!isInt(a) || a < -1 || a >= r) {
      throw new ShapeError(
        op,
        `window axes[${k}] = ${a} is not an input axis of ${formatShape(inShape)} (nor -1)`,
        [inShape, outShape],
      );
    }
    if (!isInt(steps[k])) throw new ValueError(op, `window steps[${k}] = ${steps[k]} is not an integer`);
    if (a === -1 && steps[k] !== 0) {
      throw new ValueError(
        op,
        `window steps[${k}] = ${steps[k]} must be 0: output axis ${k} walks no input axis`,
      );
    }
  }
  for (let a = 0; a < r; a++) {
    if (!isInt(offsets[a]))
      throw new ValueError(op, `window offsets[${a}] = ${offsets[a]} is not an integer`);
  }
  if (padValue !== undefined && typeof padValue !== 'number') {
    throw new ValueError(op, `padValue must be a number, got ${String(padValue)}`);
  }
  const empty = sizeOf(outShape) === 0;
  const bounds: [number, number][] = [];
  let padded = false;
  for (let a = 0; a < r; a++) {
    let lo = offsets[a];
    let hi = offsets[a];
    for (let k = 0; k < R; k++) {
      if (axes[k] !== a) continue;
      const span = steps[k] * (outShape[k] - 1);
      if (span < 0) lo += span;
      else hi += span;
    }
    if (empty) {
      bounds.push([0, -1]);
      continue;
    }
    if (Math.abs(lo) > WINDOW_MAX_COORD || Math.abs(hi) > WINDOW_MAX_COORD) {
      throw new ValueError(
        op,
        `window reads coordinate ${Math.abs(lo) > WINDOW_MAX_COORD ? lo : hi} on input axis ${a}, beyond ±2^30`,
      );
    }
    bounds.push([lo, hi]);
    if (lo < 0 || hi >= inShape[a]) {
      padded = true;
      if (padValue === undefined) {
        throw new ShapeError(
          op,
          `window reads coordinates ${lo}..${hi} on axis ${a} of input ${formatShape(inShape)} (valid 0..${inShape[a] - 1}) for output ${formatShape(outShape)}; give a padValue to read padding`,
          [inShape, outShape],
        );
      }
    }
  }
  return {
    inShape: [...inShape],
    outShape: [...outShape],
    axes: [...axes],
    steps: [...steps],
    offsets: [...offsets],
    padValue: padded ? (padValue as number) : 0,
    padded,
    bounds,
  };
}

/** The number of elements of `range(start, stop, step)` (Python's `len(range(...))`). */
function rangeLength(start: number, stop: number, step: number): number {
  const n = step > 0 ? Math.ceil((stop - start) / step) : Math.ceil((start - stop) / -step);
  return Math.max(0, n);
}

/**
 * A slice resolved against an axis length (see {@link sliceIndices}).
 *
 * @example
 * ```ts
 * const r: SliceRange = { start: 1, stop: 4, length: 3 };
 * ```
 */
export interface SliceRange {
  /** The first index taken (clamped as Python does). */
  readonly start: number;
  /** The index the slice stops before (clamped; may be -1 for a negative step). */
  readonly stop: number;
  /** How many indices the slice takes (`len(range(start, stop, step))`). */
  readonly length: number;
}

/**
 * Python's `slice(start, stop, step).indices(len)`: clamped start and stop, and the length.
 * Negative `start`/`stop` count from the end; `null`/`undefined` mean the default ends.
 *
 * @example
 * ```ts
 * sliceIndices(5, -2, null, 1); // { start: 3, stop: 5, length: 2 }
 * sliceIndices(5, null, null, -2); // { start: 4, stop: -1, length: 3 }
 * ```
 */
export function sliceIndices(
  len: number,
  start: number | null | undefined,
  stop: number | null | undefined,
  step: number,
): SliceRange {
  const lower = step > 0 ? 0 : -1;
  const upper = step > 0 ? len : len - 1;
  const clampIdx = (v: number | null | undefined, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    if (v < 0) return Math.max(v + len, lower);
    return Math.min(v, upper);
  };
  const s = clampIdx(start, step > 0 ? lower : upper);
  const e = clampIdx(stop, step > 0 ? upper : lower);
  return { start: s, stop: e, length: rangeLength(s, e, step) };
}

/**
 * The window of a Python/NumPy basic slice `x[start_0:stop_0:step_0, ...]`: one entry per leading
 * axis (missing ones take the whole axis), `null`/`undefined` for a default bound. Indices follow
 * Python: negative ones count from the end, out-of-range bounds are clamped (never an error), a
 * negative step walks backwards (`[::-1]` reverses) and an empty range gives a zero-size axis.
 *
 * @throws {ValueError} for a step of 0 or a non-integer bound or step.
 * @throws {ShapeError} for more entries than the input has axes.
 * @example
 * ```ts
 * sliceWindow([5], [-2], [null]); // x[-2:]: { outShape: [2], axes: [0], steps: [1], offsets: [3] }
 * sliceWindow([5], [null], [null], [-1]); // x[::-1]: offsets [4], steps [-1]
 * ```
 */
export function sliceWindow(
  inShape: Shape,
  starts: readonly (number | null | undefined)[],
  ends: readonly (number | null | undefined)[],
  steps: readonly (number | null | undefined)[] = [],
  op = 'slice',
): WindowSpec {
  const r = inShape.length;
  if (!Array.isArray(starts) || !Array.isArray(ends) || !Array.isArray(steps)) {
    throw new ValueError(op, 'starts, ends and steps must be arrays');
  }
  const n = Math.max(starts.length, ends.length, steps.length);
  if (n > r) {
    throw new ShapeError(op, `${n} slice entries for input ${formatShape(inShape)} of rank ${r}`, [inShape]);
  }
  const outShape: number[] = [];
  const st: number[] = [];
  const offsets: number[] = [];
  for (let a = 0; a < r; a++) {
    const step = steps[a] ?? 1;
    const b0 = starts[a];
    const b1 = ends[a];
    if (!isInt(step) || step === 0)
      throw new ValueError(op, `step on axis ${a} must be a non-zero integer, got ${step}`);
    for (const [name, v] of [
      ['start', b0],
      ['end', b1],
    ] as const) {
      if (v !== null && v !== undefined && !isInt(v))
        throw new ValueError(op, `${name} on axis ${a} must be an integer or null, got ${v}`);
    }
    const { start, length } = sliceIndices(inShape[a], b0, b1, step);
    outShape.push(length);
    st.push(step);
    offsets.push(length === 0 ? 0 : start);
  }
  return { outShape, axes: outShape.map((_, k) => k), steps: st, offsets };
}

/**
 * The window of a constant pad: `pads[a] = [before, after]` elements added on each side of axis
 * `a` (one pair per axis), filled with `value`. A negative count removes that many elements
 * instead (a crop, as PyTorch's `F.pad`); an axis cropped below zero length is an error.
 *
 * @throws {ShapeError} when `pads` does not have one pair per axis or an axis ends up negative.
 * @throws {ValueError} for a non-integer count.
 * @example
 * ```ts
 * padWindow([2, 3], [[1, 1], [0, 2]]); // { outShape: [4, 5], offsets: [-1, 0], padValue: 0, ... }
 * ```
 */
export function padWindow(
  inShape: Shape,
  pads: readonly (readonly [number, number])[],
  value = 0,
  op = 'pad',
): WindowSpec {
  const r = inShape.length;
  if (!Array.isArray(pads) || pads.length !== r) {
    throw new ShapeError(
      op,
      `expects one [before, after] pair per axis of ${formatShape(inShape)} (${r}), got ${Array.isArray(pads) ? pads.length : String(pads)}`,
      [inShape],
    );
  }
  const outShape: number[] = [];
  const offsets: number[] = [];
  for (let a = 0; a < r; a++) {
    const p = pads[a];
    if (!Array.isArray(p) || p.length !== 2 || !isInt(p[0]) || !isInt(p[1])) {
      throw new ValueError(
        op,
        `pads[${a}] must be a pair of integers [before, after], got ${JSON.stringify(p)}`,
      );
    }
    const len = inShape[a] + p[0] + p[1];
    if (len < 0) {
      throw new ShapeError(
        op,
        `pads[${a}] = [${p[0]}, ${p[1]}] crops axis ${a} of ${formatShape(inShape)} below zero length`,
        [inShape],
      );
    }
    outShape.push(len);
    offsets.push(-p[0]);
  }
  if (typeof value !== 'number') throw new ValueError(op, `value must be a number, got ${String(value)}`);
  return {
    outShape,
    axes: outShape.map((_, k) => k),
    steps: outShape.map(() => 1),
    offsets,
    padValue: value,
  };
}

/**
 * The window of PyTorch's `Tensor.unfold(dim, size, step)`: every slice of length `size` along
 * axis `dim`, `step` apart. The output has axis `dim` replaced by the number of slices
 * `floor((len - size) / step) + 1` and a new last axis of length `size`:
 * `out[..., i, ..., j] = x[..., i * step + j, ...]`.
 *
 * @throws {ShapeError} for an axis out of range or `size` larger than the axis.
 * @throws {ValueError} for a `size` that is not a non-negative integer or a `step` that is not positive.
 * @example
 * ```ts
 * unfoldWindow([5], 0, 2, 2); // slices [0,1], [2,3]: { outShape: [2, 2], axes: [0, 0], steps: [2, 1], offsets: [0] }
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.Tensor.unfold.html
 */
export function unfoldWindow(
  inShape: Shape,
  dim: number,
  size: number,
  step: number,
  op = 'unfold',
): WindowSpec {
  const r = inShape.length;
  const rank = Math.max(r, 1);
  if (!isInt(dim) || dim < -rank || dim >= rank) {
    throw new ShapeError(op, `dim ${dim} is out of range for input ${formatShape(inShape)}`, [inShape]);
  }
  if (!isInt(size) || size < 0) throw new ValueError(op, `size must be a non-negative integer, got ${size}`);
  if (!isInt(step) || step <= 0) throw new ValueError(op, `step must be a positive integer, got ${step}`);
  if (r === 0) {
    // PyTorch: a scalar unfolds as a length-1 axis into shape [size].
    if (size > 1) throw new ShapeError(op, `size ${size} exceeds the length 1 of a scalar`, [inShape]);
    return { outShape: [size], axes: [-1], steps: [0], offsets: [] };
  }
  const d = dim < 0 ? dim + r : dim;
  const len = inShape[d];
  if (size > len) {
    throw new ShapeError(
      op,
      `size ${size} is larger than axis ${d} (length ${len}) of ${formatShape(inShape)}`,
      [inShape],
    );
  }
  const count = Math.floor((len - size) / step) + 1;
  const outShape = [...inShape];
  outShape[d] = count;
  outShape.push(size);
  const axes = inShape.map((_, a) => a);
  axes.push(d);
  const steps = inShape.map((_, a) => (a === d ? step : 1));
  steps.push(1);
  return { outShape, axes, steps, offsets: inShape.map(() => 0) };
}

/** Options of {@link windowSpec2d}: PyTorch's `Conv2d` / `F.unfold` geometry, ints or `[h, w]` pairs. */
export interface Window2dOptions {
  /** Step between window positions. Default 1. */
  readonly stride?: number | readonly [number, number];
  /** Zero padding added on both sides of H and W. Default 0. */
  readonly padding?: number | readonly [number, number];
  /** Spacing between kernel taps. Default 1. */
  readonly dilation?: number | readonly [number, number];
  /** The value read in the padding. Default 0. */
  readonly padValue?: number;
  /**
   * Output layout: `'windows'` (default) `[N, C, OH, OW, KH, KW]` (pooling reduces the last two
   * axes), `'columns'` `[N, C, KH, KW, OH, OW]` (reshaped to `[N, C*KH*KW, OH*OW]` it is
   * `F.unfold`), `'rows'` `[N, OH, OW, C, KH, KW]` (reshaped to `[N*OH*OW, C*KH*KW]` it is the
   * im2col matrix a GEMM convolution multiplies by the flattened weights).
   */
  readonly layout?: 'windows' | 'columns' | 'rows';
}

/** The output geometry of a 2-D sliding window (see {@link windowGeometry2d}). */
export interface Window2dGeometry {
  /** Kernel height and width. */
  readonly kernel: readonly [number, number];
  /** Strides along H and W. */
  readonly stride: readonly [number, number];
  /** Padding on each side of H and W. */
  readonly padding: readonly [number, number];
  /** Dilation along H and W. */
  readonly dilation: readonly [number, number];
  /** Output height and width: `floor((H + 2 p - d (k - 1) - 1) / s) + 1`. */
  readonly out: readonly [number, number];
}

function pair(
  op: string,
  name: string,
  v: number | readonly [number, number] | undefined,
  dflt: number,
  min: number,
): [number, number] {
  const p: readonly unknown[] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => isInt(x) && x >= min)) {
    throw new ValueError(
      op,
      `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return [p[0] as number, p[1] as number];
}

/**
 * The geometry of a 2-D sliding window over `[N, C, H, W]` as PyTorch's `Conv2d` computes it:
 * `OH = floor((H + 2 padding - dilation (KH - 1) - 1) / stride) + 1`, likewise `OW`.
 *
 * @throws {ShapeError} when the input is not 4-D or the dilated kernel is larger than the padded
 * input (no window fits).
 * @throws {ValueError} for a kernel size, stride or dilation that is not a positive integer, or a
 * negative padding.
 * @example
 * ```ts
 * windowGeometry2d('conv', [1, 1, 28, 28], 3, { padding: 1 }).out; // [28, 28]
 * ```
 */
export function windowGeometry2d(
  op: string,
  inShape: Shape,
  kernelSize: number | readonly [number, number],
  options: Window2dOptions = {},
): Window2dGeometry {
  if (inShape.length !== 4) {
    throw new ShapeError(op, `expects a 4-D input [N, C, H, W], got ${formatShape(inShape)}`, [inShape]);
  }
  const kernel = pair(op, 'kernelSize', kernelSize, 1, 1);
  const stride = pair(op, 'stride', options.stride, 1, 1);
  const padding = pair(op, 'padding', options.padding, 0, 0);
  const dilation = pair(op, 'dilation', options.dilation, 1, 1);
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    const span = dilation[i] * (kernel[i] - 1) + 1;
    const len = inShape[2 + i] + 2 * padding[i];
    if (span > len) {
      throw new ShapeError(
        op,
        `the ${i === 0 ? 'height' : 'width'} ${inShape[2 + i]} padded by ${padding[i]} on each side (${len}) is smaller than the dilated kernel (${span}) for input ${formatShape(inShape)}`,
        [inShape],
      );
    }
    out.push(Math.floor((len - span) / stride[i]) + 1);
  }
  return { kernel, stride, padding, dilation, out: [out[0], out[1]] };
}

/**
 * The window of every `KH x KW` patch of an `[N, C, H, W]` input, with PyTorch's stride,
 * padding and dilation (see {@link windowGeometry2d}): in the default layout
 * `out[n, c, i, j, u, v] = x[n, c, i*sh - ph + u*dh, j*sw - pw + v*dw]` (`padValue` outside).
 * The layouts `'columns'` and `'rows'` order the same values for `F.unfold` and for GEMM.
 *
 * @example
 * ```ts
 * windowSpec2d([64, 16, 28, 28], 3, { padding: 1 }).outShape; // [64, 16, 28, 28, 3, 3]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.Unfold.html
 */
export function windowSpec2d(
  inShape: Shape,
  kernelSize: number | readonly [number, number],
  options: Window2dOptions = {},
  op = 'windows2d',
): WindowSpec {
  const g = windowGeometry2d(op, inShape, kernelSize, options);
  const [N, C] = inShape;
  const [OH, OW] = g.out;
  const [KH, KW] = g.kernel;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  // axis entries: [size, input axis, step]
  const n: [number, number, number] = [N, 0, 1];
  const c: [number, number, number] = [C, 1, 1];
  const oh: [number, number, number] = [OH, 2, sh];
  const ow: [number, number, number] = [OW, 3, sw];
  const kh: [number, number, number] = [KH, 2, dh];
  const kw: [number, number, number] = [KW, 3, dw];
  const layout = options.layout ?? 'windows';
  const order =
    layout === 'windows'
      ? [n, c, oh, ow, kh, kw]
      : layout === 'columns'
        ? [n, c, kh, kw, oh, ow]
        : layout === 'rows'
          ? [n, oh, ow, c, kh, kw]
          : null;
  if (!order)
    throw new ValueError(op, `layout must be 'windows', 'columns' or 'rows', got ${String(layout)}`);
  const padValue = options.padValue ?? 0;
  if (typeof padValue !== 'number')
    throw new ValueError(op, `padValue must be a number, got ${String(padValue)}`);
  return {
    outShape: order.map((e) => e[0]),
    axes: order.map((e) => e[1]),
    steps: order.map((e) => e[2]),
    offsets: [0, 0, -g.padding[0], -g.padding[1]],
    padValue,
  };
}
