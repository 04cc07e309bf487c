import type { Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { checkStep, positiveInteger, show } from './validate.js';

/**
 * Schedules one after another, PyTorch's `SequentialLR` (optax's `join_schedules`): `schedules[0]`
 * until the first milestone, then `schedules[1]` restarted from its own step 0, and so on:
 *
 * ```text
 * lr_t = schedules[i](t - m_i)    where i = |{ m in milestones : m <= t }|, m_0 = 0, m_i = milestones[i - 1]
 * ```
 *
 * The usual use is a warm-up followed by a decay: `joinSchedules([linearSchedule(...),
 * cosineAnnealingSchedule(...)], [warmupSteps])`.
 *
 * This is what PyTorch 1.13's `SequentialLR` produces (checked against it with `LinearLR`,
 * `ConstantLR`, `StepLR`, `MultiStepLR`, `ExponentialLR`, `PolynomialLR`, `CosineAnnealingLR`
 * and `CosineAnnealingWarmRestarts` inside): at each milestone it calls the next scheduler's
 * `step(0)`, which sets that scheduler's step-0 value. Surprising in PyTorch: its own docstring
 * example (`ConstantLR(factor=0.1, total_iters=2)` then `ExponentialLR(gamma=0.9)` at milestone
 * 2, base lr 1) claims `0.1, 0.1, 0.9, 0.81, ...`, but PyTorch actually gives (and this gives)
 * `0.1, 0.1, 1.0, 0.9, 0.81, ...`: the second scheduler starts from its own step 0.
 *
 * In PyTorch every inner scheduler shares the optimizer's base lr; here each schedule carries
 * its own (pass the same `lr` to each to reproduce PyTorch).
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * @param schedules the schedules, at least one.
 * @param milestones the steps at which the next schedule takes over: one fewer than
 *   `schedules`, strictly increasing integers `>= 1`.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) when `schedules` is empty or holds a non-function,
 *   when `milestones.length !== schedules.length - 1`, or a milestone is not an integer `>= 1`
 *   or not larger than the previous one; and when the joined schedule is called with a step that
 *   is not an integer `>= 0`. A schedule inside may throw for its own steps (e.g.
 *   {@link oneCycleSchedule} past `totalSteps`).
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.SequentialLR.html
 * @see https://optax.readthedocs.io/en/latest/api/optimizer_schedules.html#optax.join_schedules
 * @example
 * ```ts
 * // 5 steps of linear warm-up from 0.1 * lr, then cosine annealing over 95 steps
 * const schedule = joinSchedules(
 *   [linearSchedule({ lr: 0.1, startFactor: 0.1, totalIters: 5 }), cosineAnnealingSchedule({ lr: 0.1, tMax: 95 })],
 *   [5],
 * );
 * [0, 1, 4, 5, 100].map(schedule); // ≈ [0.01, 0.028, 0.082, 0.1, 0]
 * ```
 */
export function joinSchedules(schedules: readonly Schedule[], milestones: readonly number[]): Schedule {
  const op = 'joinSchedules';
  if (!Array.isArray(schedules) || schedules.length === 0) {
    throw new ValueError(op, `schedules must be a non-empty array of schedules, got ${show(schedules)}`);
  }
  schedules.forEach((s, i) => {
    if (typeof s !== 'function') {
      throw new ValueError(op, `schedules[${i}] must be a schedule (a function), got ${show(s)}`);
    }
  });
  if (!Array.isArray(milestones) || milestones.length !== schedules.length - 1) {
    throw new ValueError(
      op,
      `milestones must hold ${schedules.length - 1} step(s), one fewer than the ${schedules.length} schedule(s), got ${show(milestones)}`,
    );
  }
  const bounds = milestones.map((m, i) => positiveInteger(op, `milestones[${i}]`, m));
  for (let i = 1; i < bounds.length; i++) {
    if (bounds[i] <= bounds[i - 1]) {
      throw new ValueError(op, `milestones must be strictly increasing, got ${show(milestones)}`);
    }
  }
  const parts = [...schedules];
  return (step: number): number => {
    checkStep(op, step);
    let i = 0;
    while (i < bounds.length && bounds[i] <= step) i++;
    return parts[i](i === 0 ? step : step - bounds[i - 1]);
  };
}
