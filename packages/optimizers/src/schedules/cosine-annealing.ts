import type { Schedule } from '@gradkit/tensor';
import { memoizeRecurrence } from './recurrence.js';
import { checkStep, learningRate, nonNegative, positiveInteger } from './validate.js';

/** Options of {@link cosineAnnealingSchedule} (PyTorch's `CosineAnnealingLR`). */
export interface CosineAnnealingScheduleOptions {
  /** The base (maximum) learning rate `eta_max` (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The half period `T_max` in steps, an integer `>= 1` (required). */
  tMax: number;
  /** The minimum learning rate `eta_min`, `>= 0`. Default `0`. */
  etaMin?: number;
}

/**
 * PyTorch's `CosineAnnealingLR`: the rate follows half a cosine from `lr` down to `etaMin` over
 * `tMax` steps, then (if stepped further) back up over the next `tMax` steps, and so on; without
 * restarts, which is {@link cosineAnnealingWarmRestartsSchedule}. Mathematically
 *
 * ```text
 * lr_t = etaMin + (lr - etaMin) * (1 + cos(pi * t / tMax)) / 2
 * ```
 *
 * but the values are PyTorch's recursive ("chainable") form, which is what a PyTorch training
 * run actually uses:
 *
 * ```text
 * lr_0 = lr
 * lr_t = lr_{t-1} + (lr - etaMin) * (1 - cos(pi / tMax)) / 2                      if (t - 1 - tMax) mod 2 tMax = 0
 * lr_t = (1 + cos(pi t / tMax)) / (1 + cos(pi (t - 1) / tMax)) * (lr_{t-1} - etaMin) + etaMin   otherwise
 * ```
 *
 * The recursion accumulates rounding: it drifts from the closed form by ~1e-13 relative after
 * a few hundred steps and ~6e-12 after 20 000 (e.g. 0.10000000000047886 instead of 0.1 at step
 * 20 000 for `lr = 0.1, tMax = 10`); this schedule reproduces the drift. It evaluates the
 * recursion with a memo, so calls with increasing steps cost O(1) each; the first call for a
 * far step, or one far back, costs up to O(step).
 *
 * Default (PyTorch's): `etaMin = 0`. An `etaMin` above `lr` is allowed and anneals upwards, as in
 * PyTorch.
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * @param options see {@link CosineAnnealingScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0`,
 *   `etaMin < 0` or `tMax` is not an integer `>= 1`; and when the schedule is called with a step
 *   that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.CosineAnnealingLR.html
 * @see Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
 *   https://arxiv.org/abs/1608.03983
 * @example
 * ```ts
 * const schedule = cosineAnnealingSchedule({ lr: 0.1, tMax: 100, etaMin: 1e-5 });
 * schedule(0); // 0.1
 * schedule(50); // ~0.050005
 * schedule(100); // 1e-5
 * ```
 */
export function cosineAnnealingSchedule(options: CosineAnnealingScheduleOptions): Schedule {
  const op = 'cosineAnnealingSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const tMax = positiveInteger(op, 'tMax', options.tMax);
  const etaMin = nonNegative(op, 'etaMin', options.etaMin ?? 0);
  // The same operations in the same order as torch/optim/lr_scheduler.py (1.13), get_lr().
  const restartIncrement = ((lr - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
  const value = memoizeRecurrence(lr, (previous, t) => {
    if ((t - 1 - tMax) % (2 * tMax) === 0) return previous + restartIncrement;
    return (
      ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) *
        (previous - etaMin) +
      etaMin
    );
  });
  return (step: number): number => {
    checkStep(op, step);
    return value(step);
  };
}
