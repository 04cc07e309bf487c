// The PyTorch equivalent of every layer type a gradkit model description can hold: the Python
// expression that builds it and the state dict entries (names and shapes) it owns. One table, so
// the exporter and its key check cannot disagree.
import type { JsonValue, LayerSpec } from '@gradkit/nn';
import { ValueError } from '@gradkit/tensor';

/** A Python helper class model.py needs for a layer PyTorch 1.13 has no module for. */
export type TorchHelper = 'PaddedConv2d' | 'RMSNorm' | 'GaussianDropout';

/** What one layer becomes in PyTorch. */
export interface TorchLayer {
  /** The Python expression that builds the module (`nn.Linear(784, 256, bias=True)`). */
  readonly python: string;
  /** Its state dict entries, in PyTorch's order, with their shapes and dtypes. */
  readonly entries: readonly { name: string; shape: number[]; dtype?: 'int64' }[];
  /** Helper classes the expression uses. */
  readonly helpers: readonly TorchHelper[];
  /** A comment for model.py (a convention that differs while training), if any. */
  readonly note?: string;
}

const OP = 'exportTorch';

/** A Python literal: numbers, booleans as True/False, null as None, lists as tuples, strings quoted. */
export function py(v: JsonValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ValueError(OP, `cannot write the non-finite number ${v} to Python`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 1 ? `(${py(v[0])},)` : `(${v.map(py).join(', ')})`;
  throw new ValueError(OP, `cannot write ${JSON.stringify(v)} as a Python argument`);
}

function bad(where: string, key: string, what: string, v: unknown): never {
  throw new ValueError(OP, `${where}: '${key}' must be ${what}, got ${JSON.stringify(v)}`);
}

function int(s: LayerSpec, where: string, key: string, fallback?: number): number {
  const v = s[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    bad(where, key, 'a non-negative integer', v);
  return v as number;
}

function num(s: LayerSpec, where: string, key: string, fallback: number): number {
  const v = s[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(where, key, 'a finite number', v);
  return v as number;
}

function bool(s: LayerSpec, where: string, key: string, fallback: boolean): boolean {
  const v = s[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') bad(where, key, 'a boolean', v);
  return v as boolean;
}

/** An integer or a pair, as [h, w]. */
function pair(s: LayerSpec, where: string, key: string, fallback: [number, number]): [number, number] {
  const v = s[key];
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number' && Number.isSafeInteger(d)))
    return [v[0] as number, v[1] as number];
  return bad(where, key, 'an integer or a pair [h, w] of integers', v);
}

/** A shape option (a number or a list of numbers) as a list. */
function dims(s: LayerSpec, where: string, key: string): number[] {
  const v = s[key];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return [v];
  if (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d > 0)
  )
    return v as number[];
  return bad(where, key, 'a positive integer or a list of them', v);
}

const args = (...parts: (string | null)[]) => parts.filter((p) => p !== null).join(', ');
const plain = (python: string): TorchLayer => ({ python, entries: [], helpers: [] });

function linear(s: LayerSpec, w: string): TorchLayer {
  const inF = int(s, w, 'in');
  const out = int(s, w, 'out');
  const bias = s.bias !== false;
  return {
    python: `nn.Linear(${inF}, ${out}, bias=${py(bias)})`,
    entries: [{ name: 'weight', shape: [out, inF] }, ...(bias ? [{ name: 'bias', shape: [out] }] : [])],
    helpers: [],
  };
}

function conv2d(s: LayerSpec, w: string): TorchLayer {
  const inC = int(s, w, 'in');
  const out = int(s, w, 'out');
  const [kh, kw] = pair(s, w, 'kernelSize', [-1, -1]);
  if (kh < 1 || kw < 1) bad(w, 'kernelSize', 'an integer or a pair [h, w] of integers', s.kernelSize);
  const stride = pair(s, w, 'stride', [1, 1]);
  const dilation = pair(s, w, 'dilation', [1, 1]);
  const groups = int(s, w, 'groups', 1);
  if (groups < 1 || inC % groups !== 0) bad(w, 'groups', `a positive divisor of in (${inC})`, s.groups);
  const bias = bool(s, w, 'bias', true);
  const p = s.padding ?? 0;
  let padding: string;
  let cls = 'nn.Conv2d';
  let extra: string | null = null;
  if (p === 'same' || p === 'valid') padding = py(p);
  else if (typeof p === 'number' && Number.isSafeInteger(p)) padding = py(p);
  else if (Array.isArray(p) && p.length === 2) padding = py(p);
  else if (Array.isArray(p) && p.length === 4 && p.every((d) => typeof d === 'number')) {
    const [top, bottom, left, right] = p as number[];
    if (top === bottom && left === right) padding = py([top, left]);
    else {
      // asymmetric zero padding: F.pad(x, (left, right, top, bottom)) before an unpadded conv
      cls = 'PaddedConv2d';
      padding = '0';
      extra = `pad=${py([left, right, top, bottom])}`;
    }
  } else {
    return bad(w, 'padding', "an integer, [ph, pw], [top, bottom, left, right], 'same' or 'valid'", p);
  }
  return {
    python: `${cls}(${args(
      String(inC),
      String(out),
      `kernel_size=${py([kh, kw])}`,
      `stride=${py(stride)}`,
      `padding=${padding}`,
      `dilation=${py(dilation)}`,
      `groups=${groups}`,
      `bias=${py(bias)}`,
      extra,
    )})`,
    entries: [
      { name: 'weight', shape: [out, inC / groups, kh, kw] },
      ...(bias ? [{ name: 'bias', shape: [out] }] : []),
    ],
    helpers: cls === 'PaddedConv2d' ? ['PaddedConv2d'] : [],
  };
}

function batchNorm(s: LayerSpec, w: string, rank: '1d' | '2d'): TorchLayer {
  const c = int(s, w, 'numFeatures');
  const keras = s.convention === 'keras';
  if (s.convention !== undefined && s.convention !== 'keras' && s.convention !== 'pytorch')
    bad(w, 'convention', "'pytorch' or 'keras'", s.convention);
  const eps = num(s, w, 'eps', keras ? 1e-3 : 1e-5);
  let momentum: number | null;
  if (s.momentum === null) momentum = null;
  else {
    const m = num(s, w, 'momentum', keras ? 0.99 : 0.1);
    // Keras' momentum is the decay of the running statistics; PyTorch's the weight of the batch
    momentum = keras ? Number((1 - m).toPrecision(12)) : m; // 1 - 0.99 -> 0.01, not 0.010000000000000009
  }
  const affine = bool(s, w, 'affine', true);
  const track = bool(s, w, 'trackRunningStats', true);
  return {
    python: `nn.BatchNorm${rank}(${args(
      String(c),
      `eps=${py(eps)}`,
      `momentum=${py(momentum)}`,
      `affine=${py(affine)}`,
      `track_running_stats=${py(track)}`,
    )})`,
    entries: [
      ...(affine
        ? [
            { name: 'weight', shape: [c] },
            { name: 'bias', shape: [c] },
          ]
        : []),
      ...(track
        ? [
            { name: 'running_mean', shape: [c] },
            { name: 'running_var', shape: [c] },
            { name: 'num_batches_tracked', shape: [], dtype: 'int64' as const },
          ]
        : []),
    ],
    helpers: [],
    ...(keras
      ? {
          note: "gradkit convention 'keras': momentum converted to PyTorch's (1 - decay); in training PyTorch puts the unbiased batch variance into running_var, Keras the biased one",
        }
      : {}),
  };
}

/** Every exportable layer type and how it maps. */
const TABLE: Record<string, (s: LayerSpec, where: string) => TorchLayer> = {
  linear,
  conv2d,
  maxPool2d: (s, w) => {
    const k = pair(s, w, 'kernelSize', [-1, -1]);
    if (k[0] < 1) bad(w, 'kernelSize', 'an integer or a pair [h, w] of integers', s.kernelSize);
    return plain(
      `nn.MaxPool2d(${args(
        `kernel_size=${py(k)}`,
        `stride=${py(pair(s, w, 'stride', k))}`,
        `padding=${py(pair(s, w, 'padding', [0, 0]))}`,
        `dilation=${py(pair(s, w, 'dilation', [1, 1]))}`,
        `ceil_mode=${py(bool(s, w, 'ceilMode', false))}`,
      )})`,
    );
  },
  avgPool2d: (s, w) => {
    const k = pair(s, w, 'kernelSize', [-1, -1]);
    if (k[0] < 1) bad(w, 'kernelSize', 'an integer or a pair [h, w] of integers', s.kernelSize);
    return plain(
      `nn.AvgPool2d(${args(
        `kernel_size=${py(k)}`,
        `stride=${py(pair(s, w, 'stride', k))}`,
        `padding=${py(pair(s, w, 'padding', [0, 0]))}`,
        `ceil_mode=${py(bool(s, w, 'ceilMode', false))}`,
        `count_include_pad=${py(bool(s, w, 'countIncludePad', true))}`,
        s.divisorOverride === undefined ? null : `divisor_override=${int(s, w, 'divisorOverride')}`,
      )})`,
    );
  },
  adaptiveAvgPool2d: (s, w) => {
    const o = s.outputSize;
    const ok = (d: JsonValue) => d === null || (typeof d === 'number' && Number.isSafeInteger(d) && d > 0);
    if (!(ok(o) && o !== null) && !(Array.isArray(o) && o.length === 2 && o.every(ok)))
      bad(w, 'outputSize', 'an integer or a pair [oh, ow] of integers or nulls', o);
    return plain(`nn.AdaptiveAvgPool2d(${py(o as JsonValue)})`);
  },
  flatten: (s, w) =>
    plain(`nn.Flatten(start_dim=${num(s, w, 'startDim', 1)}, end_dim=${num(s, w, 'endDim', -1)})`),
  relu: () => plain('nn.ReLU()'),
  leakyRelu: (s, w) => plain(`nn.LeakyReLU(negative_slope=${py(num(s, w, 'negativeSlope', 0.01))})`),
  tanh: () => plain('nn.Tanh()'),
  sigmoid: () => plain('nn.Sigmoid()'),
  gelu: (s, w) => {
    const a = s.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') bad(w, 'approximate', "'none' or 'tanh'", a);
    return plain(a === 'tanh' ? 'nn.GELU(approximate="tanh")' : 'nn.GELU()');
  },
  selu: () => plain('nn.SELU()'),
  elu: () => plain('nn.ELU()'),
  softplus: () => plain('nn.Softplus()'),
  identity: () => plain('nn.Identity()'),
  softmax: (s, w) => plain(`nn.Softmax(dim=${num(s, w, 'axis', -1)})`),
  batchNorm: (s, w) => batchNorm(s, w, '1d'),
  batchNorm2d: (s, w) => batchNorm(s, w, '2d'),
  layerNorm: (s, w) => {
    const shape = dims(s, w, 'normalizedShape');
    const affine = bool(s, w, 'elementwiseAffine', true);
    return {
      python: `nn.LayerNorm(${py(shape)}, eps=${py(num(s, w, 'eps', 1e-5))}, elementwise_affine=${py(affine)})`,
      entries: affine
        ? [
            { name: 'weight', shape },
            { name: 'bias', shape },
          ]
        : [],
      helpers: [],
    };
  },
  groupNorm: (s, w) => {
    const c = int(s, w, 'numChannels');
    const affine = bool(s, w, 'affine', true);
    return {
      python: `nn.GroupNorm(${int(s, w, 'numGroups')}, ${c}, eps=${py(num(s, w, 'eps', 1e-5))}, affine=${py(affine)})`,
      entries: affine
        ? [
            { name: 'weight', shape: [c] },
            { name: 'bias', shape: [c] },
          ]
        : [],
      helpers: [],
    };
  },
  rmsNorm: (s, w) => {
    const shape = dims(s, w, 'normalizedShape');
    return {
      python: `RMSNorm(${py(shape)}, eps=${py(num(s, w, 'eps', 2 ** -23))})`,
      entries: [{ name: 'weight', shape }],
      helpers: ['RMSNorm'],
    };
  },
  dropout: (s, w) => plain(`nn.Dropout(p=${py(num(s, w, 'p', 0.5))})`),
  dropout2d: (s, w) => plain(`nn.Dropout2d(p=${py(num(s, w, 'p', 0.5))})`),
  alphaDropout: (s, w) => plain(`nn.AlphaDropout(p=${py(num(s, w, 'p', 0.5))})`),
  gaussianDropout: (s, w) => ({
    python: `GaussianDropout(p=${py(num(s, w, 'p', 0.5))})`,
    entries: [],
    helpers: ['GaussianDropout'],
  }),
};

/**
 * The layer types {@link exportTorch} can write, sorted.
 *
 * @example
 * ```ts
 * torchLayerTypes().includes('batchNorm2d'); // true
 * ```
 */
export function torchLayerTypes(): string[] {
  return Object.keys(TABLE).sort();
}

/** The PyTorch form of layer `index` of a model description. */
export function torchLayer(spec: LayerSpec, index: number): TorchLayer {
  if (typeof spec !== 'object' || spec === null || typeof spec.type !== 'string')
    throw new ValueError(OP, `layer ${index}: expected an object with a 'type', got ${JSON.stringify(spec)}`);
  const where = `layer ${index} (${spec.type})`;
  if (!Object.hasOwn(TABLE, spec.type)) {
    throw new ValueError(
      OP,
      `${where}: no PyTorch equivalent is known for this layer type (exportable: ${torchLayerTypes().join(', ')})`,
    );
  }
  return TABLE[spec.type](spec, where);
}
