import type { GradientTransformation, Schedule } from '@gradkit/tensor';
import type { OptimizerSpec } from './optimizer.js';
import type { RuleHyperparams, RuleState, UpdateRule } from './update-rule.js';
import { ruleTransformation } from './update-rule.js';
import { runtimeLearningRate } from './validate.js';

/** A named optimizer's options as a transformation: the learning rate may be a {@link Schedule}. */
export type TransformOptions<O> = Omit<O, 'lr'> & {
  /** The learning rate: a number, or a {@link Schedule} of the step (0 for the first update). */
  readonly lr?: number | Schedule;
};

/**
 * The transformation form of a named optimizer: its fused rule in update mode, the learning rate
 * a number or a schedule of the step.
 *
 * @internal
 */
export function namedTransformation<R extends RuleHyperparams>(
  spec: OptimizerSpec<R>,
  options: object & { readonly lr?: number | Schedule },
): GradientTransformation<RuleState> {
  const lr = options.lr;
  if (typeof lr === 'function') {
    const base = spec.resolve({ ...options, lr: 0 }, spec.name);
    return ruleTransformation(
      spec.rule,
      (step) => ({ ...base, lr: runtimeLearningRate(spec.name, `lr(${step})`, lr(step)) }),
      spec.name,
    );
  }
  const hp = spec.resolve(options, spec.name);
  return ruleTransformation(spec.rule, () => hp, spec.name);
}

/**
 * A building block: `rule` run with `lr = -1`, no weight decay and no maximize, so it outputs the
 * bare direction (`scaleByAdam` outputs `m̂ / (sqrt(v̂) + eps)`).
 *
 * @internal
 */
export function directionTransformation<R extends RuleHyperparams>(
  rule: UpdateRule<R>,
  hp: Omit<R, 'lr' | 'weightDecay' | 'maximize'>,
  op: string,
): GradientTransformation<RuleState> {
  const full = { ...hp, lr: -1, weightDecay: 0, maximize: false } as unknown as R;
  return ruleTransformation(rule, () => full, op);
}
