import type { Schedule } from '@gradkit/tensor';
import { checkStep, learningRate, positive, positiveInteger } from './validate.js';

/** Options of {@link polynomialSchedule} (PyTorch's `PolynomialLR`). */
export interface PolynomialScheduleOptions {
  /** The base learning rate (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The number of steps of the decay, an integer `>= 1`. Default `5`. */
  totalIters?: number;
  /** The power of the polynomial, `> 0`. Default `1` (linear decay). */
  power?: number;
}

/**
 * PyTorch's `PolynomialLR`: the rate decays polynomially to 0 over `totalIters` steps and stays 0:
 *
 * ```text
 * lr_t = lr * (1 - min(t, totalIters) / totalIters) ^ power
 * ```
 *
 * Defaults (PyTorch's): `totalIters = 5`, `power = 1`. The rate is exactly 0 from step
 * `totalIters` on (PyTorch 1.13's `PolynomialLR` has no end value): train for at most
 * `totalIters` updates, or join another schedule after it ({@link joinSchedules}).
 *
 * Closed form. PyTorch computes it recursively (each step multiplies by
 * `((1 - t / T) / (1 - (t - 1) / T)) ^ power`); the two agree to ~1e-13 relative over 20 000
 * steps.
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * @param options see {@link PolynomialScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0`,
 *   `totalIters` is not an integer `>= 1` or `power <= 0`; and when the schedule is called with
 *   a step that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.PolynomialLR.html
 * @example
 * ```ts
 * const schedule = polynomialSchedule({ lr: 0.001, totalIters: 4, power: 1 });
 * [0, 1, 2, 3, 4, 5].map(schedule); // [0.001, 0.00075, 0.0005, 0.00025, 0, 0]
 * ```
 */
export function polynomialSchedule(options: PolynomialScheduleOptions): Schedule {
  const op = 'polynomialSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const totalIters = positiveInteger(op, 'totalIters', options.totalIters ?? 5);
  const power = positive(op, 'power', options.power ?? 1);
  return (step: number): number => {
    checkStep(op, step);
    // PyTorch's closed form (_get_closed_form_lr), same operations in the same order.
    return lr * (1 - Math.min(totalIters, step) / totalIters) ** power;
  };
}
