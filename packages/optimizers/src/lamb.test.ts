import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { lamb, lambTransform } from './lamb.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('LAMB on %s', (backend) => {
  useBackend(backend);
  replayFixture('lamb');
});

describe('LAMB hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming LAMB, the argument and the value', () => {
    expectValueError(() => lamb([w], { lr: -1 }), 'LAMB: lr must be >= 0, got -1');
    expectValueError(
      () => lamb([w], { lr: Number.POSITIVE_INFINITY }),
      'LAMB: lr must be a finite number, got Infinity',
    );
    expectValueError(() => lamb([w], { weightDecay: -0.01 }), 'LAMB: weightDecay must be >= 0, got -0.01');
    expectValueError(() => lamb([w], { maximize: 1 as never }), 'LAMB: maximize must be a boolean, got 1');
    expectValueError(() => lamb([w], { betas: [1, 0.999] }), 'LAMB: betas[0] must be in [0, 1), got 1');
    expectValueError(() => lamb([w], { betas: [0.9, -0.5] }), 'LAMB: betas[1] must be in [0, 1), got -0.5');
    expectValueError(
      () => lamb([w], { betas: [0.9] as never }),
      'LAMB: betas must be a pair [beta1, beta2], got [0.9]',
    );
    expectValueError(() => lamb([w], { eps: 0 }), 'LAMB: eps must be > 0, got 0');
    expectValueError(() => lamb([w], { eps: -1e-8 }), 'LAMB: eps must be > 0, got -1e-8');
    expectValueError(() => lambTransform({ lr: -2 }), 'LAMB: lr must be >= 0, got -2');
    expectValueError(() => lamb([{ params: [w], lr: -3 }]), 'LAMB: lr must be >= 0, got -3');
  });
});
