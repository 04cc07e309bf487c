import type { Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { checkStep, learningRate, nonNegativeInteger, positive, show } from './validate.js';

/** Options of {@link multiStepSchedule} (PyTorch's `MultiStepLR`). */
export interface MultiStepScheduleOptions {
  /** The base learning rate (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The steps at which the rate decays: strictly increasing integers `>= 0` (required). */
  milestones: readonly number[];
  /** The factor applied at each milestone, `> 0`. Default `0.1`. */
  gamma?: number;
}

/**
 * PyTorch's `MultiStepLR`: the rate decays by `gamma` at each milestone:
 *
 * ```text
 * lr_t = lr * gamma ^ |{ m in milestones : m <= t }|
 * ```
 *
 * Default (PyTorch's): `gamma = 0.1`; `milestones` has no default. A milestone 0 applies from
 * the first step, as in PyTorch.
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * Closed form. PyTorch multiplies the previous rate by `gamma` at each milestone; that product
 * and the power agree to a few ulps. PyTorch also accepts a repeated milestone (decaying by
 * `gamma` squared there); here milestones must be strictly increasing (pass a smaller `gamma`
 * instead).
 *
 * @param options see {@link MultiStepScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0`,
 *   `gamma <= 0`, or `milestones` holds a non-integer, a negative number or is not strictly
 *   increasing; and when the schedule is called with a step that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.MultiStepLR.html
 * @example
 * ```ts
 * const schedule = multiStepSchedule({ lr: 0.05, milestones: [30, 80] }); // gamma 0.1
 * schedule(29); // 0.05
 * schedule(30); // ≈ 0.005 (0.005000000000000001, as PyTorch)
 * schedule(80); // ≈ 0.0005
 * ```
 */
export function multiStepSchedule(options: MultiStepScheduleOptions): Schedule {
  const op = 'multiStepSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const gamma = positive(op, 'gamma', options.gamma ?? 0.1);
  const { milestones: given } = options;
  if (!Array.isArray(given)) {
    throw new ValueError(op, `milestones must be an array of integers, got ${show(given)}`);
  }
  const milestones = given.map((m, i) => nonNegativeInteger(op, `milestones[${i}]`, m));
  for (let i = 1; i < milestones.length; i++) {
    if (milestones[i] <= milestones[i - 1]) {
      throw new ValueError(op, `milestones must be strictly increasing, got ${show(given)}`);
    }
  }
  return (step: number): number => {
    checkStep(op, step);
    // the number of milestones <= step (Python's bisect_right)
    let lo = 0;
    let hi = milestones.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (milestones[mid] <= step) lo = mid + 1;
      else hi = mid;
    }
    return lr * gamma ** lo;
  };
}
