import type { Schedule } from '@gradkit/tensor';
import { checkStep, learningRate, positive } from './validate.js';

/** Options of {@link exponentialSchedule} (PyTorch's `ExponentialLR`). */
export interface ExponentialScheduleOptions {
  /** The base learning rate (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The factor applied every step, `> 0` (required, as in PyTorch; `> 1` grows the rate). */
  gamma: number;
}

/**
 * PyTorch's `ExponentialLR`: the rate decays by `gamma` every step:
 *
 * ```text
 * lr_t = lr * gamma ^ t
 * ```
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * Closed form. PyTorch multiplies the previous rate by `gamma` every step; the product and the
 * power agree to about `1e-14` relative over 10^5 steps, as long as the rate stays a normal
 * double (above ~2e-308).
 *
 * @param options see {@link ExponentialScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0` or
 *   `gamma <= 0`; and when the schedule is called with a step that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.ExponentialLR.html
 * @example
 * ```ts
 * const schedule = exponentialSchedule({ lr: 0.1, gamma: 0.9 });
 * schedule(0); // 0.1
 * schedule(2); // ≈ 0.081 (0.08100000000000002)
 * ```
 */
export function exponentialSchedule(options: ExponentialScheduleOptions): Schedule {
  const op = 'exponentialSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const gamma = positive(op, 'gamma', options.gamma);
  return (step: number): number => {
    checkStep(op, step);
    return lr * gamma ** step;
  };
}
