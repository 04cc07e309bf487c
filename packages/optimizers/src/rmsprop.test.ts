import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { rmsprop, rmspropTransform } from './rmsprop.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('RMSprop on %s', (backend) => {
  useBackend(backend);
  replayFixture('rmsprop');
});

describe('RMSprop hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming RMSprop, the argument and the value', () => {
    expectValueError(() => rmsprop([w], { lr: -1 }), 'RMSprop: lr must be >= 0, got -1');
    expectValueError(
      () => rmsprop([w], { lr: Number.POSITIVE_INFINITY }),
      'RMSprop: lr must be a finite number, got Infinity',
    );
    expectValueError(
      () => rmsprop([w], { weightDecay: -0.01 }),
      'RMSprop: weightDecay must be >= 0, got -0.01',
    );
    expectValueError(
      () => rmsprop([w], { maximize: 1 as never }),
      'RMSprop: maximize must be a boolean, got 1',
    );
    expectValueError(() => rmsprop([w], { eps: 0 }), 'RMSprop: eps must be > 0, got 0');
    expectValueError(() => rmsprop([w], { eps: -1e-8 }), 'RMSprop: eps must be > 0, got -1e-8');
    expectValueError(() => rmspropTransform({ lr: -2 }), 'RMSprop: lr must be >= 0, got -2');
    expectValueError(() => rmsprop([{ params: [w], lr: -3 }]), 'RMSprop: lr must be >= 0, got -3');
    expectValueError(() => rmsprop([w], { alpha: 1 }), 'RMSprop: alpha must be in [0, 1), got 1');
    expectValueError(() => rmsprop([w], { momentum: -0.5 }), 'RMSprop: momentum must be >= 0, got -0.5');
    expectValueError(
      () => rmsprop([w], { centered: 'yes' as never }),
      'RMSprop: centered must be a boolean, got "yes"',
    );
  });
});
