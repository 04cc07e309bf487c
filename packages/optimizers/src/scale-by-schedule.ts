import type { GradientTransformation, Params, Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import type { CountState } from './empty-state.js';
import { scaleParams } from './scale.js';
import { finiteNumber } from './validate.js';

/**
 * Scales the updates by a schedule of the step: `u_t = s(t) g_t`, with `t = 0` for the first
 * update (the count is kept in the state).
 *
 * @see https://optax.readthedocs.io/en/latest/api/transformations.html#optax.scale_by_schedule
 * @example
 * ```ts
 * const warmup = scaleBySchedule((t) => Math.min(1, (t + 1) / 100));
 * ```
 */
export function scaleBySchedule(schedule: Schedule): GradientTransformation<CountState> {
  if (typeof schedule !== 'function')
    throw new ValueError('scaleBySchedule', 'schedule must be a function of the step');
  return {
    init: () => ({ count: 0 }),
    update(grads: Params, state: CountState): [Params, CountState] {
      const factor = finiteNumber('scaleBySchedule', `schedule(${state.count})`, schedule(state.count));
      return [scaleParams(grads, factor), { count: state.count + 1 }];
    },
  };
}
