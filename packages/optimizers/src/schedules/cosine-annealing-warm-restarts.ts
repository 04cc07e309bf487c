import type { Schedule } from '@gradkit/tensor';
import { checkStep, learningRate, nonNegative, positiveInteger } from './validate.js';

/** Options of {@link cosineAnnealingWarmRestartsSchedule} (PyTorch's `CosineAnnealingWarmRestarts`). */
export interface CosineAnnealingWarmRestartsScheduleOptions {
  /** The base (maximum) learning rate `eta_max` (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** The length `T_0` of the first cycle in steps, an integer `>= 1` (required). */
  t0: number;
  /** The factor by which each cycle is longer than the previous one, an integer `>= 1`. Default `1`. */
  tMult?: number;
  /** The minimum learning rate `eta_min`, `>= 0`. Default `0`. */
  etaMin?: number;
}

/**
 * PyTorch's `CosineAnnealingWarmRestarts` (SGDR): cosine annealing from `lr` towards `etaMin`
 * over a cycle of `T_i` steps, then a restart at `lr`; the cycles last `t0`, `t0 * tMult`,
 * `t0 * tMult^2`, ... steps:
 *
 * ```text
 * lr_t = etaMin + (lr - etaMin) * (1 + cos(pi * T_cur / T_i)) / 2
 * ```
 *
 * where `T_cur` is the number of steps since the last restart and `T_i` the current cycle's
 * length. A cycle ends one step before reaching `etaMin`: its last value is at
 * `T_cur = T_i - 1`, and the next step restarts at `lr`.
 *
 * Closed form in `T_cur` and `T_i`, which are counted in integers exactly as PyTorch's
 * `scheduler.step()` does (not through PyTorch's `log`-based formula for `step(epoch)`).
 *
 * Defaults (PyTorch's): `tMult = 1`, `etaMin = 0`. PyTorch's fractional epochs
 * (`scheduler.step(epoch + i / iters)`) are not supported: to anneal per batch, count batches as
 * steps (`t0` = batches per cycle).
 *
 * `step` counts whatever unit the caller advances (PyTorch's schedulers are stepped per epoch
 * or per batch by the caller): the value at step 0 is PyTorch's lr right after the scheduler
 * is built (the lr of the first update or epoch), the value at step `t` the lr after `t` calls
 * of `scheduler.step()`.
 *
 * @param options see {@link CosineAnnealingWarmRestartsScheduleOptions}.
 * @returns a {@link Schedule}.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr < 0`,
 *   `etaMin < 0`, or `t0` or `tMult` is not an integer `>= 1`; and when the schedule is called
 *   with a step that is not an integer `>= 0`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.CosineAnnealingWarmRestarts.html
 * @see Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
 *   https://arxiv.org/abs/1608.03983
 * @example
 * ```ts
 * const schedule = cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 10, tMult: 2 });
 * schedule(0); // 0.1 (cycle of 10 steps)
 * schedule(5); // 0.05
 * schedule(10); // 0.1 (restart, cycle of 20 steps)
 * schedule(30); // 0.1 (restart, cycle of 40 steps)
 * ```
 */
export function cosineAnnealingWarmRestartsSchedule(
  options: CosineAnnealingWarmRestartsScheduleOptions,
): Schedule {
  const op = 'cosineAnnealingWarmRestartsSchedule';
  const lr = learningRate(op, 'lr', options.lr);
  const t0 = positiveInteger(op, 't0', options.t0);
  const tMult = positiveInteger(op, 'tMult', options.tMult ?? 1);
  const etaMin = nonNegative(op, 'etaMin', options.etaMin ?? 0);
  return (step: number): number => {
    checkStep(op, step);
    let tCur = step;
    let tI = t0;
    if (tMult === 1) {
      tCur = step % t0;
    } else {
      while (tCur >= tI) {
        tCur -= tI;
        tI *= tMult;
      }
    }
    // The same operations in the same order as torch/optim/lr_scheduler.py (1.13), get_lr().
    return etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  };
}
