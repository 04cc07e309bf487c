import type { GradientTransformation, Params, Tensor } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';

/**
 * Which parameters a {@link masked} transformation applies to: a list of names, a regular
 * expression on the name, a record of booleans by name, or a predicate of the name and the
 * parameter (e.g. `(_, p) => p.rank > 1` for weights but not biases).
 */
export type Mask =
  | readonly string[]
  | RegExp
  | Readonly<Record<string, boolean>>
  | ((name: string, param: Tensor) => boolean);

/** The state of {@link masked}: the selected parameter names (fixed at `init`) and the inner state. */
export interface MaskedState<S> {
  /** The names of the parameters the inner transformation updates, fixed at `init`. */
  readonly names: readonly string[];
  /** The state of the inner transformation (over the selected parameters only). */
  readonly inner: S;
}

function select(mask: Mask, name: string, param: Tensor): boolean {
  if (typeof mask === 'function') return mask(name, param) === true;
  if (mask instanceof RegExp) return mask.test(name);
  if (Array.isArray(mask)) return (mask as readonly string[]).includes(name);
  return (mask as Readonly<Record<string, boolean>>)[name] === true;
}

/**
 * Applies `inner` to the parameters the mask selects and passes the other updates through
 * unchanged. The selection is made once, at `init`, from the parameters (names and tensors) and
 * kept in the state. The inner transformation sees only the selected gradients, parameters and
 * state.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizer_wrappers.html#optax.masked
 * @example
 * ```ts
 * // decoupled weight decay on matrices only
 * const tx = chain(scaleByAdam(), masked(addDecayedWeights(0.01), (_, p) => p.rank > 1), scaleByLearningRate(1e-3));
 * ```
 */
export function masked<S>(
  inner: GradientTransformation<S>,
  mask: Mask,
): GradientTransformation<MaskedState<S>> {
  if (mask === null || (typeof mask !== 'function' && typeof mask !== 'object')) {
    throw new ValueError('masked', 'mask must be names, a RegExp, a record of booleans or a predicate');
  }
  const subset = (tree: Params | undefined, names: readonly string[]): Params | undefined => {
    if (!tree) return undefined;
    const out: Params = {};
    for (const n of names) if (tree[n]) out[n] = tree[n];
    return out;
  };
  return {
    init(params: Params): MaskedState<S> {
      const names = Object.entries(params)
        .filter(([n, p]) => select(mask, n, p))
        .map(([n]) => n);
      return { names, inner: inner.init(subset(params, names) as Params) };
    },
    update(grads: Params, state: MaskedState<S>, params?: Params): [Params, MaskedState<S>] {
      const chosen = subset(grads, state.names) as Params;
      const [u, s] = inner.update(chosen, state.inner, subset(params, state.names));
      const out: Params = { ...grads };
      for (const k of Object.keys(chosen)) out[k] = u[k];
      return [out, { names: state.names, inner: s }];
    },
  };
}
