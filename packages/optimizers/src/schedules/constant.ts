import type { Schedule } from '@gradkit/tensor';
import { checkStep, learningRate } from './validate.js';

/**
 * A constant learning rate:
 *
 * ```text
 * lr_t = lr    for every step t >= 0
 * ```
 *
 * This is what a PyTorch optimizer uses when no scheduler is attached (for PyTorch's
 * `ConstantLR`, which scales the rate for a number of steps first, see
 * {@link constantFactorSchedule}).
 *
 * `step` counts whatever unit the caller advances (optimizer updates or epochs), from 0 for the
 * first one; it must be an integer `>= 0`.
 *
 * @param lr the learning rate, `>= 0`.
 * @returns a {@link Schedule} giving `lr` at every step.
 * @throws ValueError (from `@gradkit/tensor`) when `lr` is negative or not finite, or when the
 *   schedule is called with a step that is not an integer `>= 0`.
 * @see https://optax.readthedocs.io/en/latest/api/optimizer_schedules.html#optax.constant_schedule
 * @example
 * ```ts
 * const schedule = constantSchedule(1e-3);
 * schedule(0); // 0.001
 * schedule(10_000); // 0.001
 * ```
 */
export function constantSchedule(lr: number): Schedule {
  const op = 'constantSchedule';
  learningRate(op, 'lr', lr);
  return (step: number): number => {
    checkStep(op, step);
    return lr;
  };
}
