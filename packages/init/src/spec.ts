import type { Tensor } from '@gradkit/tensor';
import { DisposedError, noGrad, ValueError } from '@gradkit/tensor';
import { constant, ones, zeros } from './constant.js';
import type { DiracOptions } from './dirac.js';
import { dirac } from './dirac.js';
import type { Distribution } from './distribution.js';
import { sample } from './distribution.js';
import { eye } from './eye.js';
import { fillInPlace, finiteNumber } from './host.js';
import type { KaimingNormalOptions, KaimingOptions } from './kaiming.js';
import { kaimingNormalDistribution, kaimingUniformDistribution } from './kaiming.js';
import type { LecunNormalOptions } from './lecun.js';
import { lecunNormalDistribution, lecunUniformDistribution } from './lecun.js';
import type { NormalOptions } from './normal.js';
import { normalDistribution } from './normal.js';
import type { FillOptions, InitOptions } from './options.js';
import type { OrthogonalOptions } from './orthogonal.js';
import { orthogonal } from './orthogonal.js';
import { sampleScaled } from './scaled.js';
import type { TruncatedNormalOptions } from './truncated-normal.js';
import { truncatedNormalDistribution } from './truncated-normal.js';
import type { UniformOptions } from './uniform.js';
import { uniformDistribution } from './uniform.js';
import type { VarianceScalingOptions } from './variance-scaling.js';
import { varianceScalingDistribution } from './variance-scaling.js';
import type { XavierNormalOptions, XavierOptions } from './xavier.js';
import { xavierNormalDistribution, xavierUniformDistribution } from './xavier.js';

/**
 * An initializer described as data (JSON-serializable): the function's name and its options.
 * `initializer(spec)` turns it into a function, `initialize(tensor, spec)` fills a tensor.
 *
 * @example
 * ```ts
 * const specs: InitSpec[] = [
 *   { name: 'kaimingUniform', mode: 'fanIn', nonlinearity: 'relu' },
 *   { name: 'truncatedNormal', std: 0.02, a: -0.04, b: 0.04 },
 *   { name: 'zeros' },
 * ];
 * ```
 */
export type InitSpec =
  | {
      /** {@link zeros}. */
      readonly name: 'zeros';
    }
  | {
      /** {@link ones}. */
      readonly name: 'ones';
    }
  | {
      /** {@link constant}. */
      readonly name: 'constant';
      /** The value of every element. */
      readonly value: number;
    }
  | ({
      /** {@link uniform}. */
      readonly name: 'uniform';
    } & UniformOptions)
  | ({
      /** {@link normal}. */
      readonly name: 'normal';
    } & NormalOptions)
  | ({
      /** {@link truncatedNormal}. */
      readonly name: 'truncatedNormal';
    } & TruncatedNormalOptions)
  | ({
      /** {@link xavierUniform}. */
      readonly name: 'xavierUniform';
    } & XavierOptions)
  | ({
      /** {@link xavierNormal}. */
      readonly name: 'xavierNormal';
    } & XavierNormalOptions)
  | ({
      /** {@link kaimingUniform}. */
      readonly name: 'kaimingUniform';
    } & KaimingOptions)
  | ({
      /** {@link kaimingNormal}. */
      readonly name: 'kaimingNormal';
    } & KaimingNormalOptions)
  | {
      /** {@link lecunUniform}. */
      readonly name: 'lecunUniform';
    }
  | ({
      /** {@link lecunNormal}. */
      readonly name: 'lecunNormal';
    } & LecunNormalOptions)
  | ({
      /** {@link varianceScaling}. */
      readonly name: 'varianceScaling';
    } & VarianceScalingOptions)
  | ({
      /** {@link orthogonal}. */
      readonly name: 'orthogonal';
    } & OrthogonalOptions)
  | {
      /** {@link eye}. */
      readonly name: 'eye';
    }
  | ({
      /** {@link dirac}. */
      readonly name: 'dirac';
    } & DiracOptions);

/** The names of the initializers a spec can name. */
export type InitName = InitSpec['name'];

/** Specs whose values are drawn i.i.d. from one {@link Distribution} (all but orthogonal, eye, dirac). */
export type ElementwiseInitSpec = Exclude<
  InitSpec,
  {
    /** The structured initializers, which are not i.i.d. */
    readonly name: 'orthogonal' | 'eye' | 'dirac';
  }
>;

/** An initializer function: a new tensor of `shape`. */
export type Initializer = (shape: readonly number[], options?: InitOptions) => Tensor;

const KEYS: Readonly<Record<InitName, readonly string[]>> = {
  zeros: [],
  ones: [],
  constant: ['value'],
  uniform: ['a', 'b'],
  normal: ['mean', 'std'],
  truncatedNormal: ['mean', 'std', 'a', 'b'],
  xavierUniform: ['gain'],
  xavierNormal: ['gain', 'truncated'],
  kaimingUniform: ['a', 'mode', 'nonlinearity'],
  kaimingNormal: ['a', 'mode', 'nonlinearity', 'truncated'],
  lecunUniform: [],
  lecunNormal: ['truncated'],
  varianceScaling: ['scale', 'mode', 'distribution'],
  orthogonal: ['gain'],
  eye: [],
  dirac: ['groups'],
};

/**
 * Every name an {@link InitSpec} may have.
 *
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * INIT_NAMES.includes('kaimingUniform'); // true
 * ```
 */
export const INIT_NAMES: readonly InitName[] = Object.keys(KEYS) as InitName[];

const STRUCTURED: readonly InitName[] = ['orthogonal', 'eye', 'dirac'];

/** The distribution of an element-wise spec for `shape` (validates the options). */
function elementwise(op: string, spec: ElementwiseInitSpec, shape: readonly number[]): Distribution {
  switch (spec.name) {
    case 'zeros':
      return { kind: 'constant', value: 0 };
    case 'ones':
      return { kind: 'constant', value: 1 };
    case 'constant':
      return { kind: 'constant', value: finiteNumber(op, 'value', spec.value) };
    case 'uniform':
      return uniformDistribution(op, spec);
    case 'normal':
      return normalDistribution(op, spec);
    case 'truncatedNormal':
      return truncatedNormalDistribution(op, spec);
    case 'xavierUniform':
      return xavierUniformDistribution(op, shape, spec);
    case 'xavierNormal':
      return xavierNormalDistribution(op, shape, spec);
    case 'kaimingUniform':
      return kaimingUniformDistribution(op, shape, spec);
    case 'kaimingNormal':
      return kaimingNormalDistribution(op, shape, spec);
    case 'lecunUniform':
      return lecunUniformDistribution(op, shape);
    case 'lecunNormal':
      return lecunNormalDistribution(op, shape, spec);
    case 'varianceScaling':
      return varianceScalingDistribution(op, shape, spec);
  }
}

const FAN_BASED: readonly InitName[] = [
  'xavierUniform',
  'xavierNormal',
  'kaimingUniform',
  'kaimingNormal',
  'lecunUniform',
  'lecunNormal',
  'varianceScaling',
];

/**
 * Checks that `spec` is a well-formed {@link InitSpec} (a known name, no unknown keys, valid
 * option values) and returns it typed. Use it on specs read from JSON.
 *
 * @throws {ValueError} naming the problem: an unknown name (listing the known ones), an unknown
 *   key (listing the allowed ones), or an invalid value.
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const spec = checkInitSpec(JSON.parse('{"name":"kaimingNormal","mode":"fanOut"}'));
 * ```
 */
export function checkInitSpec(spec: unknown): InitSpec {
  const op = 'checkInitSpec';
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new ValueError(
      op,
      `an initializer spec must be an object { name, ...options }, got ${JSON.stringify(spec)}`,
    );
  }
  const name = (spec as { name?: unknown }).name;
  if (typeof name !== 'string' || !Object.hasOwn(KEYS, name)) {
    throw new ValueError(op, `unknown initializer ${JSON.stringify(name)}; known: ${INIT_NAMES.join(', ')}`);
  }
  const allowed = KEYS[name as InitName];
  for (const key of Object.keys(spec)) {
    if (key !== 'name' && !allowed.includes(key)) {
      throw new ValueError(
        op,
        `'${name}' has no option '${key}'; its options: ${allowed.length ? allowed.join(', ') : '(none)'}`,
      );
    }
  }
  const s = spec as InitSpec;
  const opName = `${op}(${name})`;
  // Validate the option values on a shape every initializer accepts.
  if (s.name === 'orthogonal') finiteNumber(opName, 'gain', s.gain ?? 1);
  else if (s.name === 'dirac') {
    const g = s.groups ?? 1;
    if (!Number.isInteger(g) || g < 1)
      throw new ValueError(opName, `groups must be a positive integer, got ${String(g)}`);
  } else if (s.name !== 'eye') elementwise(opName, s, [1, 1]);
  return s;
}

/**
 * The distribution an element-wise spec draws from for a weight of `shape`: the exact bound or
 * standard deviation the initializer uses (e.g. `{ kind: 'uniform', low: -b, high: b }` with
 * `b = sqrt(6 / fanIn)` for the default `kaimingUniform`). Sampling it with {@link sample}
 * gives the same numbers as the initializer.
 *
 * @throws {ValueError} for an invalid spec or a structured one (orthogonal, eye, dirac).
 *   {@link @gradkit/tensor!ShapeError} for a fan-based spec and a shape of rank < 2 or with a zero fan.
 * @see K. He et al., ICCV 2015; X. Glorot and Y. Bengio, AISTATS 2010.
 * @example
 * ```ts
 * distributionOf({ name: 'xavierUniform' }, [3, 5]); // { kind: 'uniform', low: -0.866..., high: 0.866... }
 * ```
 */
export function distributionOf(spec: ElementwiseInitSpec, shape: readonly number[]): Distribution {
  const s = checkInitSpec(spec);
  if (STRUCTURED.includes(s.name)) {
    throw new ValueError(
      'distributionOf',
      `'${s.name}' is not element-wise i.i.d. and has no single distribution`,
    );
  }
  return elementwise('distributionOf', s as ElementwiseInitSpec, shape);
}

function create(op: string, s: InitSpec, shape: readonly number[], options: InitOptions): Tensor {
  switch (s.name) {
    case 'zeros':
      return zeros(shape, options);
    case 'ones':
      return ones(shape, options);
    case 'constant':
      return constant(shape, s.value, options);
    case 'orthogonal':
      return orthogonal(shape, { ...options, gain: s.gain });
    case 'eye':
      return eye(shape, options);
    case 'dirac':
      return dirac(shape, { ...options, groups: s.groups });
    default:
      if (FAN_BASED.includes(s.name))
        return sampleScaled(op, shape, options, () => elementwise(op, s, shape));
      return sample(elementwise(op, s, shape), shape, options);
  }
}

/**
 * Turns a spec into an initializer function: `initializer({ name: 'kaimingUniform', ...o })(shape)`
 * equals `kaimingUniform(shape, o)`. The spec is checked now ({@link checkInitSpec}).
 *
 * @throws {ValueError} for an invalid spec.
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const init = initializer({ name: 'kaimingNormal', mode: 'fanOut', nonlinearity: 'relu' });
 * const w = init([64, 3, 3, 3], { rng: new Rng(0) });
 * ```
 */
export function initializer(spec: InitSpec): Initializer {
  const s = checkInitSpec(spec);
  const op = `initializer(${s.name})`;
  return (shape, options = {}) => create(op, s, shape, options);
}

/**
 * Fills `t` (a tensor or Parameter) in place as `spec` describes and returns it: the values are
 * replaced (same tensor, device and `requiresGrad`; not recorded by autograd).
 *
 * @throws {ValueError} for an invalid spec; {@link @gradkit/tensor!ShapeError} when the spec does not fit t's shape.
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * initialize(layer.weight, { name: 'xavierUniform', gain: calculateGain('tanh') });
 * ```
 */
export function initialize<T extends Tensor>(t: T, spec: InitSpec, options: FillOptions = {}): T {
  const s = checkInitSpec(spec);
  const op = `initialize(${s.name})`;
  return fillInPlace(op, t, (shape, o) => create(op, s, shape, o), options);
}

/** Something with named parameters, as `Module` of `@gradkit/tensor`. */
export interface HasNamedParameters {
  /** The parameters as `[dottedName, tensor]` pairs, in a fixed order. */
  namedParameters(): readonly (readonly [string, Tensor])[];
}

/**
 * Rules for {@link initializeParameters}: specs by parameter name (a full dotted name such as
 * `'layers.0.weight'`, or a last segment such as `'weight'`; the full name wins), or a function
 * that returns the spec for a parameter (or `undefined` to leave it as it is).
 */
export type InitRules =
  | Readonly<Record<string, InitSpec>>
  | ((name: string, parameter: Tensor) => InitSpec | undefined);

/**
 * Re-initializes a module's parameters from specs (a model's initialization described as data).
 * Parameters are visited in `namedParameters()` order, so a seed fixes every value. All new values
 * are computed first and written only when every rule succeeded (nothing is written half-way).
 *
 * @returns the names of the parameters that were initialized.
 * @throws {ValueError} for an invalid spec; {@link @gradkit/tensor!ShapeError} when a spec does not fit a
 *   parameter's shape (the message names the initializer).
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * initializeParameters(model, {
 *   weight: { name: 'kaimingUniform', nonlinearity: 'relu' },
 *   bias: { name: 'zeros' },
 * }, { rng: new Rng(42) });
 * ```
 */
export function initializeParameters(
  module: HasNamedParameters,
  rules: InitRules,
  options: FillOptions = {},
): string[] {
  const op = 'initializeParameters';
  if (typeof rules !== 'function' && (typeof rules !== 'object' || rules === null)) {
    throw new ValueError(op, 'rules must be an object of specs by name or a function');
  }
  const ruleOf = (name: string, p: Tensor): InitSpec | undefined => {
    if (typeof rules === 'function') return rules(name, p);
    if (Object.hasOwn(rules, name)) return rules[name];
    const last = name.slice(name.lastIndexOf('.') + 1);
    return Object.hasOwn(rules, last) ? rules[last] : undefined;
  };
  const planned: [string, Tensor, Tensor][] = [];
  try {
    for (const [name, p] of module.namedParameters()) {
      const spec = ruleOf(name, p);
      if (spec === undefined) continue;
      const s = checkInitSpec(spec);
      if (p.isDisposed) throw new DisposedError(op, `parameter '${name}' was disposed`);
      const fresh = create(`${op}(${name}: ${s.name})`, s, p.shape, { rng: options.rng, device: p.device });
      planned.push([name, p, fresh]);
    }
    noGrad(() => {
      for (const [, p, fresh] of planned) p.assign(fresh);
    });
  } finally {
    for (const [, , fresh] of planned) fresh.dispose();
  }
  return planned.map(([name]) => name);
}
