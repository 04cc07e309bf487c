import type { Schedule } from '@gradkit/tensor';
import { checkStep, learningRate, positive, positiveInteger } from './validate.js';

/** Options of {@link stepSchedule} (PyTorch's `StepLR`). */
export interface StepScheduleOptions {
  /** The base learning rate (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The period of the decay in steps, an integer `>= 1` (required). */
  stepSize: number;
  /** The factor applied every `stepSize` steps, `> 0`. Default `0.1`. */
  gamma?: number;
}

/**
 * PyTorch's `StepLR`: the rate decays by `gamma` every `stepSize` steps:
 *
 * ```text
 * lr_t = lr * gamma ^ floor(t / stepSize)
 * ```
 *
 * Default (PyTorch's): `gamma = 0.1`; `stepSize` has no default.
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * Closed form. PyTorch multiplies the previous rate by `gamma` at each multiple of `stepSize`;
 * that product and the power agree to a few ulps.
 *
 * @param options see {@link StepScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0`,
 *   `stepSize` is not an integer `>= 1` or `gamma <= 0`; and when the schedule is called with a
 *   step that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.StepLR.html
 * @example
 * ```ts
 * const schedule = stepSchedule({ lr: 0.05, stepSize: 30 }); // gamma 0.1
 * schedule(29); // 0.05
 * schedule(30); // ≈ 0.005 (0.005000000000000001, as PyTorch)
 * schedule(60); // ≈ 0.0005
 * ```
 */
export function stepSchedule(options: StepScheduleOptions): Schedule {
  const op = 'stepSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const stepSize = positiveInteger(op, 'stepSize', options.stepSize);
  const gamma = positive(op, 'gamma', options.gamma ?? 0.1);
  return (step: number): number => {
    checkStep(op, step);
    return lr * gamma ** Math.floor(step / stepSize);
  };
}
