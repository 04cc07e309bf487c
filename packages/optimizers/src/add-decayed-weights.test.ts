import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { addDecayedWeights } from './add-decayed-weights.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenGradValues, givenParams } from './testing/params.js';

describe.each(testBackends)('addDecayedWeights on %s', (backend) => {
  useBackend(backend);

  it('adds weightDecay * p to the updates', () => {
    const params = givenParams();
    const p = params.w.dataSync();
    const grads = givenGrads(3);
    const [u] = addDecayedWeights(0.25).update(grads, {}, params);
    expectClose(
      u.w,
      givenGradValues(3).w.map((g, i) => g + 0.25 * p[i]),
      { rtol: 1e-6, atol: 1e-7 },
      'w',
    );
    disposeAll(u, grads, params);
  });

  it('with 0, passes the updates through (no parameters needed)', () => {
    const grads = givenGrads(3);
    const [u] = addDecayedWeights(0).update(grads, {});
    expect(u.w).toBe(grads.w);
    disposeAll(grads);
  });

  it('needs the parameters, and a non-negative coefficient', () => {
    const grads = givenGrads(3);
    expectValueError(
      () => addDecayedWeights(0.1).update(grads, {}),
      "addDecayedWeights: needs the parameters (update(grads, state, params)); 'w' is missing",
    );
    expectValueError(() => addDecayedWeights(-0.1), 'addDecayedWeights: weightDecay must be >= 0, got -0.1');
    disposeAll(grads);
  });
});
