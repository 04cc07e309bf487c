import type { DeviceArray, Shape, WindowSpec } from '@gradkit/kernels';
import {
  checkKnownKeys,
  checkOptions,
  formatShape,
  invalidArgument,
  ShapeError,
  ValueError,
} from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { inBatchChunks } from './batch-chunks.js';
import type { Geometry2d } from './conv-geometry.js';
import { check4d, pair2, patchSpec } from './conv-geometry.js';
import { checkTensor, deviceOf } from './operands.js';
import type { Tensor } from './tensor.js';
import { disposeAll, view } from './util.js';

/**
 * Padding of {@link conv2d}:
 *
 * - `p` (a number): `p` zeros on all four sides;
 * - `[ph, pw]`: `ph` rows on the top and on the bottom, `pw` columns on the left and on the right
 *   (PyTorch's tuple form);
 * - `[top, bottom, left, right]`: explicit per side (note: `F.pad` lists `(left, right, top,
 *   bottom)`, last axis first; this form lists H before W);
 * - `'valid'`: no padding;
 * - `'same'`: the output has the input's size; the total `dilation (k - 1)` per axis is split as
 *   PyTorch does, `floor(total / 2)` on the top/left and the rest (one more for an even kernel)
 *   on the bottom/right. Requires stride 1, as in PyTorch.
 */
export type Conv2dPadding =
  | number
  | readonly [number, number]
  | readonly [number, number, number, number]
  | 'same'
  | 'valid';

/** Options of {@link conv2d}: PyTorch's `F.conv2d` arguments. */
export interface Conv2dOptions {
  /** Step between output positions, `s` or `[sh, sw]`. Default 1. */
  readonly stride?: number | readonly [number, number];
  /** Zero padding (see {@link Conv2dPadding}). Default 0. */
  readonly padding?: Conv2dPadding;
  /** Spacing between kernel taps, `d` or `[dh, dw]`. Default 1. */
  readonly dilation?: number | readonly [number, number];
  /** Channel groups: input and output channels split into `groups` blocks, block `g` of the output sees only block `g` of the input (`groups = Cin`: depthwise). Default 1. */
  readonly groups?: number;
}

const KNOWN = ['stride', 'padding', 'dilation', 'groups'];

let chunkElements: number | null = null;

/** @internal Test hook: caps the elements of one batch chunk's largest intermediate (null: the device's limit). */
export function _setConvChunkElements(n: number | null): void {
  chunkElements = n;
}

/**
 * 2-D cross-correlation over an NCHW batch, PyTorch's `F.conv2d`:
 *
 * ```
 * out[n, o, i, j] = bias[o] + sum_{c < Cin/G, u < KH, v < KW}
 *     w[o, c, u, v] * xpad[n, g(o) Cin/G + c, i sh + u dh, j sw + v dw]
 * ```
 *
 * with `g(o) = floor(o / (Cout / G))` and `xpad` the input with zero padding (top/left before
 * index 0). Output size `OH = floor((H + top + bottom - dh (KH - 1) - 1) / sh) + 1`, likewise `OW`.
 * `x` is `[N, Cin, H, W]`, `weight` `[Cout, Cin / groups, KH, KW]`, `bias` `[Cout]` or null.
 * Defaults: stride 1, padding 0, dilation 1, groups 1.
 *
 * Composition: with one group, the patches are read by one window kernel into the im2col matrix
 * `[Cin KH KW, N OH OW]` (channel-major, so its rows are long and contiguous), the flattened
 * weight `[Cout, Cin KH KW]` multiplies it, and `[Cout, N, OH OW]` is swapped to NCHW. With
 * groups (depthwise included), the patches `[Cin/G KH KW, N, G, 1, OH OW]` are multiplied
 * element-wise with the weight laid out `[Cin/G KH KW, 1, G, Cout/G, 1]` and summed over the
 * leading axis. Gradients: input = the window scatter-add of `dy W` (overlapping patches add up,
 * padding gets nothing), weight = `dy^T` times the patches, bias = `dy` summed over N, H, W. The
 * patches are kept for the weight gradient. When the largest intermediate would exceed the
 * device's per-kernel limit (`info().maxKernelElements`, 2^23 on gl, else `maxElements`), the
 * batch is processed in chunks.
 *
 * @throws {@link @gradkit/kernels!ShapeError} naming `conv2d` when x or weight is not 4-D, the
 * channels do not match (`Cin = weight.shape[1] * groups`), `Cout` is not divisible by `groups`,
 * the bias is not `[Cout]`, or the padded input is smaller than the dilated kernel.
 * @throws {@link @gradkit/kernels!ValueError} for a stride, dilation or groups below 1, a negative
 * or malformed padding, `'same'` with a stride other than 1, or an unknown option.
 * @example
 * ```ts
 * const x = randn([8, 3, 28, 28]);
 * const w = randn([16, 3, 3, 3], { requiresGrad: true });
 * conv2d(x, w, null, { padding: 1 }).shape; // [8, 16, 28, 28]
 * conv2d(x, w, null, { stride: 2, padding: 'valid' }).shape; // [8, 16, 13, 13]
 * conv2d(x, randn([3, 1, 3, 3]), null, { groups: 3, padding: 'same' }).shape; // depthwise: [8, 3, 28, 28]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.conv2d.html
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkTensor(op, x, 'x');
  checkTensor(op, weight, 'weight');
  if (bias !== null && bias !== undefined) checkTensor(op, bias, 'bias');
  const b = bias ?? null;
  deviceOf(op, x, weight, ...(b ? [b] : [])); // one device for all, or a typed error
  const opts = checkOptions(op, options);
  checkKnownKeys(op, opts, KNOWN);
  const stride = pair2(op, 'stride', opts.stride, 1, 1);
  const dilation = pair2(op, 'dilation', opts.dilation, 1, 1);
  const groups = opts.groups ?? 1;
  if (typeof groups !== 'number' || !Number.isSafeInteger(groups) || groups < 1) {
    invalidArgument(op, 'groups', 'an integer >= 1', groups);
  }
  check4d(op, 'x', x.shape);
  check4d(op, 'weight', weight.shape, '[Cout, Cin / groups, KH, KW]');
  const [, Cin, H, W] = x.shape;
  const [Cout, Cg, KH, KW] = weight.shape;
  const shapes = [x.shape, weight.shape];
  if (Cin % groups !== 0 || Cg * groups !== Cin) {
    throw new ShapeError(
      op,
      `x ${formatShape(x.shape)} has ${Cin} channels but weight ${formatShape(weight.shape)} expects ${Cg} x groups ${groups} = ${Cg * groups}`,
      shapes,
    );
  }
  if (Cout % groups !== 0 || Cout === 0) {
    throw new ShapeError(
      op,
      `weight ${formatShape(weight.shape)} has ${Cout} output channels, not a positive multiple of groups ${groups}`,
      shapes,
    );
  }
  if (b && (b.rank !== 1 || b.shape[0] !== Cout)) {
    throw new ShapeError(
      op,
      `bias must have shape [${Cout}] (weight ${formatShape(weight.shape)}), got ${formatShape(b.shape)}`,
      [...shapes, b.shape],
    );
  }
  const kernel: [number, number] = [KH, KW];
  const pads = resolvePadding(op, opts.padding, kernel, stride, dilation);
  const out: number[] = [];
  for (let a = 0; a < 2; a++) {
    const span = dilation[a] * (kernel[a] - 1) + 1;
    const len = x.shape[2 + a] + pads[2 * a] + pads[2 * a + 1];
    if (span > len) {
      throw new ShapeError(
        op,
        `the ${a === 0 ? 'height' : 'width'} ${x.shape[2 + a]} padded to ${len} is smaller than the dilated kernel (${span}) for x ${formatShape(x.shape)} and weight ${formatShape(weight.shape)}`,
        shapes,
      );
    }
    out.push(Math.floor((len - span) / stride[a]) + 1);
  }
  const g: Geometry2d = {
    kernel,
    stride,
    dilation,
    before: [pads[0], pads[2]],
    out: [out[0], out[1]],
  };
  // Tile the batch when one intermediate (im2col matrix or grouped products) would not fit.
  const L = g.out[0] * g.out[1];
  const perSample = Math.max(
    groups === 1 ? L * Cin * KH * KW : L * Cout * Cg * KH * KW,
    Cin * H * W,
    Cout * L,
  );
  return inBatchChunks(x, perSample, chunkElements, (xs) => convCore(xs, weight, b, g, groups));
}

/** [top, bottom, left, right] from the padding option. */
function resolvePadding(
  op: string,
  padding: unknown,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
): [number, number, number, number] {
  if (padding === undefined || padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new ValueError(
        op,
        `padding 'same' requires stride 1 (as PyTorch), got stride [${stride.join(', ')}]`,
      );
    }
    const th = dilation[0] * (kernel[0] - 1);
    const tw = dilation[1] * (kernel[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  const ok = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (ok(padding)) {
    const p = padding as number;
    return [p, p, p, p];
  }
  if (Array.isArray(padding) && padding.every(ok)) {
    if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
    if (padding.length === 4) return [padding[0], padding[1], padding[2], padding[3]];
  }
  return invalidArgument(
    op,
    'padding',
    "an integer >= 0, [ph, pw], [top, bottom, left, right], 'same' or 'valid'",
    padding,
  );
}

/** One convolution of a batch that fits, as one recorded op. */
function convCore(x: Tensor, w: Tensor, b: Tensor | null, g: Geometry2d, groups: number): Tensor {
  return groups === 1 ? convGemm(x, w, b, g) : convGrouped(x, w, b, g, groups);
}

/**
 * dy of [N, Cout, OH, OW] summed to the bias [Cout]: over the batch first (a sum over the leading
 * axis, a SIMD loop on wasm), then over the positions of each channel (short rows). One sum over
 * axes [0, 2, 3] visits the same terms, but its rows, as long as the batch times the image, ran
 * as a scalar loop.
 */
function biasGrad(dy: DeviceArray): DeviceArray {
  const d = dy.device;
  const [N, C, H, W] = dy.shape;
  const rows = view(dy, [N, C * H * W]);
  let perPosition: DeviceArray | null = null;
  try {
    perPosition = d.sum(rows, 0);
    const grid = view(perPosition, [C, H * W]);
    try {
      return d.sum(grid, 1);
    } finally {
      grid.dispose();
    }
  } finally {
    rows.dispose();
    perPosition?.dispose();
  }
}

/** y [N, Cout, L] (owned) plus bias, as [N, Cout, OH, OW]. */
function finish(y: DeviceArray, b: Tensor | null, outShape: Shape): DeviceArray {
  const d = y.device;
  let r = y;
  if (b) {
    const bv = view(b.array, [1, b.shape[0], 1]);
    try {
      r = d.binary('add', y, bv);
    } finally {
      bv.dispose();
      y.dispose();
    }
  }
  const o = view(r, outShape);
  r.dispose();
  return o;
}

/**
 * Groups = 1: the weight [Cout, Cin K] times the channel-major im2col matrix [Cin K, N L] (read
 * with the batch and output positions as its long, contiguous rows), then [Cout, N, L] swapped to
 * [N, Cout, L]. Backward: dx = the scatter-add of W^T dy, dW = dy times the patches transposed.
 */
function convGemm(x: Tensor, w: Tensor, b: Tensor | null, g: Geometry2d): Tensor {
  const d = x.device;
  const [N, Cin] = x.shape;
  const [Cout] = w.shape;
  const K = g.kernel[0] * g.kernel[1];
  const L = g.out[0] * g.out[1];
  const CK = Cin * K;
  const spec = patchSpec(x.shape, g, 'channels', 0);
  const outShape = [N, Cout, g.out[0], g.out[1]];
  const cols = d.window(x.array, spec);
  const A = view(cols, [CK, N * L]);
  cols.dispose();
  let y: DeviceArray;
  const w2 = view(w.array, [Cout, CK]);
  let y2: DeviceArray | null = null;
  try {
    y2 = d.matmul(w2, A);
    if (b) {
      // the bias added to the GEMM's [Cout, N L] rows (a broadcast along the contiguous axis,
      // which every backend runs as a fast loop), before the swap to [N, Cout, L]
      const bv = view(b.array, [Cout, 1]);
      try {
        const yb = d.binary('add', y2, bv);
        y2.dispose();
        y2 = yb;
      } finally {
        bv.dispose();
      }
    }
    const y3 = view(y2, [Cout, N, L]);
    try {
      y = finish(d.transpose(y3, [1, 0, 2]), null, outShape);
    } finally {
      y3.dispose();
    }
  } catch (e) {
    A.dispose();
    throw e;
  } finally {
    w2.dispose();
    y2?.dispose();
  }
  const xShape = x.shape;
  const wShape = w.shape;
  return fromOp(
    'conv2d',
    y,
    b ? [x, w, b] : [x, w],
    (ctx) => {
      const sa = ctx.needs[1] ? ctx.own(A) : null;
      const sw = ctx.needs[0] ? ctx.save(w.array) : null;
      return (dy) => {
        if (!sa && !sw) return [null, null, ctx.needs[2] ? biasGrad(dy) : null];
        const dy3 = view(dy, [N, Cout, L]);
        const dyt = d.transpose(dy3, [1, 0, 2]);
        const dY = view(dyt, [Cout, N * L]);
        disposeAll(dy3, dyt);
        let dx: DeviceArray | null = null;
        let db: DeviceArray | null = null;
        try {
          if (ctx.needs[2]) db = biasGrad(dy);
          if (sw) {
            const sw2 = view(sw, [Cout, CK]);
            const dA = d.matmul(sw2, dY, { transA: true });
            const dA6 = view(dA, spec.outShape);
            disposeAll(sw2, dA);
            try {
              dx = d.windowScatterAdd(dA6, spec, xShape);
            } finally {
              dA6.dispose();
            }
          }
          let dw: DeviceArray | null = null;
          if (sa) {
            const dw2 = d.matmul(dY, sa, { transB: true });
            dw = view(dw2, wShape);
            dw2.dispose();
          }
          return [dx, dw, db];
        } catch (e) {
          disposeAll(dx, db);
          throw e;
        } finally {
          dY.dispose();
        }
      };
    },
    [A],
  );
}

/**
 * Groups > 1: the patches read tap-major, [Cg K, N, G, 1, L] (input channel within the group and
 * kernel tap first, long contiguous rows), times the weight laid out [Cg K, 1, G, Og, 1], summed
 * over the leading axis into [N, G, Og, L] = [N, Cout, L]. Backward: dx = the scatter-add of
 * dy W (summed over the Og outputs of a group), dW = the patches times dy summed over N and L.
 */
function convGrouped(x: Tensor, w: Tensor, b: Tensor | null, g: Geometry2d, G: number): Tensor {
  const d = x.device;
  const [N, Cin] = x.shape;
  const [Cout] = w.shape;
  const Og = Cout / G;
  const CgK = (Cin / G) * g.kernel[0] * g.kernel[1];
  const L = g.out[0] * g.out[1];
  const spec: WindowSpec = patchSpec(x.shape, g, 'grouped-channels', 0, G);
  const outShape = [N, Cout, g.out[0], g.out[1]];
  // the weight [Cout, Cg K] as [Cg K, 1, G, Og, 1] (a small transpose)
  const tapMajor = (wa: DeviceArray): DeviceArray => {
    const w2 = view(wa, [Cout, CgK]);
    try {
      const t = d.transpose(w2, [1, 0]);
      const v = view(t, [CgK, 1, G, Og, 1]);
      t.dispose();
      return v;
    } finally {
      w2.dispose();
    }
  };
  const win = d.window(x.array, spec);
  const P = view(win, [CgK, N, G, 1, L]);
  win.dispose();
  let y: DeviceArray;
  let wv: DeviceArray | null = null;
  let prod: DeviceArray | null = null;
  try {
    wv = tapMajor(w.array);
    prod = d.binary('mul', P, wv);
    const s = d.sum(prod, 0);
    const s3 = view(s, [N, Cout, L]);
    s.dispose();
    y = finish(s3, b, outShape);
  } catch (e) {
    P.dispose();
    throw e;
  } finally {
    disposeAll(prod, wv);
  }
  const xShape = x.shape;
  const wShape = w.shape;
  return fromOp(
    'conv2d',
    y,
    b ? [x, w, b] : [x, w],
    (ctx) => {
      const sp = ctx.needs[1] ? ctx.own(P) : null;
      const sw = ctx.needs[0] ? ctx.save(w.array) : null;
      return (dy) => {
        const db = ctx.needs[2] ? biasGrad(dy) : null;
        let dx: DeviceArray | null = null;
        const dy5 = view(dy, [1, N, G, Og, L]);
        try {
          if (sw) {
            const wv2 = tapMajor(sw);
            const t = d.binary('mul', dy5, wv2);
            wv2.dispose();
            const s = Og > 1 ? d.sum(t, 3) : t;
            if (s !== t) t.dispose();
            const s7 = view(s, spec.outShape);
            s.dispose();
            try {
              dx = d.windowScatterAdd(s7, spec, xShape);
            } finally {
              s7.dispose();
            }
          }
          let dw: DeviceArray | null = null;
          if (sp) {
            const t = d.binary('mul', sp, dy5);
            const s1 = d.sum(t, 4); // [Cg K, N, G, Og]: contiguous rows of L
            t.dispose();
            const s2 = d.sum(s1, 1); // [Cg K, G, Og]
            s1.dispose();
            const s3 = view(s2, [CgK, Cout]);
            s2.dispose();
            const dwt = d.transpose(s3, [1, 0]);
            s3.dispose();
            dw = view(dwt, wShape);
            dwt.dispose();
          }
          return [dx, dw, db];
        } catch (e) {
          disposeAll(dx, db);
          throw e;
        } finally {
          dy5.dispose();
        }
      };
    },
    [P],
  );
}
