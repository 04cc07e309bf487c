import { checkInitSpec, initializer } from '@gradkit/init';
import type { AdaptiveSize, Conv2dPadding, Device, Rng } from '@gradkit/tensor';
import { getRng, ValueError } from '@gradkit/tensor';
import {
  ELU,
  GELU,
  Identity,
  LeakyReLU,
  ReLU,
  SELU,
  Sigmoid,
  Softmax,
  Softplus,
  Tanh,
} from './activations.js';
import { Conv2d } from './conv2d.js';
import { Flatten } from './flatten.js';
import type { Initializer } from './linear.js';
import { Linear } from './linear.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './pooling.js';
import type { Layer } from './sequential.js';
import { Sequential } from './sequential.js';

/** A JSON value (what a model description may hold). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

/**
 * One layer described as data: a `type` registered with {@link registerLayer} plus its options.
 *
 * @example
 * ```ts
 * const spec: LayerSpec = { type: 'linear', in: 784, out: 256 };
 * ```
 */
export interface LayerSpec {
  /** The layer type, as registered with {@link registerLayer} (`'linear'`, `'relu'`, ...). */
  readonly type: string;
  /** The layer's options (`in`, `out`, `bias`, ...), JSON values only. */
  readonly [option: string]: JsonValue;
}

/** A whole model described as data: a format tag, a version and the layers of a {@link Sequential}. */
export interface ModelSpec {
  /** The format tag. */
  readonly format: 'gradkit.sequential';
  /** The format version. */
  readonly version: 1;
  /** The layers, in order. */
  readonly layers: readonly LayerSpec[];
}

/** What a layer factory gets besides its spec. */
export interface BuildContext {
  /** Generator for initial values. */
  readonly rng: Rng;
  /** Device of the parameters (default device when absent). */
  readonly device?: Device;
  /** Resolves an initializer description (`'pytorch'`, or a name/spec understood by the resolver). */
  readonly resolveInit: (spec: JsonValue, where: string) => Initializer | undefined;
}

/** Builds a layer from its spec (and, optionally, describes a layer it built). */
export interface LayerFactory {
  /** Builds a new layer from its spec; throws a `ValueError` for invalid options. */
  build(spec: LayerSpec, context: BuildContext): Layer;
}

const factories = new Map<string, LayerFactory>();
const specs = new WeakMap<object, LayerSpec>();

/**
 * Registers (or replaces) how a layer `type` is built from data. Packages whose modules plug into
 * {@link Sequential} (normalization, dropout) are registered by the trainer, which may import
 * them.
 *
 * @example
 * ```ts
 * registerLayer('dropout', { build: (s) => new Dropout(Number(s.p)) });
 * ```
 */
export function registerLayer(type: string, factory: LayerFactory): void {
  if (typeof type !== 'string' || type === '')
    throw new ValueError('registerLayer', 'type must be a non-empty string');
  factories.set(type, factory);
}

/**
 * The registered layer types, sorted.
 *
 * @example
 * ```ts
 * layerTypes().includes('linear'); // true
 * ```
 */
export function layerTypes(): string[] {
  return [...factories.keys()].sort();
}

/**
 * The number option `key` of a layer spec (or `fallback` when absent), for layer factories.
 *
 * @throws {ValueError} naming the layer type and the key when the value is not a finite number.
 * @example
 * ```ts
 * registerLayer('dropout', { build: (s) => new Dropout(specNumber(s, 'p', 0.5)) });
 * ```
 */
export function specNumber(spec: LayerSpec, key: string, fallback?: number): number {
  const v = spec[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueError(
      'buildModel',
      `layer '${spec.type}': '${key}' must be a number, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** The spatial option `key` of a spec when `accept` takes it (undefined when absent); else a ValueError naming the layer type and the key. */
function specGeometry<T>(
  spec: LayerSpec,
  key: string,
  what: string,
  accept: (v: JsonValue) => boolean,
): T | undefined {
  const v = spec[key];
  if (v === undefined) return undefined;
  if (!accept(v)) {
    throw new ValueError(
      'buildModel',
      `layer '${spec.type}': '${key}' must be ${what}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
}

const isInt = (v: JsonValue) => typeof v === 'number' && Number.isSafeInteger(v);
const isSize2 = (v: JsonValue) => isInt(v) || (Array.isArray(v) && v.length === 2 && v.every(isInt));
const SIZE = 'an integer or a pair [h, w] of integers';

function size2(spec: LayerSpec, key: string): number | [number, number] | undefined {
  return specGeometry(spec, key, SIZE, isSize2);
}

/** The required `kernelSize` of a conv or pooling spec. */
function kernelSize2(spec: LayerSpec): number | [number, number] {
  const k = size2(spec, 'kernelSize');
  if (k === undefined) {
    throw new ValueError('buildModel', `layer '${spec.type}': 'kernelSize' must be ${SIZE}, got undefined`);
  }
  return k;
}

/** The options every weight layer shares: its generator, device, and resolved initializers. */
function weightLayerOptions(spec: LayerSpec, ctx: BuildContext) {
  const where = `layer '${spec.type}'`;
  const weightInit =
    spec.weightInit === undefined ? undefined : ctx.resolveInit(spec.weightInit, `${where} weightInit`);
  const biasInit =
    spec.biasInit === undefined ? undefined : ctx.resolveInit(spec.biasInit, `${where} biasInit`);
  return {
    rng: ctx.rng,
    ...(ctx.device ? { device: ctx.device } : {}),
    ...(weightInit ? { weightInit } : {}),
    ...(biasInit ? { biasInit } : {}),
  };
}

function spatialBool(spec: LayerSpec, key: string): { [k: string]: boolean } {
  const v = spec[key];
  if (v === undefined) return {};
  if (typeof v !== 'boolean') {
    throw new ValueError(
      'buildModel',
      `layer '${spec.type}': '${key}' must be a boolean, got ${JSON.stringify(v)}`,
    );
  }
  return { [key]: v };
}

/** `{ [key]: value }` when the value is present, else `{}` (for optional options). */
function opt<T>(key: string, value: T | undefined): { [k: string]: T } {
  return value === undefined ? {} : { [key]: value };
}

function simple(make: () => Layer): LayerFactory {
  return { build: () => make() };
}

registerLayer('linear', {
  build(spec, ctx) {
    return new Linear(specNumber(spec, 'in'), specNumber(spec, 'out'), {
      bias: spec.bias !== false,
      ...weightLayerOptions(spec, ctx),
    });
  },
});
registerLayer('conv2d', {
  build(spec, ctx) {
    const options = weightLayerOptions(spec, ctx);
    const kernelSize = kernelSize2(spec);
    const padding = specGeometry<Conv2dPadding>(
      spec,
      'padding',
      "an integer, [ph, pw], [top, bottom, left, right], 'same' or 'valid'",
      (v) =>
        v === 'same' ||
        v === 'valid' ||
        isInt(v) ||
        (Array.isArray(v) && (v.length === 2 || v.length === 4) && v.every(isInt)),
    );
    return new Conv2d(specNumber(spec, 'in'), specNumber(spec, 'out'), kernelSize, {
      ...opt('stride', size2(spec, 'stride')),
      ...opt('padding', padding),
      ...opt('dilation', size2(spec, 'dilation')),
      ...(spec.groups === undefined ? {} : { groups: specNumber(spec, 'groups') }),
      ...spatialBool(spec, 'bias'),
      ...options,
    });
  },
});
registerLayer('maxPool2d', {
  build(spec) {
    return new MaxPool2d(kernelSize2(spec), {
      ...opt('stride', size2(spec, 'stride')),
      ...opt('padding', size2(spec, 'padding')),
      ...opt('dilation', size2(spec, 'dilation')),
      ...spatialBool(spec, 'ceilMode'),
    });
  },
});
registerLayer('avgPool2d', {
  build(spec) {
    return new AvgPool2d(kernelSize2(spec), {
      ...opt('stride', size2(spec, 'stride')),
      ...opt('padding', size2(spec, 'padding')),
      ...spatialBool(spec, 'ceilMode'),
      ...spatialBool(spec, 'countIncludePad'),
      ...(spec.divisorOverride === undefined ? {} : { divisorOverride: specNumber(spec, 'divisorOverride') }),
    });
  },
});
registerLayer('adaptiveAvgPool2d', {
  build(spec) {
    const outputSize = specGeometry<AdaptiveSize>(
      spec,
      'outputSize',
      'an integer or a pair [oh, ow] of integers or nulls',
      (v) => isInt(v) || (Array.isArray(v) && v.length === 2 && v.every((e) => e === null || isInt(e))),
    );
    if (outputSize === undefined) {
      throw new ValueError(
        'buildModel',
        `layer '${spec.type}': 'outputSize' is required (1 for global average pooling)`,
      );
    }
    return new AdaptiveAvgPool2d(outputSize);
  },
});
registerLayer('flatten', {
  build: (spec) => new Flatten(specNumber(spec, 'startDim', 1), specNumber(spec, 'endDim', -1)),
});
registerLayer(
  'relu',
  simple(() => new ReLU()),
);
registerLayer('leakyRelu', { build: (spec) => new LeakyReLU(specNumber(spec, 'negativeSlope', 0.01)) });
registerLayer(
  'tanh',
  simple(() => new Tanh()),
);
registerLayer(
  'sigmoid',
  simple(() => new Sigmoid()),
);
registerLayer('gelu', {
  // `approximate`: 'none' (default, exact) or 'tanh', as nn.GELU(approximate=...)
  build(spec) {
    const approximate = spec.approximate;
    if (approximate !== undefined && approximate !== 'none' && approximate !== 'tanh') {
      throw new ValueError(
        'buildModel',
        `layer '${spec.type}': 'approximate' must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`,
      );
    }
    return new GELU(approximate === undefined ? {} : { approximate });
  },
});
registerLayer(
  'selu',
  simple(() => new SELU()),
);
registerLayer(
  'elu',
  simple(() => new ELU()),
);
registerLayer(
  'softplus',
  simple(() => new Softplus()),
);
registerLayer(
  'identity',
  simple(() => new Identity()),
);
registerLayer('softmax', { build: (spec) => new Softmax(specNumber(spec, 'axis', -1)) });

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** Generator for initial values (default: the global one). */
  readonly rng?: Rng;
  /** Device of the parameters. */
  readonly device?: Device;
  /**
   * Resolves initializer descriptions (default {@link resolveInitSpec}: `'pytorch'`, an
   * `@gradkit/init` name or spec). Return undefined to keep the layer's default.
   */
  readonly resolveInit?: (spec: JsonValue, where: string) => Initializer | undefined;
}

/**
 * The default initializer resolver: `'pytorch'` (or null) keeps the layer's PyTorch default; a
 * name (`'kaimingNormal'`) or an `@gradkit/init` spec (`{ name: 'kaimingUniform', nonlinearity:
 * 'relu' }`) becomes that initializer, drawn from the build's generator.
 *
 * @throws {ValueError} naming `where` for an unknown name or an invalid spec.
 * @example
 * ```ts
 * const init = resolveInitSpec({ name: 'kaimingNormal', nonlinearity: 'relu' }, 'layers[0].weightInit');
 * init?.([256, 784], { fanIn: 784, fanOut: 256, rng: new Rng(0) }).shape; // [256, 784]
 * resolveInitSpec('pytorch', 'layers[0].weightInit'); // undefined: keep the default
 * ```
 */
export function resolveInitSpec(spec: JsonValue, where: string): Initializer | undefined {
  if (spec === 'pytorch' || spec === null) return undefined;
  let init: ReturnType<typeof initializer>;
  try {
    init = initializer(checkInitSpec(typeof spec === 'string' ? { name: spec } : spec));
  } catch (e) {
    throw new ValueError('buildModel', `${where}: ${(e as Error).message}`);
  }
  return (shape, { rng, device }) => init(shape, { rng, ...(device ? { device } : {}) });
}

/**
 * Builds a {@link Sequential} from its description (a {@link ModelSpec} or a plain layer list);
 * every layer remembers its spec so {@link describeModel} returns it unchanged. A checkpoint can
 * therefore rebuild its own model.
 *
 * @throws {ValueError} naming the layer index and type for an unknown type or a bad option.
 * @example
 * ```ts
 * const model = buildModel([{ type: 'linear', in: 784, out: 256 }, { type: 'relu' }, { type: 'linear', in: 256, out: 10 }]);
 * ```
 */
export function buildModel(
  spec: ModelSpec | readonly LayerSpec[],
  options: BuildModelOptions = {},
): Sequential {
  const layers = Array.isArray(spec) ? (spec as readonly LayerSpec[]) : (spec as ModelSpec).layers;
  if (!Array.isArray(layers))
    throw new ValueError('buildModel', 'expected a layer list or { layers: [...] }');
  if (!Array.isArray(spec)) {
    const m = spec as ModelSpec;
    if (m.format !== 'gradkit.sequential' || m.version !== 1) {
      throw new ValueError(
        'buildModel',
        `unsupported model format ${JSON.stringify(m.format)} version ${m.version}`,
      );
    }
  }
  const context: BuildContext = {
    rng: options.rng ?? getRng(),
    ...(options.device ? { device: options.device } : {}),
    resolveInit: options.resolveInit ?? resolveInitSpec,
  };
  const model = new Sequential();
  layers.forEach((l, i) => {
    if (typeof l !== 'object' || l === null || typeof l.type !== 'string') {
      throw new ValueError(
        'buildModel',
        `layer ${i}: expected an object with a 'type', got ${JSON.stringify(l)}`,
      );
    }
    const factory = factories.get(l.type);
    if (!factory) {
      throw new ValueError(
        'buildModel',
        `layer ${i}: unknown type '${l.type}' (known: ${layerTypes().join(', ')})`,
      );
    }
    let layer: Layer;
    try {
      layer = factory.build(l, context);
    } catch (e) {
      model.dispose();
      if (e instanceof Error) e.message = `layer ${i} (${l.type}): ${e.message}`;
      throw e;
    }
    specs.set(layer, { ...l });
    model.append(layer);
  });
  return model;
}

/**
 * The description of a model built by {@link buildModel}: the layer specs it was built from.
 *
 * @throws {ValueError} when a layer was not built from a description.
 * @example
 * ```ts
 * JSON.stringify(describeModel(buildModel(layers))); // round-trips
 * ```
 */
export function describeModel(model: Sequential): ModelSpec {
  const layers = model.children.map((layer, i) => {
    const s = specs.get(layer);
    if (!s) throw new ValueError('describeModel', `layer ${i} was not built from a description`);
    return s;
  });
  return { format: 'gradkit.sequential', version: 1, layers };
}
