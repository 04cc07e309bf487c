import type { Tensor } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { penaltyOp } from './penalty-op.js';
import type { ParamSource, SelectOptions } from './select.js';
import { select } from './select.js';
import { nonNegative, optionsObject } from './validate.js';

/** Options of {@link frobeniusPenalty}. */
export interface FrobeniusOptions extends SelectOptions {
  /** Use `(lambda_l / 2) ||W_l||_F^2` (gradient `lambda_l W_l`, PyTorch's weight_decay) instead of `lambda_l ||W_l||_F^2`. Default false. */
  readonly half?: boolean;
}

/**
 * Per-layer strengths of {@link frobeniusPenalty}: one number for every selected parameter, or a
 * record from layer (module prefix, e.g. `'layers.0'`) or full parameter name (`'fc1.weight'`)
 * to lambda. With a record, a parameter takes the lambda of its longest matching key and
 * parameters that match no key are not penalized.
 */
export type LayerLambdas = number | Readonly<Record<string, number>>;

function keyMatches(key: string, name: string): boolean {
  return name === key || name.startsWith(`${key}.`);
}

/**
 * The squared Frobenius norm penalty with a separate lambda per layer, to add to the loss:
 *
 * `sum_l lambda_l ||W_l||_F^2 = sum_l lambda_l sum_ij W_l[i, j]^2` over the selected parameters
 * (biases and normalization scales/shifts excluded by default), or with `half: true`
 * `sum_l (lambda_l / 2) ||W_l||_F^2`. Gradient: `2 lambda_l W_l` (`lambda_l W_l` with `half`).
 * With one number for every layer it equals {@link l2Penalty} (or {@link halfL2Penalty}).
 *
 * @param params a Module, named tensors, or `[name, tensor]` pairs.
 * @param lambdas one lambda, or `{ layerOrParameterName: lambda }` (see {@link LayerLambdas}).
 * @param options `half` (default false) and which parameters (`include`, `exclude`).
 * @returns a scalar tensor (a constant 0 when nothing is penalized).
 * @throws {ValueError} for a negative or non-finite lambda, or a record key that matches no
 *   selected parameter (a typo would otherwise turn the penalty off silently).
 * @see Goodfellow, Bengio & Courville, "Deep Learning", MIT Press 2016, section 7.1.1.
 * @example
 * ```ts
 * const penalty = frobeniusPenalty(model, { 'layers.0': 1e-4, 'layers.1': 1e-3 });
 * const loss = criterion(model.forward(x), y).add(penalty);
 * ```
 */
export function frobeniusPenalty(
  params: ParamSource,
  lambdas: LayerLambdas,
  options: FrobeniusOptions = {},
): Tensor {
  const op = 'frobeniusPenalty';
  const opts = optionsObject(op, options);
  const factor = opts.half === true ? 0.5 : 1;
  let lambdaOf: (name: string) => number;
  let keys: string[] = [];
  if (typeof lambdas === 'number') {
    const l = nonNegative(op, 'lambda', lambdas);
    lambdaOf = () => l;
  } else {
    const record = optionsObject(op, lambdas, 'lambdas');
    keys = Object.keys(record).sort((a, b) => b.length - a.length);
    for (const k of keys) nonNegative(op, `lambdas['${k}']`, record[k]);
    lambdaOf = (name) => {
      const k = keys.find((key) => keyMatches(key, name));
      return k === undefined ? 0 : record[k]!;
    };
  }
  const chosen = select(op, params, opts);
  const unused = keys.filter((k) => !chosen.some(([n]) => keyMatches(k, n)));
  if (unused.length > 0) {
    throw new ValueError(
      op,
      `lambdas key${unused.length > 1 ? 's' : ''} ${unused.map((k) => `'${k}'`).join(', ')} match${
        unused.length > 1 ? '' : 'es'
      } no selected parameter (selected: ${chosen.map(([n]) => n).join(', ') || 'none'})`,
    );
  }
  return penaltyOp(
    op,
    chosen.map(([name, param]) => ({ param, l1: 0, l2: factor * lambdaOf(name) })),
  );
}
