import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, it } from 'vitest';
import { scaleByLearningRate } from './scale-by-learning-rate.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenGradValues } from './testing/params.js';

describe.each(testBackends)('scaleByLearningRate on %s', (backend) => {
  useBackend(backend);

  it('scales by -lr (descent), +lr with flipSign false, lr(t) for a schedule', () => {
    const g = givenGradValues(2).w;
    for (const [tx, factor] of [
      [scaleByLearningRate(0.1), -0.1],
      [scaleByLearningRate(0.1, { flipSign: false }), 0.1],
      [scaleByLearningRate((t) => 0.3 * (t + 1)), -0.3],
    ] as const) {
      const grads = givenGrads(2);
      const [u] = tx.update(grads, tx.init({}));
      expectClose(
        u.w,
        g.map((x) => Math.fround(factor) * x),
        { rtol: 1e-7, atol: 0 },
        String(factor),
      );
      disposeAll(u, grads);
    }
  });

  it('rejects a negative learning rate, also from a schedule at the step', () => {
    expectValueError(() => scaleByLearningRate(-1), 'scaleByLearningRate: lr must be >= 0, got -1');
    const grads = givenGrads(0);
    const tx = scaleByLearningRate((t) => 0.1 - t);
    const [u, s] = tx.update(grads, tx.init({}));
    expectValueError(() => tx.update(grads, s), 'scaleByLearningRate: lr(1) must be >= 0, got -0.9');
    disposeAll(u, grads);
  });
});
