import type { GradientTransformation, Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { namedTransformation } from './named.js';
import type { OptimizerSpec } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import type { SgdRuleHyperparams } from './trace.js';
import { sgdRule } from './trace.js';
import type { RuleState } from './update-rule.js';
import { bool, knownKeys, learningRate, nonNegative, unitInterval } from './validate.js';

/** Options of {@link sgd} (defaults as `torch.optim.SGD`). */
export interface SgdOptions {
  /** Learning rate: required, as in PyTorch (which has no default). */
  readonly lr: number;
  /** Momentum factor, >= 0 (default 0: plain SGD). */
  readonly momentum?: number;
  /** Dampening of the gradient in the momentum buffer, in [0, 1] (default 0). */
  readonly dampening?: number;
  /** L2 penalty added to the gradient, `g + wd p` (default 0). */
  readonly weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0; default false). */
  readonly nesterov?: boolean;
  /** Ascend instead of descend (default false). */
  readonly maximize?: boolean;
}

/**
 * SGD's resolved hyperparameters.
 *
 * @interface
 */
export type SgdHyperparams = SgdRuleHyperparams;

/** @internal */
export const SGD: OptimizerSpec<SgdHyperparams> = {
  name: 'SGD',
  rule: sgdRule,
  resolve(o, op) {
    const options = o as Partial<SgdOptions>;
    knownKeys(op, options, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize']);
    if (options.lr === undefined)
      throw new ValueError(op, 'lr is required (as in PyTorch, SGD has no default learning rate)');
    const hp: SgdHyperparams = {
      lr: learningRate(op, 'lr', options.lr),
      momentum: nonNegative(op, 'momentum', options.momentum ?? 0),
      dampening: unitInterval(op, 'dampening', options.dampening ?? 0, true),
      weightDecay: nonNegative(op, 'weightDecay', options.weightDecay ?? 0),
      nesterov: bool(op, 'nesterov', options.nesterov ?? false),
      maximize: bool(op, 'maximize', options.maximize ?? false),
    };
    if (hp.nesterov && (hp.momentum <= 0 || hp.dampening !== 0)) {
      throw new ValueError(
        op,
        `nesterov needs momentum > 0 and dampening 0, got momentum ${hp.momentum} and dampening ${hp.dampening}`,
      );
    }
    return hp;
  },
};

/**
 * Stochastic gradient descent with momentum, as PyTorch 1.13's `torch.optim.SGD`. For each
 * parameter, with `g` the gradient plus the L2 term `wd p`:
 *
 * ```
 * buf = g                                  (first step)
 * buf = momentum buf + (1 - dampening) g   (later steps)
 * d = nesterov ? g + momentum buf : buf    (d = g without momentum)
 * p = p - lr d
 * ```
 *
 * Defaults: momentum 0, dampening 0, weightDecay 0, nesterov false; `lr` is required. Equals
 * `chain(addDecayedWeights(wd), trace({ decay: momentum, dampening, nesterov }), scaleByLearningRate(lr))`.
 *
 * @throws {ValueError} naming `SGD`: a missing or negative lr, momentum < 0, nesterov without momentum or with dampening, ...
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.SGD.html
 * @see http://www.cs.toronto.edu/~hinton/absps/momentum.pdf (Sutskever et al., momentum and Nesterov)
 * @example
 * ```ts
 * const opt = sgd(model, { lr: 0.1, momentum: 0.9, nesterov: true });
 * ```
 */
export function sgd(params: OptimizerParams<SgdOptions>, options: SgdOptions): Optimizer<SgdHyperparams> {
  return new Optimizer(SGD, params, options);
}

/**
 * SGD as a {@link GradientTransformation} (see {@link sgd}); the learning rate may be a schedule.
 *
 * @see https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.sgd
 * @example
 * ```ts
 * const tx = sgdTransform({ lr: 0.1, momentum: 0.9 });
 * ```
 */
export function sgdTransform(
  options: Omit<SgdOptions, 'lr'> & { readonly lr: number | Schedule },
): GradientTransformation<RuleState> {
  return namedTransformation(SGD, options);
}
