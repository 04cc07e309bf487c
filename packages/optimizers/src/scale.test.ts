import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, it } from 'vitest';
import { scale } from './scale.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenGradValues } from './testing/params.js';

describe.each(testBackends)('scale on %s', (backend) => {
  useBackend(backend);

  it('multiplies the updates by a constant', () => {
    const grads = givenGrads(1);
    const [u] = scale(-0.5).update(grads, {});
    expectClose(
      u.w,
      givenGradValues(1).w.map((g) => -0.5 * g),
      { rtol: 0, atol: 0 },
      'w',
    );
    expectClose(
      u.b,
      givenGradValues(1).b.map((g) => -0.5 * g),
      { rtol: 0, atol: 0 },
      'b',
    );
    disposeAll(u, grads);
  });

  it('rejects a non-finite factor', () => {
    expectValueError(() => scale(Number.NaN), 'scale: factor must be a finite number, got NaN');
  });
});
