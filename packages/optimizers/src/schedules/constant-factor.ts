import type { Schedule } from '@gradkit/tensor';
import { checkStep, inInterval, learningRate, positiveInteger } from './validate.js';

/** Options of {@link constantFactorSchedule} (PyTorch's `ConstantLR`). */
export interface ConstantFactorScheduleOptions {
  /** The base learning rate (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The factor applied before `totalIters`, in `(0, 1]`. Default `1 / 3`. */
  factor?: number;
  /** The number of steps scaled by `factor`, an integer `>= 1`. Default `5`. */
  totalIters?: number;
}

/**
 * PyTorch's `ConstantLR`: the base rate scaled by a constant factor for the first `totalIters`
 * steps, then the base rate:
 *
 * ```text
 * lr_t = lr * factor    for t < totalIters
 * lr_t = lr             for t >= totalIters
 * ```
 *
 * Defaults (PyTorch's): `factor = 1/3`, `totalIters = 5`.
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * Closed form. PyTorch computes it recursively (`lr * factor`, later `* (1 / factor)`); the two
 * agree to rounding (1 ulp at `totalIters`). PyTorch 1.13 accepts `factor = 0` and
 * `totalIters = 0`, then divides by zero at `totalIters` (respectively keeps `lr * factor`
 * forever against its own documentation); both are rejected here.
 *
 * @param options see {@link ConstantFactorScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0`,
 *   `factor` is outside `(0, 1]` or `totalIters` is not an integer `>= 1`; and when the schedule
 *   is called with a step that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.ConstantLR.html
 * @example
 * ```ts
 * const schedule = constantFactorSchedule({ lr: 0.05, factor: 0.5, totalIters: 4 });
 * [0, 1, 2, 3, 4, 5].map(schedule); // [0.025, 0.025, 0.025, 0.025, 0.05, 0.05]
 * ```
 */
export function constantFactorSchedule(options: ConstantFactorScheduleOptions): Schedule {
  const op = 'constantFactorSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const factor = inInterval(op, 'factor', options.factor ?? 1 / 3, 0, 1, false, true);
  const totalIters = positiveInteger(op, 'totalIters', options.totalIters ?? 5);
  const scaled = lr * factor;
  return (step: number): number => {
    checkStep(op, step);
    return step < totalIters ? scaled : lr;
  };
}
