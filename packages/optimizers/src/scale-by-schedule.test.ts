import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { scaleBySchedule } from './scale-by-schedule.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenGradValues } from './testing/params.js';

describe.each(testBackends)('scaleBySchedule on %s', (backend) => {
  useBackend(backend);

  it('scales update t by schedule(t), counting from 0', () => {
    const tx = scaleBySchedule((t) => 2 ** -t);
    let state = tx.init({});
    for (let t = 0; t < 4; t++) {
      const grads = givenGrads(t);
      const [u, next] = tx.update(grads, state);
      expect(next.count).toBe(t + 1);
      expectClose(
        u.w,
        givenGradValues(t).w.map((g) => g * 2 ** -t),
        { rtol: 0, atol: 0 },
        `step ${t}`,
      );
      state = next;
      disposeAll(u, grads);
    }
  });

  it('rejects a schedule that is not a function, or returns a non-finite value', () => {
    expectValueError(
      () => scaleBySchedule(0.1 as never),
      'scaleBySchedule: schedule must be a function of the step',
    );
    const grads = givenGrads(0);
    const tx = scaleBySchedule(() => Number.NaN);
    expectValueError(
      () => tx.update(grads, tx.init({})),
      'scaleBySchedule: schedule(0) must be a finite number, got NaN',
    );
    disposeAll(grads);
  });
});
