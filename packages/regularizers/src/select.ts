import type { AnyModule, Params } from '@gradkit/tensor';
import { DisposedError, invalidArgument, Module, Tensor, ValueError } from '@gradkit/tensor';

/**
 * Where regularizers find parameters: a {@link Module} (its `namedParameters()`), named
 * {@link Params} (`{ 'fc.weight': w, ... }`), or any iterable of `[name, tensor]` pairs (a `Map`,
 * the array `model.namedParameters()` returns).
 *
 * @example
 * ```ts
 * l2Penalty(model, 1e-4);
 * l2Penalty({ w: w1, v: w2 }, 1e-4);
 * l2Penalty(new Map([['fc.weight', w]]), 1e-4);
 * ```
 */
export type ParamSource = AnyModule | Params | Iterable<readonly [string, Tensor]>;

/** A rule over a parameter's dotted name and its tensor (rank, shape). */
export type ParamPredicate = (name: string, param: Tensor) => boolean;

/**
 * One way to pick parameters:
 *
 * - a string matches the whole name (`'fc1.weight'`), a module prefix (`'fc1'` matches
 *   `'fc1.weight'` and `'fc1.bias'`) or a last segment (`'weight'` matches `'fc1.weight'`);
 * - a RegExp is tested against the whole dotted name;
 * - a {@link ParamPredicate} gets the name and the tensor.
 */
export type ParamMatcher = string | RegExp | ParamPredicate;

/** One {@link ParamMatcher} or a list of them (a parameter matches when any of them does). */
export type ParamFilter = ParamMatcher | readonly ParamMatcher[];

/**
 * Which parameters a regularizer acts on: those that match `include` and do not match `exclude`
 * (exclusion wins).
 */
export interface SelectOptions {
  /** Only parameters that match (default: every parameter). */
  readonly include?: ParamFilter;
  /**
   * Parameters to leave alone. Default: {@link excludedByDefault} (biases and normalization
   * scales/shifts). `null` excludes nothing; a filter replaces the default rule (combine them
   * with `[excludedByDefault, /^head\./]`).
   */
  readonly exclude?: ParamFilter | null;
}

const BIAS = /bias$/i;
const VECTOR_NAMES = /^(b\d*|weight|gamma|beta|scale|shift|offset)$/i;

/**
 * The default exclusion rule of every regularizer in this package, decided by the last segment
 * of the dotted name (and the rank):
 *
 * - names ending in `bias` (any case, any rank): `bias`, `fc.bias`, `in_proj_bias`, `attnBias`;
 * - 0-D or 1-D parameters named `b`, `b1`, `b2`, ... (the short bias names of hand-written
 *   modules) or `weight`, `gamma`, `beta`, `scale`, `shift`, `offset` (the scales and shifts of
 *   normalization layers: PyTorch's `BatchNorm.weight`/`bias`, Keras' `gamma`/`beta`, TF's
 *   `scale`/`offset`).
 *
 * Everything else is regularized, including 1-D parameters with other names.
 *
 * @example
 * ```ts
 * excludedByDefault('layers.0.bias', b); // true
 * excludedByDefault('norm.weight', gamma1d); // true (1-D)
 * excludedByDefault('fc.weight', w2d); // false
 * ```
 */
export function excludedByDefault(name: string, param: Tensor): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  if (BIAS.test(last)) return true;
  return param.rank <= 1 && VECTOR_NAMES.test(last);
}

function checkMatcher(op: string, option: string, m: unknown): void {
  if (typeof m === 'string' || m instanceof RegExp || typeof m === 'function') return;
  throw new ValueError(
    op,
    `${option} must be a string, a RegExp, a function (name, param) => boolean or a list of them, got ${
      m === null ? 'null' : typeof m
    }`,
  );
}

function toMatchers(op: string, option: string, f: ParamFilter): readonly ParamMatcher[] {
  const list: readonly ParamMatcher[] = Array.isArray(f)
    ? (f as readonly ParamMatcher[])
    : [f as ParamMatcher];
  for (const m of list) checkMatcher(op, option, m);
  return list;
}

function matches(m: ParamMatcher, name: string, param: Tensor): boolean {
  if (typeof m === 'string') return name === m || name.startsWith(`${m}.`) || name.endsWith(`.${m}`);
  if (m instanceof RegExp) {
    m.lastIndex = 0;
    return m.test(name);
  }
  return m(name, param) === true;
}

/** @internal Every `[name, tensor]` of a source, each tensor once (first name wins), checked live. */
export function entriesOf(op: string, source: ParamSource): [string, Tensor][] {
  let raw: Iterable<readonly [string, Tensor]>;
  if (
    source instanceof Module ||
    typeof (source as { namedParameters?: unknown })?.namedParameters === 'function'
  ) {
    // duck-typed too, so that a Module from another copy of @gradkit/tensor is still a module
    raw = (source as AnyModule).namedParameters();
  } else if (typeof source === 'object' && source !== null && Symbol.iterator in source) {
    raw = source as Iterable<readonly [string, Tensor]>;
  } else if (typeof source === 'object' && source !== null) raw = Object.entries(source as Params);
  else {
    throw new ValueError(
      op,
      `params must be a Module, a record of named tensors or an iterable of [name, tensor], got ${
        source === null ? 'null' : typeof source
      }`,
    );
  }
  const out: [string, Tensor][] = [];
  const seen = new Set<Tensor>();
  for (const entry of raw) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') {
      throw new ValueError(op, 'params must hold [name, Tensor] pairs with string names');
    }
    const [name, t] = entry as readonly [string, unknown];
    if (!(t instanceof Tensor)) {
      invalidArgument(op, `parameter '${name}'`, 'a Tensor', t);
    }
    if (t.isDisposed) throw new DisposedError(op, `parameter '${name}' was disposed`);
    if (seen.has(t)) continue;
    seen.add(t);
    out.push([name, t]);
  }
  return out;
}

/**
 * @internal A predicate `(name, tensor) => selected` for these options, with the options checked
 * (errors name `op`).
 */
export function selector(op: string, options: SelectOptions): ParamPredicate {
  const include = options.include === undefined ? null : toMatchers(op, 'include', options.include);
  const exclude =
    options.exclude === undefined
      ? [excludedByDefault]
      : options.exclude === null
        ? []
        : toMatchers(op, 'exclude', options.exclude);
  return (name, param) =>
    (include === null || include.some((m) => matches(m, name, param))) &&
    !exclude.some((m) => matches(m, name, param));
}

/** @internal The selected `[name, tensor]` pairs of a source. */
export function select(op: string, source: ParamSource, options: SelectOptions): [string, Tensor][] {
  const pick = selector(op, options);
  return entriesOf(op, source).filter(([n, t]) => pick(n, t));
}

/**
 * The parameters a regularizer with these options acts on, in the source's order: those matching
 * `include` (default all) and not matching `exclude` (default {@link excludedByDefault}).
 *
 * @example
 * ```ts
 * selectParameters(model).map(([n]) => n); // ['fc1.weight', 'fc2.weight'] (biases excluded)
 * selectParameters(model, { exclude: null }).length; // every parameter
 * selectParameters(model, { include: 'fc1' }); // fc1.weight only
 * selectParameters(model, { exclude: (name, p) => p.rank < 2 }); // your own rule
 * ```
 */
export function selectParameters(source: ParamSource, options: SelectOptions = {}): [string, Tensor][] {
  return select('selectParameters', source, options ?? {});
}
