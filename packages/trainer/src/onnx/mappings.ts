import { AlphaDropout, Dropout, Dropout2d, GaussianDropout } from '@gradkit/dropout';
import type { Layer, LayerSpec } from '@gradkit/nn';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  Conv2d,
  ELU,
  Flatten,
  GELU,
  Identity,
  LeakyReLU,
  Linear,
  MaxPool2d,
  ReLU,
  SELU,
  Sigmoid,
  Softmax,
  Softplus,
  Tanh,
} from '@gradkit/nn';
import { BatchNorm, GroupNorm, LayerNorm, RMSNorm } from '@gradkit/normalization';
import type { Conv2dPadding } from '@gradkit/tensor';
import { ShapeError, ValueError } from '@gradkit/tensor';
import type { GraphBuilder, GraphValue } from './graph.js';
import type { StateReader } from './state-reader.js';

const OP = 'exportOnnx';

/** @internal What a layer's mapping gets: the graph, the state dict, where it is. */
export interface MappingContext {
  readonly g: GraphBuilder;
  readonly state: StateReader;
  /** The layer's index in the model (its state dict prefix). */
  readonly index: number;
  readonly spec: LayerSpec;
  /** `layer 3 (conv2d)`, for messages. */
  readonly where: string;
}

/** @internal Emits the ONNX nodes of one layer applied to `x`; returns its output. */
type Mapping = (layer: Layer, x: GraphValue, ctx: MappingContext) => GraphValue;

const fmt = (shape: readonly number[]) => `[N, ${shape.join(', ')}]`;
const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function expectRank(x: GraphValue, ranks: readonly number[], ctx: MappingContext, expected: string): void {
  if (!ranks.includes(x.shape.length + 1)) {
    throw new ShapeError(OP, `${ctx.where}: expects an input ${expected}, gets ${fmt(x.shape)}`, [x.shape]);
  }
}

function expectChannels(x: GraphValue, channels: number, ctx: MappingContext, expected: string): void {
  if (x.shape[0] !== channels) {
    throw new ShapeError(OP, `${ctx.where}: expects an input ${expected}, gets ${fmt(x.shape)}`, [x.shape]);
  }
}

/**
 * A parameter or buffer of the layer (of `shape` in the state dict) as an initializer named by its
 * state dict key, stored with dims `dims` (the same values, another view; default `shape`).
 */
function param(ctx: MappingContext, leaf: string, shape: readonly number[], dims = shape): string {
  const { key, data } = ctx.state.read(`${ctx.index}.${leaf}`, shape, ctx.where);
  return ctx.g.floats(key, dims, data);
}

/** A constant initializer (not in the state dict). */
function constant(ctx: MappingContext, leaf: string, shape: readonly number[], value: number): string {
  return ctx.g.floats(`${ctx.index}.${leaf}`, shape, new Float32Array(prod(shape)).fill(value));
}

const base = (ctx: MappingContext) => `${ctx.index}.${ctx.spec.type}`;

function unary(opType: string, attributes: Record<string, { float: number }> = {}): Mapping {
  return (_layer, x, ctx) => ({ name: ctx.g.node(opType, [x.name], base(ctx), attributes), shape: x.shape });
}

/** Output size of a window op along one axis (PyTorch's rule: in ceil mode the last window starts inside the input or the left padding). */
export function windowOut(
  size: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
  ceil: boolean,
): number {
  const span = size + padBegin + padEnd - dilation * (kernel - 1) - 1;
  let o = Math.floor((span + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (o - 1) * stride >= size + padBegin) o--;
  return o;
}

function checkWindow(out: readonly number[], x: GraphValue, ctx: MappingContext): void {
  if (out.some((o) => o < 1)) {
    throw new ShapeError(OP, `${ctx.where}: the input ${fmt(x.shape)} is smaller than the (dilated) window`, [
      x.shape,
    ]);
  }
}

/** PyTorch's padding of a conv as [top, bottom, left, right]. */
function convPads(
  padding: Conv2dPadding,
  kernel: readonly [number, number],
  dilation: readonly [number, number],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const th = dilation[0] * (kernel[0] - 1);
    const tw = dilation[1] * (kernel[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
  return [padding[0], padding[1], padding[2], padding[3]];
}

const linear: Mapping = (layer, x, ctx) => {
  const l = layer as Linear;
  if (x.shape.length !== 1 || x.shape[0] !== l.inFeatures) {
    throw new ShapeError(OP, `${ctx.where}: expects an input [N, ${l.inFeatures}], gets ${fmt(x.shape)}`, [
      x.shape,
    ]);
  }
  const inputs = [x.name, param(ctx, 'weight', [l.outFeatures, l.inFeatures])];
  if (l.bias) inputs.push(param(ctx, 'bias', [l.outFeatures]));
  return { name: ctx.g.node('Gemm', inputs, base(ctx), { transB: { int: 1 } }), shape: [l.outFeatures] };
};

const conv2d: Mapping = (layer, x, ctx) => {
  const c = layer as Conv2d;
  const expected = `[N, ${c.inChannels}, H, W]`;
  expectRank(x, [4], ctx, expected);
  expectChannels(x, c.inChannels, ctx, expected);
  const [top, bottom, left, right] = convPads(c.padding, c.kernelSize, c.dilation);
  const [kh, kw] = c.kernelSize;
  const out = [
    windowOut(x.shape[1], kh, c.stride[0], top, bottom, c.dilation[0], false),
    windowOut(x.shape[2], kw, c.stride[1], left, right, c.dilation[1], false),
  ];
  checkWindow(out, x, ctx);
  const inputs = [x.name, param(ctx, 'weight', [c.outChannels, c.inChannels / c.groups, kh, kw])];
  if (c.bias) inputs.push(param(ctx, 'bias', [c.outChannels]));
  const name = ctx.g.node('Conv', inputs, base(ctx), {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [...c.stride] },
    pads: { ints: [top, left, bottom, right] },
    dilations: { ints: [...c.dilation] },
    group: { int: c.groups },
  });
  return { name, shape: [c.outChannels, out[0], out[1]] };
};

/**
 * Pool geometry: output size per axis and the ONNX pads. A ceil-mode output that floor mode would
 * not give is reached by extra padding at the end (ignored by MaxPool; see avgPool2d), so
 * `ceil_mode` itself, whose rounding rule differs between ONNX versions and runtimes, is never
 * written.
 */
function poolGeometry(
  x: GraphValue,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  padding: readonly [number, number],
  dilation: readonly [number, number],
  ceil: boolean,
  ctx: MappingContext,
) {
  const out = [0, 1].map((a) =>
    windowOut(x.shape[a + 1], kernel[a], stride[a], padding[a], padding[a], dilation[a], ceil),
  );
  checkWindow(out, x, ctx);
  // extra end padding so that floor mode gives `out`: the last window's end inside the padded input
  const extra = [0, 1].map((a) =>
    Math.max(
      0,
      (out[a] - 1) * stride[a] + dilation[a] * (kernel[a] - 1) + 1 - (x.shape[a + 1] + 2 * padding[a]),
    ),
  );
  return { out, extra, pads: [padding[0], padding[1], padding[0] + extra[0], padding[1] + extra[1]] };
}

const maxPool2d: Mapping = (layer, x, ctx) => {
  const p = layer as MaxPool2d;
  expectRank(x, [4], ctx, '[N, C, H, W]');
  const { out, pads } = poolGeometry(x, p.kernelSize, p.stride, p.padding, p.dilation, p.ceilMode, ctx);
  let input = x.name;
  let poolPads = pads;
  if (pads.some((q, i) => q >= p.kernelSize[i % 2])) {
    // onnxruntime takes pads smaller than the kernel only: pad with -Infinity first (the same maxima)
    const [top, left, bottom, right] = pads;
    const padsConst = ctx.g.int64s(`${ctx.index}.pads`, [0, 0, top, left, 0, 0, bottom, right]);
    input = ctx.g.node(
      'Pad',
      [x.name, padsConst, ctx.g.scalar(`${ctx.index}.minusInf`, Number.NEGATIVE_INFINITY)],
      `${base(ctx)}.padded`,
    );
    poolPads = [0, 0, 0, 0];
  }
  const name = ctx.g.node('MaxPool', [input], base(ctx), {
    kernel_shape: { ints: [...p.kernelSize] },
    strides: { ints: [...p.stride] },
    pads: { ints: poolPads },
    dilations: { ints: [...p.dilation] },
  });
  return { name, shape: [x.shape[0], out[0], out[1]] };
};

/**
 * Average pooling. Without a ceil-mode overhang and without `divisorOverride`, ONNX's
 * AveragePool (`count_include_pad` as the layer's). Otherwise, exactly as PyTorch: the window sums
 * as a depthwise Conv with a kernel of ones (zero padding, the overhang as extra end padding),
 * divided by a constant `[OH, OW]` map of PyTorch's divisors (the override; or the window clipped
 * to the padded input with countIncludePad; or the count of real input elements).
 */
const avgPool2d: Mapping = (layer, x, ctx) => {
  const p = layer as AvgPool2d;
  expectRank(x, [4], ctx, '[N, C, H, W]');
  const one: readonly [number, number] = [1, 1];
  const { out, extra, pads } = poolGeometry(x, p.kernelSize, p.stride, p.padding, one, p.ceilMode, ctx);
  const shape = [x.shape[0], out[0], out[1]];
  const [kh, kw] = p.kernelSize;
  if (p.divisorOverride === undefined && extra[0] === 0 && extra[1] === 0) {
    const name = ctx.g.node('AveragePool', [x.name], base(ctx), {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [...p.stride] },
      pads: { ints: pads },
      count_include_pad: { int: p.countIncludePad ? 1 : 0 },
    });
    return { name, shape };
  }
  const channels = x.shape[0];
  const ones = constant(ctx, 'window', [channels, 1, kh, kw], 1);
  const sums = ctx.g.node('Conv', [x.name, ones], `${base(ctx)}.sum`, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [...p.stride] },
    pads: { ints: pads },
    group: { int: channels },
  });
  const divisors = new Float32Array(out[0] * out[1]);
  const [H, W] = [x.shape[1], x.shape[2]];
  const [ph, pw] = p.padding;
  for (let i = 0; i < out[0]; i++) {
    for (let j = 0; j < out[1]; j++) {
      let d: number;
      if (p.divisorOverride !== undefined) d = p.divisorOverride;
      else {
        let h0 = i * p.stride[0] - ph;
        let w0 = j * p.stride[1] - pw;
        let h1 = Math.min(h0 + kh, H + ph);
        let w1 = Math.min(w0 + kw, W + pw);
        if (p.countIncludePad) d = (h1 - h0) * (w1 - w0);
        else {
          h0 = Math.max(h0, 0);
          w0 = Math.max(w0, 0);
          h1 = Math.min(h1, H);
          w1 = Math.min(w1, W);
          d = (h1 - h0) * (w1 - w0);
        }
      }
      divisors[i * out[1] + j] = d;
    }
  }
  const div = ctx.g.floats(`${ctx.index}.divisor`, [out[0], out[1]], divisors);
  return { name: ctx.g.node('Div', [sums, div], base(ctx)), shape };
};

/**
 * Adaptive average pooling. Global (output 1x1): GlobalAveragePool. Output sizes that divide the
 * input (or keep it): AveragePool with kernel = stride = input / output. Any other size: PyTorch's
 * windows `[floor(i H / OH), ceil((i + 1) H / OH))` as averaging matrices, `A_h x A_w^T` (two
 * MatMuls), exact as in gradkit.
 */
const adaptiveAvgPool2d: Mapping = (layer, x, ctx) => {
  const p = layer as AdaptiveAvgPool2d;
  expectRank(x, [4], ctx, '[N, C, H, W]');
  const sizes = typeof p.outputSize === 'number' ? [p.outputSize, p.outputSize] : [...p.outputSize];
  const input = [x.shape[1], x.shape[2]];
  const out = sizes.map((s, a) => s ?? input[a]);
  const shape = [x.shape[0], out[0], out[1]];
  if (out[0] === input[0] && out[1] === input[1]) return x;
  if (out[0] === 1 && out[1] === 1) {
    return { name: ctx.g.node('GlobalAveragePool', [x.name], base(ctx)), shape };
  }
  if (input.every((s, a) => s % out[a] === 0)) {
    const k = input.map((s, a) => s / out[a]);
    const name = ctx.g.node('AveragePool', [x.name], base(ctx), {
      kernel_shape: { ints: k },
      strides: { ints: k },
    });
    return { name, shape };
  }
  const matrix = (O: number, I: number, transposed: boolean) => {
    const m = new Float32Array(O * I);
    for (let o = 0; o < O; o++) {
      const start = Math.floor((o * I) / O);
      const end = Math.ceil(((o + 1) * I) / O);
      for (let i = start; i < end; i++) m[transposed ? i * O + o : o * I + i] = 1 / (end - start);
    }
    return m;
  };
  const aw = ctx.g.floats(`${ctx.index}.cols`, [input[1], out[1]], matrix(out[1], input[1], true));
  const ah = ctx.g.floats(`${ctx.index}.rows`, [out[0], input[0]], matrix(out[0], input[0], false));
  const cols = ctx.g.node('MatMul', [x.name, aw], `${base(ctx)}.cols`);
  return { name: ctx.g.node('MatMul', [ah, cols], base(ctx)), shape };
};

/** Flatten: ONNX Flatten for PyTorch's default (dims 1..-1), otherwise a Reshape. */
const flatten: Mapping = (layer, x, ctx) => {
  const f = layer as Flatten;
  const rank = x.shape.length + 1;
  const norm = (d: number, what: string) => {
    const a = d < 0 ? d + rank : d;
    if (a < 0 || a >= rank) {
      throw new ShapeError(OP, `${ctx.where}: ${what} ${d} is out of range for an input ${fmt(x.shape)}`, [
        x.shape,
      ]);
    }
    return a;
  };
  const s = norm(f.startDim, 'startDim');
  const e = norm(f.endDim, 'endDim');
  if (s > e) {
    throw new ShapeError(OP, `${ctx.where}: startDim ${f.startDim} comes after endDim ${f.endDim}`, [
      x.shape,
    ]);
  }
  if (s === e) return x;
  if (s === 1 && e === rank - 1) {
    return { name: ctx.g.node('Flatten', [x.name], base(ctx), { axis: { int: 1 } }), shape: [prod(x.shape)] };
  }
  if (s === 0) {
    throw new ValueError(OP, `${ctx.where}: flattening the batch dimension (startDim 0) has no ONNX export`);
  }
  const shape = [...x.shape.slice(0, s - 1), prod(x.shape.slice(s - 1, e)), ...x.shape.slice(e)];
  // 0 copies the (dynamic) batch dimension of the input (Reshape's default allowzero = 0)
  const shapeConst = ctx.g.int64s(`${ctx.index}.shape`, [0, ...shape]);
  return { name: ctx.g.node('Reshape', [x.name, shapeConst], base(ctx)), shape };
};

/** GELU: PyTorch's exact `x / 2 (1 + erf(x / sqrt 2))` (opset 17 has no Gelu op), or the tanh form. */
const gelu: Mapping = (layer, x, ctx) => {
  const g = ctx.g;
  const b = base(ctx);
  const approximate = (layer as { approximate?: unknown }).approximate;
  let inner: string;
  if (approximate === 'tanh') {
    // tanh(sqrt(2 / pi) (x + 0.044715 x^3))
    const cube = g.node('Mul', [x.name, g.node('Mul', [x.name, x.name], `${b}.sq`)], `${b}.cube`);
    const poly = g.node(
      'Add',
      [x.name, g.node('Mul', [cube, g.scalar(`${ctx.index}.c`, 0.044715)], `${b}.t`)],
      `${b}.poly`,
    );
    const scaled = g.node('Mul', [poly, g.scalar(`${ctx.index}.k`, Math.sqrt(2 / Math.PI))], `${b}.u`);
    inner = g.node('Tanh', [scaled], `${b}.tanh`);
  } else if (approximate === undefined || approximate === 'none') {
    const scaled = g.node('Mul', [x.name, g.scalar(`${ctx.index}.rsqrt2`, Math.SQRT1_2)], `${b}.u`);
    inner = g.node('Erf', [scaled], `${b}.erf`);
  } else {
    throw new ValueError(OP, `${ctx.where}: approximate ${JSON.stringify(approximate)} has no ONNX mapping`);
  }
  const onePlus = g.node('Add', [inner, g.scalar(`${ctx.index}.one`, 1)], `${b}.cdf2`);
  const half = g.node('Mul', [x.name, g.scalar(`${ctx.index}.half`, 0.5)], `${b}.half`);
  return { name: g.node('Mul', [half, onePlus], b), shape: x.shape };
};

/** Softplus with PyTorch's threshold: `x > 20 ? x : log(1 + e^x)`. */
const softplus: Mapping = (_layer, x, ctx) => {
  const g = ctx.g;
  const b = base(ctx);
  const big = g.node('Greater', [x.name, g.scalar(`${ctx.index}.threshold`, 20)], `${b}.linear`);
  const soft = g.node('Softplus', [x.name], `${b}.soft`);
  return { name: g.node('Where', [big, x.name, soft], b), shape: x.shape };
};

const softmax: Mapping = (layer, x, ctx) => {
  const axis = (layer as Softmax).axis;
  const rank = x.shape.length + 1;
  if (axis < -rank || axis >= rank) {
    throw new ShapeError(OP, `${ctx.where}: axis ${axis} is out of range for an input ${fmt(x.shape)}`, [
      x.shape,
    ]);
  }
  return { name: ctx.g.node('Softmax', [x.name], base(ctx), { axis: { int: axis } }), shape: x.shape };
};

/** BatchNorm in inference form: BatchNormalization with the running statistics. */
const batchNorm: Mapping = (layer, x, ctx) => {
  const bn = layer as BatchNorm;
  const c = bn.numFeatures;
  const twoD = ctx.spec.type === 'batchNorm2d';
  const expected = twoD ? `[N, ${c}, H, W]` : `[N, ${c}] or [N, ${c}, L]`;
  expectRank(x, twoD ? [4] : [2, 3], ctx, expected);
  expectChannels(x, c, ctx, expected);
  if (!bn.trackRunningStats) {
    throw new ValueError(
      OP,
      `${ctx.where}: trackRunningStats false normalizes with each batch's statistics at inference; only running statistics have an ONNX mapping`,
    );
  }
  const scale = bn.weight ? param(ctx, 'weight', [c]) : constant(ctx, 'weight', [c], 1);
  const bias = bn.bias ? param(ctx, 'bias', [c]) : constant(ctx, 'bias', [c], 0);
  const mean = param(ctx, 'runningMean', [c]);
  const variance = param(ctx, 'runningVar', [c]);
  ctx.state.allow(`${ctx.index}.numBatchesTracked`, ctx.where);
  const name = ctx.g.node('BatchNormalization', [x.name, scale, bias, mean, variance], base(ctx), {
    epsilon: { float: bn.eps },
  });
  return { name, shape: x.shape };
};

function trailing(x: GraphValue, normalized: readonly number[], ctx: MappingContext): void {
  const tail = x.shape.slice(x.shape.length - normalized.length);
  if (x.shape.length < normalized.length || tail.some((d, i) => d !== normalized[i])) {
    throw new ShapeError(
      OP,
      `${ctx.where}: expects an input [N, *, ${normalized.join(', ')}], gets ${fmt(x.shape)}`,
      [x.shape],
    );
  }
}

const layerNorm: Mapping = (layer, x, ctx) => {
  const ln = layer as LayerNorm;
  const shape = ln.normalizedShape;
  trailing(x, shape, ctx);
  const inputs = [x.name, ln.weight ? param(ctx, 'weight', shape) : constant(ctx, 'weight', shape, 1)];
  if (ln.bias) inputs.push(param(ctx, 'bias', shape));
  const name = ctx.g.node('LayerNormalization', inputs, base(ctx), {
    axis: { int: -shape.length },
    epsilon: { float: ln.eps },
  });
  return { name, shape: x.shape };
};

/**
 * GroupNorm, decomposed: `[N, C, *]` viewed as `[N, G, C/G prod(*)]`, InstanceNormalization over
 * the last axis (scale 1, bias 0, biased variance), viewed back, then the per-channel affine.
 */
const groupNorm: Mapping = (layer, x, ctx) => {
  const gn = layer as GroupNorm;
  const c = gn.numChannels;
  const expected = `[N, ${c}, *]`;
  expectChannels(x, c, ctx, expected);
  const g = ctx.g;
  const b = base(ctx);
  const G = gn.numGroups;
  const grouped = g.node('Reshape', [x.name, g.int64s(`${ctx.index}.groups`, [0, G, -1])], `${b}.grouped`);
  const normed = g.node(
    'InstanceNormalization',
    [grouped, constant(ctx, 'ones', [G], 1), constant(ctx, 'zeros', [G], 0)],
    `${b}.normalized`,
    { epsilon: { float: gn.eps } },
  );
  let y = g.node(
    'Reshape',
    [normed, g.int64s(`${ctx.index}.shape`, [0, ...x.shape])],
    gn.affine ? `${b}.ungrouped` : b,
  );
  if (gn.affine) {
    // [C] stored as [C, 1, ...] so that it broadcasts against [N, C, *]
    const view = [c, ...x.shape.slice(1).map(() => 1)];
    y = g.node('Mul', [y, param(ctx, 'weight', [c], view)], `${b}.scaled`);
    y = g.node('Add', [y, param(ctx, 'bias', [c], view)], b);
  }
  return { name: y, shape: x.shape };
};

/** RMSNorm, decomposed: `x / sqrt(mean(x^2 over normalizedShape) + eps) * weight`. */
const rmsNorm: Mapping = (layer, x, ctx) => {
  const rn = layer as RMSNorm;
  const shape = rn.normalizedShape;
  trailing(x, shape, ctx);
  const g = ctx.g;
  const b = base(ctx);
  const sq = g.node('Mul', [x.name, x.name], `${b}.sq`);
  const axes = shape.map((_, i) => i - shape.length);
  const ms = g.node('ReduceMean', [sq], `${b}.meanSquare`, { axes: { ints: axes }, keepdims: { int: 1 } });
  const rms = g.node(
    'Sqrt',
    [g.node('Add', [ms, g.scalar(`${ctx.index}.eps`, rn.eps)], `${b}.plusEps`)],
    `${b}.rms`,
  );
  const normed = g.node('Div', [x.name, rms], rn.weight ? `${b}.normalized` : b);
  if (!rn.weight) return { name: normed, shape: x.shape };
  return { name: g.node('Mul', [normed, param(ctx, 'weight', shape)], b), shape: x.shape };
};

const identity: Mapping = (_layer, x) => x;

/** @internal The mapping of each spec type, with the class its layer must be. */
export const MAPPINGS: Readonly<
  Record<string, { readonly cls: abstract new (...a: never[]) => object; readonly map: Mapping }>
> = {
  linear: { cls: Linear, map: linear },
  conv2d: { cls: Conv2d, map: conv2d },
  maxPool2d: { cls: MaxPool2d, map: maxPool2d },
  avgPool2d: { cls: AvgPool2d, map: avgPool2d },
  adaptiveAvgPool2d: { cls: AdaptiveAvgPool2d, map: adaptiveAvgPool2d },
  flatten: { cls: Flatten, map: flatten },
  relu: { cls: ReLU, map: unary('Relu') },
  leakyRelu: {
    cls: LeakyReLU,
    map: (layer, x, ctx) =>
      unary('LeakyRelu', { alpha: { float: (layer as LeakyReLU).negativeSlope } })(layer, x, ctx),
  },
  tanh: { cls: Tanh, map: unary('Tanh') },
  sigmoid: { cls: Sigmoid, map: unary('Sigmoid') },
  gelu: { cls: GELU, map: gelu },
  // PyTorch's constants (ONNX's defaults are the same float32 values)
  selu: {
    cls: SELU,
    map: unary('Selu', { alpha: { float: 1.6732632423543772 }, gamma: { float: 1.0507009873554805 } }),
  },
  elu: { cls: ELU, map: unary('Elu', { alpha: { float: 1 } }) },
  softplus: { cls: Softplus, map: softplus },
  identity: { cls: Identity, map: identity },
  softmax: { cls: Softmax, map: softmax },
  batchNorm: { cls: BatchNorm, map: batchNorm },
  batchNorm2d: { cls: BatchNorm, map: batchNorm },
  layerNorm: { cls: LayerNorm, map: layerNorm },
  groupNorm: { cls: GroupNorm, map: groupNorm },
  rmsNorm: { cls: RMSNorm, map: rmsNorm },
  // identity at inference
  dropout: { cls: Dropout, map: identity },
  dropout2d: { cls: Dropout2d, map: identity },
  alphaDropout: { cls: AlphaDropout, map: identity },
  gaussianDropout: { cls: GaussianDropout, map: identity },
};

/** @internal Spec types {@link MAPPINGS} covers, sorted. */
export const MAPPED_TYPES: readonly string[] = Object.keys(MAPPINGS).sort();
