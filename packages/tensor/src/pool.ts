import type { Device, DeviceArray } from '@gradkit/kernels';
import {
  checkKnownKeys,
  defineKernel,
  formatShape,
  invalidArgument,
  ShapeError,
  ValueError,
} from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { inBatchChunks } from './batch-chunks.js';
import type { Geometry2d } from './conv-geometry.js';
import { check4d, flag, pair2, patchSpec } from './conv-geometry.js';
import { checkTensor, deviceOf } from './operands.js';
import type { Tensor } from './tensor.js';
import { disposeAll, view } from './util.js';

/** Avg-pool gradient: dy / divisor, broadcast over the tap axis by the output shape. */
const POOL_DIV = defineKernel({ name: 'tensor_poolDiv', arity: 2, params: 0, expr: 'a / b' });
const POOL_DIV_SCALAR = defineKernel({ name: 'tensor_poolDivScalar', arity: 1, params: 1, expr: 'a / p0' });

/** Options of {@link maxPool2d}: PyTorch's `F.max_pool2d` arguments, ints or `[h, w]` pairs. */
export interface MaxPool2dOptions {
  /** Window size `k` or `[kh, kw]` (required). */
  readonly kernelSize: number | readonly [number, number];
  /** Step between windows. Default: `kernelSize`. */
  readonly stride?: number | readonly [number, number];
  /** Implicit `-Infinity` padding on both sides of H and W, at most half the kernel. Default 0. */
  readonly padding?: number | readonly [number, number];
  /** Spacing between window taps. Default 1. */
  readonly dilation?: number | readonly [number, number];
  /** Round the output size up (a last, partial window when it starts inside the input or the left padding). Default false. */
  readonly ceilMode?: boolean;
}

/** Options of {@link avgPool2d}: PyTorch's `F.avg_pool2d` arguments, ints or `[h, w]` pairs. */
export interface AvgPool2dOptions {
  /** Window size `k` or `[kh, kw]` (required). */
  readonly kernelSize: number | readonly [number, number];
  /** Step between windows. Default: `kernelSize`. */
  readonly stride?: number | readonly [number, number];
  /** Implicit zero padding on both sides of H and W, at most half the kernel. Default 0. */
  readonly padding?: number | readonly [number, number];
  /** Round the output size up (as {@link MaxPool2dOptions.ceilMode}). Default false. */
  readonly ceilMode?: boolean;
  /** Count the padding zeros in the divisor. Default true (PyTorch's default). */
  readonly countIncludePad?: boolean;
  /** Divide every window's sum by this non-zero integer instead. Default: none. */
  readonly divisorOverride?: number;
}

let chunkElements: number | null = null;

/** @internal Test hook: caps the elements of one batch chunk's largest intermediate (null: the device's limit). */
export function _setPoolChunkElements(n: number | null): void {
  chunkElements = n;
}

/** PyTorch's pooling_output_shape for one axis. */
function poolOut(size: number, k: number, s: number, p: number, dl: number, ceil: boolean): number {
  let o = Math.floor((size + 2 * p - dl * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  // the last window must start inside the input or the left padding
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

function poolGeometry(
  op: string,
  x: Tensor,
  options: {
    kernelSize?: unknown;
    stride?: unknown;
    padding?: unknown;
    dilation?: unknown;
    ceilMode?: unknown;
  },
  known: readonly string[],
): Geometry2d & { padding: [number, number] } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    invalidArgument(op, 'options', 'an object with kernelSize', options);
  }
  checkKnownKeys(op, options, known);
  if (options.kernelSize === undefined) invalidArgument(op, 'kernelSize', 'given', undefined);
  const kernel = pair2(op, 'kernelSize', options.kernelSize, 1, 1);
  const stride = options.stride === undefined ? kernel : pair2(op, 'stride', options.stride, 1, 1);
  const padding = pair2(op, 'padding', options.padding, 0, 0);
  const dilation = pair2(op, 'dilation', options.dilation, 1, 1);
  const ceil = flag(op, 'ceilMode', options.ceilMode, false);
  check4d(op, 'x', x.shape);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new ValueError(
      op,
      `padding [${padding.join(', ')}] must be at most half the kernel size [${kernel.join(', ')}] (as PyTorch)`,
    );
  }
  const out: [number, number] = [0, 0];
  for (let a = 0; a < 2; a++) {
    out[a] = poolOut(x.shape[2 + a], kernel[a], stride[a], padding[a], dilation[a], ceil);
  }
  if (out[0] < 1 || out[1] < 1) {
    throw new ShapeError(
      op,
      `input ${formatShape(x.shape)} is too small for kernel [${kernel.join(', ')}] with padding [${padding.join(', ')}] and dilation [${dilation.join(', ')}] (output ${out[0]}x${out[1]})`,
      [x.shape],
    );
  }
  return { kernel, stride, dilation, before: padding, out, padding };
}

/**
 * 2-D max pooling over an NCHW batch, PyTorch's `F.max_pool2d`:
 * `out[n, c, i, j] = max_{u < KH, v < KW} xpad[n, c, i sh + u dh, j sw + v dw]` with `xpad` the input
 * padded by `-Infinity` (`padding` on each side). Output size
 * `OH = floor((H + 2 ph - dh (KH - 1) - 1) / sh) + 1` (with `ceilMode`: rounded up, but the last
 * window must start inside the input or the left padding), likewise `OW`. Defaults: stride =
 * kernelSize, padding 0, dilation 1, ceilMode false. A window holding a NaN gives NaN.
 *
 * Composition: the device's `windowMax` over the pooling windows `[N, C, KH, KW, OH, OW]`
 * (one fused pass on `cpu`/`wasm` without padding; a window read and a max over the taps
 * otherwise); the first maximum's tap is kept for the backward pass. Gradient (PyTorch's tie rule): each
 * window's `dy` goes to the first maximum in the window (row-major order) only, and
 * overlapping windows add up (`windowScatterAt`). A window whose only maximum is `-Infinity` in
 * the padding sends its gradient into the padding (lost); PyTorch sends it to the first real element.
 * When a sample's window read (`C KH KW OH OW` elements) or the input would make one batch exceed
 * the device's per-kernel limit (`info().maxKernelElements`, 2^23 on gl, else `maxElements`), the
 * batch is pooled in chunks (as `conv2d`), so an activation stored in tiles on gl pools too.
 *
 * @throws {@link @gradkit/kernels!ShapeError} naming `maxPool2d` for an input that is not 4-D or too small.
 * @throws {@link @gradkit/kernels!ValueError} for a missing `kernelSize`, a size, stride or dilation below
 * 1, a padding above half the kernel, or an unknown option.
 * @example
 * ```ts
 * const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
 * maxPool2d(x, { kernelSize: 2 }).toArray(); // [[[[6, 8], [14, 16]]]]
 * maxPool2d(x, { kernelSize: 3, stride: 2, ceilMode: true }).shape; // [1, 1, 2, 2]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.MaxPool2d.html
 */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  const op = 'maxPool2d';
  checkTensor(op, x, 'x');
  const d = deviceOf(op, x);
  const g = poolGeometry(op, x, options, ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode']);
  const [, C, H, W] = x.shape;
  const perSample = C * Math.max(g.kernel[0] * g.kernel[1] * g.out[0] * g.out[1], H * W);
  return inBatchChunks(x, perSample, chunkElements, (xs) => maxPoolCore(op, d, xs, g));
}

/** {@link maxPool2d} of a batch that fits, as one recorded op. */
function maxPoolCore(op: string, d: Device, x: Tensor, g: Geometry2d): Tensor {
  const spec = patchSpec(x.shape, g, 'taps', Number.NEGATIVE_INFINITY);
  // windows [N, C, KH, KW, OH, OW]: the max over the taps (axes 2, 3) and the tap holding it
  const [y, tap] = d.windowMax(x.array, spec, 2, 2);
  const xShape = x.shape;
  return fromOp(
    op,
    y,
    [x],
    (ctx) => {
      const at = ctx.own(tap);
      return (dy) => [d.windowScatterAt(dy, at, spec, 2, 2, xShape)];
    },
    [tap],
  );
}

/** The patches of x as [N, C, K, OH, OW] (one window kernel). */
function windows5(
  d: Device,
  x: DeviceArray,
  spec: ReturnType<typeof patchSpec>,
  shape: readonly number[],
): DeviceArray {
  const win = d.window(x, spec);
  const w5 = view(win, shape);
  win.dispose();
  return w5;
}

/**
 * 2-D average pooling over an NCHW batch, PyTorch's `F.avg_pool2d`:
 * `out[n, c, i, j] = (sum_{u < KH, v < KW} xpad[n, c, i sh + u, j sw + v]) / divisor(i, j)` with
 * `xpad` zero-padded. Output size as {@link maxPool2d} (no dilation). The divisor is, as in
 * PyTorch: `divisorOverride` when given; else with `countIncludePad` (default true) the window's
 * size clipped to the padded input (`min(i sh - ph + KH, H + ph) - (i sh - ph)` rows, likewise
 * columns: the full `KH KW` except for a ceil-mode window hanging past the right padding);
 * without it, the number of real input elements in the window. Defaults: stride = kernelSize,
 * padding 0, ceilMode false, countIncludePad true.
 *
 * Composition: one window read, a sum over the window axis, a division by the divisors (a scalar
 * when they are all equal, else an `[OH, OW]` array). Gradient: `dy / divisor(i, j)` spread over
 * each window (window scatter-add; padding gets nothing). The batch is split into chunks as in
 * {@link maxPool2d} when one would exceed the device's per-kernel limit.
 *
 * @throws {@link @gradkit/kernels!ShapeError} naming `avgPool2d` for an input that is not 4-D or too small.
 * @throws {@link @gradkit/kernels!ValueError} for a missing `kernelSize`, a size or stride below 1, a
 * padding above half the kernel, a `divisorOverride` that is not a non-zero integer, or an unknown option.
 * @example
 * ```ts
 * const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
 * avgPool2d(x, { kernelSize: 2, stride: 1 }).toArray(); // [[[[3, 4], [6, 7]]]]
 * avgPool2d(x, { kernelSize: 2, padding: 1, countIncludePad: false }).toArray(); // [[[[1, 2.5], [5.5, 7]]]]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.AvgPool2d.html
 */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  const op = 'avgPool2d';
  checkTensor(op, x, 'x');
  const d = deviceOf(op, x);
  const g = poolGeometry(op, x, options, [
    'kernelSize',
    'stride',
    'padding',
    'ceilMode',
    'countIncludePad',
    'divisorOverride',
  ]);
  const includePad = flag(op, 'countIncludePad', options.countIncludePad, true);
  const override = options.divisorOverride;
  if (override !== undefined && (!Number.isSafeInteger(override) || override === 0)) {
    invalidArgument(op, 'divisorOverride', 'a non-zero integer', override);
  }
  const [, C, H, W] = x.shape;
  const perSample = C * Math.max(g.kernel[0] * g.kernel[1] * g.out[0] * g.out[1], H * W);
  return inBatchChunks(x, perSample, chunkElements, (xs) => avgPoolCore(op, d, xs, g, includePad, override));
}

/** {@link avgPool2d} of a batch that fits, as one recorded op. */
function avgPoolCore(
  op: string,
  d: Device,
  x: Tensor,
  g: Geometry2d & { padding: [number, number] },
  includePad: boolean,
  override: number | undefined,
): Tensor {
  const [N, C, H, W] = x.shape;
  const [OH, OW] = g.out;
  const [KH, KW] = g.kernel;
  const [sh, sw] = g.stride;
  const [ph, pw] = g.padding;
  const divisors = new Float32Array(OH * OW);
  for (let i = 0; i < OH; i++) {
    const h0 = i * sh - ph;
    const h1 = Math.min(h0 + KH, H + ph);
    const rows = includePad ? h1 - h0 : Math.min(h1, H) - Math.max(h0, 0);
    for (let j = 0; j < OW; j++) {
      const w0 = j * sw - pw;
      const w1 = Math.min(w0 + KW, W + pw);
      const cols = includePad ? w1 - w0 : Math.min(w1, W) - Math.max(w0, 0);
      divisors[i * OW + j] = override ?? rows * cols;
    }
  }
  const uniform = divisors.every((v) => v === divisors[0]);
  const K = KH * KW;
  const spec = patchSpec(x.shape, g, 'taps', 0);
  const w5 = windows5(d, x.array, spec, [N, C, K, OH, OW]);
  let div: DeviceArray | null = null;
  let s: DeviceArray | null = null;
  let y: DeviceArray;
  try {
    s = d.sum(w5, 2);
    if (uniform) y = d.map(POOL_DIV_SCALAR, [s], [divisors[0]]);
    else {
      div = d.array(divisors, [OH, OW]);
      y = d.map(POOL_DIV, [s, div]);
    }
  } catch (e) {
    div?.dispose();
    throw e;
  } finally {
    disposeAll(w5, s);
  }
  const xShape = x.shape;
  const g5 = [N, C, K, OH, OW];
  return fromOp(
    op,
    y,
    [x],
    (ctx) => {
      const sd = div ? ctx.own(div) : null;
      return (dy) => {
        const dy5 = view(dy, [N, C, 1, OH, OW]);
        let gw: DeviceArray | null = null;
        let g6: DeviceArray | null = null;
        try {
          gw = sd ? d.map(POOL_DIV, [dy5, sd], [], g5) : d.map(POOL_DIV_SCALAR, [dy5], [divisors[0]], g5);
          g6 = view(gw, spec.outShape);
          return [d.windowScatterAdd(g6, spec, xShape)];
        } finally {
          disposeAll(dy5, gw, g6);
        }
      };
    },
    div ? [div] : [],
  );
}

/** Output size of {@link adaptiveAvgPool2d}: `s`, or `[oh, ow]` where `null` keeps the input's size. */
export type AdaptiveSize = number | readonly [number | null, number | null];

/** The [O, I] averaging matrix of one axis: row o averages [floor(o I / O), ceil((o + 1) I / O)). */
function adaptiveMatrix(I: number, O: number): Float32Array {
  const m = new Float32Array(O * I);
  for (let o = 0; o < O; o++) {
    const start = Math.floor((o * I) / O);
    const end = Math.ceil(((o + 1) * I) / O);
    for (let i = start; i < end; i++) m[o * I + i] = 1 / (end - start);
  }
  return m;
}

/**
 * 2-D adaptive average pooling, PyTorch's `F.adaptive_avg_pool2d`: output `[N, C, OH, OW]` where
 * `out[n, c, i, j]` is the mean of `x[n, c, h, w]` over `h` in `[floor(i H / OH), ceil((i + 1) H / OH))`
 * and `w` in `[floor(j W / OW), ceil((j + 1) W / OW))` (windows of uneven size, overlapping when
 * the size does not divide). `outputSize` is `s` or `[oh, ow]`, `null` keeping that input size;
 * `1` is global average pooling.
 *
 * Composition: global pooling (`1`) is a mean over H and W. Otherwise pooling is separable: the
 * input times the `[W, OW]` averaging matrix (one `matmul` over `[N C H, W]`), a transpose, the
 * `[OH, H]` matrix times that, and a transpose back. Gradient: the same matrices transposed.
 *
 * @throws {@link @gradkit/kernels!ShapeError} naming `adaptiveAvgPool2d` for an input that is not 4-D
 * or has a zero-size spatial axis.
 * @throws {@link @gradkit/kernels!ValueError} for an output size that is not a positive integer (or null).
 * @example
 * ```ts
 * adaptiveAvgPool2d(randn([8, 16, 7, 7]), 1).shape; // [8, 16, 1, 1]
 * adaptiveAvgPool2d(tensor([1, 2, 3, 4, 5], [1, 1, 1, 5]), [1, 3]).toArray(); // [[[[1.5, 3, 4.5]]]]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.AdaptiveAvgPool2d.html
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const op = 'adaptiveAvgPool2d';
  checkTensor(op, x, 'x');
  const d = deviceOf(op, x);
  check4d(op, 'x', x.shape);
  const [N, C, H, W] = x.shape;
  const sizes: readonly unknown[] =
    typeof outputSize === 'number' ? [outputSize, outputSize] : (outputSize as readonly unknown[]);
  const ok = (v: unknown) => v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);
  if (!Array.isArray(sizes) || sizes.length !== 2 || !sizes.every(ok)) {
    invalidArgument(
      op,
      'outputSize',
      'an integer >= 1 or a pair [oh, ow] of them (null keeps the size)',
      outputSize,
    );
  }
  if (H === 0 || W === 0) {
    throw new ShapeError(op, `x ${formatShape(x.shape)} has an empty spatial axis`, [x.shape]);
  }
  const OH = (sizes[0] as number | null) ?? H;
  const OW = (sizes[1] as number | null) ?? W;
  const xShape = x.shape;
  if (OH === 1 && OW === 1) {
    const y = d.mean(x.array, [2, 3], true);
    return fromOp(op, y, [x], () => (dy) => [d.map(POOL_DIV_SCALAR, [dy], [H * W], xShape)]);
  }
  const NC = N * C;
  const pw = d.array(adaptiveMatrix(W, OW), [OW, W]);
  let ph: DeviceArray | null = null;
  let y: DeviceArray;
  const arrays: (DeviceArray | null)[] = [];
  try {
    ph = d.array(adaptiveMatrix(H, OH), [OH, H]);
    const x2 = view(x.array, [NC * H, W]);
    arrays.push(x2);
    const t1 = d.matmul(x2, pw, { transB: true }); // [NC H, OW]
    arrays.push(t1);
    const t1v = view(t1, [NC, H, OW]);
    arrays.push(t1v);
    const t2 = d.transpose(t1v, [1, 0, 2]); // [H, NC, OW]
    arrays.push(t2);
    const t2v = view(t2, [H, NC * OW]);
    arrays.push(t2v);
    const t3 = d.matmul(ph, t2v); // [OH, NC OW]
    arrays.push(t3);
    const t3v = view(t3, [OH, NC, OW]);
    arrays.push(t3v);
    const t4 = d.transpose(t3v, [1, 0, 2]); // [NC, OH, OW]
    y = view(t4, [N, C, OH, OW]);
    t4.dispose();
  } catch (e) {
    disposeAll(pw, ph);
    throw e;
  } finally {
    disposeAll(...arrays);
  }
  const mh = ph;
  return fromOp(
    op,
    y,
    [x],
    (ctx) => {
      ctx.own(pw);
      ctx.own(mh);
      return (dy) => {
        const tmp: (DeviceArray | null)[] = [];
        try {
          const dy3 = view(dy, [NC, OH, OW]);
          tmp.push(dy3);
          const a = d.transpose(dy3, [1, 0, 2]); // [OH, NC, OW]
          tmp.push(a);
          const av = view(a, [OH, NC * OW]);
          tmp.push(av);
          const b = d.matmul(mh, av, { transA: true }); // [H, NC OW]
          tmp.push(b);
          const bv = view(b, [H, NC, OW]);
          tmp.push(bv);
          const c = d.transpose(bv, [1, 0, 2]); // [NC, H, OW]
          tmp.push(c);
          const cv = view(c, [NC * H, OW]);
          tmp.push(cv);
          const dx = d.matmul(cv, pw); // [NC H, W]
          const out = view(dx, xShape);
          dx.dispose();
          return [out];
        } finally {
          disposeAll(...tmp);
        }
      };
    },
    [pw, mh],
  );
}
