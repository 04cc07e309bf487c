import type { AnyModule, Params } from '@gradkit/tensor';
import { Module, Tensor, ValueError } from '@gradkit/tensor';

/**
 * The parameters an optimizer updates: a module (its named parameters), named parameters (a
 * record, or `[name, tensor]` pairs as `Module.namedParameters()` returns), or plain tensors
 * (named `'0'`, `'1'`, ... in order, as PyTorch numbers them).
 */
export type ParamsInput = AnyModule | Params | Iterable<Tensor> | Iterable<readonly [string, Tensor]>;

/**
 * A parameter group: parameters with their own hyperparameters (any option of the optimizer;
 * the others come from the optimizer's options), as PyTorch's param groups.
 *
 * @example
 * ```ts
 * adam([{ params: [w1, w2] }, { params: [b1, b2], weightDecay: 0 }], { lr: 1e-3, weightDecay: 0.01 });
 * ```
 */
export type ParamGroupInput<O> = {
  /** The group's parameters: a module, a record of named tensors, or a list of tensors. */
  readonly params: ParamsInput;
} & Partial<O>;

/** What optimizers accept: parameters, or a list of parameter groups. */
export type OptimizerParams<O> = ParamsInput | readonly ParamGroupInput<O>[];

/** A normalized group: named parameters and the group's own options. @internal */
export interface NormalizedGroup {
  readonly entries: [string, Tensor][];
  readonly overrides: Record<string, unknown>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

const isIterable = (v: unknown): v is Iterable<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';

function entriesOf(op: string, input: unknown, counter: { next: number }): [string, Tensor][] {
  if (input instanceof Module) return input.namedParameters();
  if (input instanceof Tensor) return [[String(counter.next++), input]];
  if (isIterable(input)) {
    return [...input].map((item, i): [string, Tensor] => {
      if (item instanceof Tensor) return [String(counter.next++), item];
      if (
        Array.isArray(item) &&
        item.length === 2 &&
        typeof item[0] === 'string' &&
        item[1] instanceof Tensor
      ) {
        return [item[0], item[1]];
      }
      throw new ValueError(op, `parameter ${i} is neither a Tensor nor a [name, Tensor] pair`);
    });
  }
  if (isPlainObject(input)) {
    return Object.entries(input).map(([k, v]): [string, Tensor] => {
      if (!(v instanceof Tensor)) throw new ValueError(op, `parameter '${k}' is not a Tensor`);
      return [k, v];
    });
  }
  throw new ValueError(
    op,
    'params must be a Module, Tensors, [name, Tensor] pairs, a record of Tensors or param groups',
  );
}

const isGroupList = (input: unknown): input is readonly Record<string, unknown>[] =>
  Array.isArray(input) && input.length > 0 && input.every((g) => isPlainObject(g) && 'params' in g);

/**
 * Splits an optimizer's `params` argument into named groups.
 *
 * @internal
 * @throws {ValueError} for an empty list, a non-tensor, a disposed tensor, or a tensor or a name
 *   given twice.
 */
export function normalizeParams(op: string, input: unknown): NormalizedGroup[] {
  const counter = { next: 0 };
  let groups: NormalizedGroup[];
  if (isGroupList(input)) {
    groups = input.map((g, i) => {
      const { params, ...overrides } = g;
      const entries = entriesOf(op, params, counter);
      if (entries.length === 0) throw new ValueError(op, `param group ${i} has no parameters`);
      return { entries, overrides };
    });
  } else {
    groups = [{ entries: entriesOf(op, input, counter), overrides: {} }];
  }
  const names = new Set<string>();
  const tensors = new Set<Tensor>();
  let total = 0;
  for (const g of groups) {
    for (const [name, t] of g.entries) {
      total++;
      if (names.has(name)) throw new ValueError(op, `parameter name '${name}' appears twice`);
      if (tensors.has(t)) throw new ValueError(op, `parameter '${name}' appears in more than one place`);
      if (t.isDisposed) throw new ValueError(op, `parameter '${name}' is disposed`);
      names.add(name);
      tensors.add(t);
    }
  }
  if (total === 0) throw new ValueError(op, 'got an empty parameter list');
  return groups;
}
