import type { Schedule } from '@gradkit/tensor';
import { checkStep, inInterval, learningRate, positiveInteger } from './validate.js';

/** Options of {@link linearSchedule} (PyTorch's `LinearLR`). */
export interface LinearScheduleOptions {
  /** The base learning rate (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The factor at step 0, in `(0, 1]`. Default `1 / 3`. */
  startFactor?: number;
  /** The factor from step `totalIters` on, in `[0, 1]`. Default `1`. */
  endFactor?: number;
  /** The number of steps of the linear change, an integer `>= 1`. Default `5`. */
  totalIters?: number;
}

/**
 * PyTorch's `LinearLR`: the rate's factor changes linearly from `startFactor` to `endFactor`
 * over `totalIters` steps, then stays at `endFactor`; a linear warm-up with the defaults
 * (`startFactor < endFactor = 1`), a linear decay with `endFactor < startFactor`:
 *
 * ```text
 * lr_t = lr * (startFactor + (endFactor - startFactor) * min(t, totalIters) / totalIters)
 * ```
 *
 * Defaults (PyTorch's): `startFactor = 1/3`, `endFactor = 1`, `totalIters = 5`. Note that the
 * factor reaches `endFactor` at step `totalIters`, so a warm-up over `totalIters` steps never
 * uses the full rate during the warm-up (`lr * (startFactor + (1 - startFactor) * 4/5)` at
 * step 4 with the defaults).
 *
 * Closed form. PyTorch computes it recursively (each step multiplies by
 * `1 + (end - start) / (totalIters * start + (t - 1) * (end - start))`); the two agree to
 * ~1e-13 relative over 20 000 steps. PyTorch 1.13 accepts `startFactor = 0` and then divides by
 * zero at step 1, and `totalIters = 0`, which keeps `lr * startFactor` forever; both are
 * rejected here (later PyTorch versions reject `startFactor = 0` too).
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * @param options see {@link LinearScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0`,
 *   `startFactor` is outside `(0, 1]`, `endFactor` outside `[0, 1]` or `totalIters` is not an
 *   integer `>= 1`; and when the schedule is called with a step that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.LinearLR.html
 * @example
 * ```ts
 * const warmup = linearSchedule({ lr: 0.05, startFactor: 0.5, totalIters: 4 });
 * [0, 1, 2, 3, 4, 5].map(warmup); // ≈ [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05]
 * ```
 */
export function linearSchedule(options: LinearScheduleOptions): Schedule {
  const op = 'linearSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const startFactor = inInterval(op, 'startFactor', options.startFactor ?? 1 / 3, 0, 1, false, true);
  const endFactor = inInterval(op, 'endFactor', options.endFactor ?? 1, 0, 1, true, true);
  const totalIters = positiveInteger(op, 'totalIters', options.totalIters ?? 5);
  return (step: number): number => {
    checkStep(op, step);
    // PyTorch's closed form (_get_closed_form_lr), same operations in the same order.
    return lr * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, step)) / totalIters);
  };
}
