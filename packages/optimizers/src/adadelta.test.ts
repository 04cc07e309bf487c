import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { adadelta, adadeltaTransform } from './adadelta.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('Adadelta on %s', (backend) => {
  useBackend(backend);
  replayFixture('adadelta');
});

describe('Adadelta hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming Adadelta, the argument and the value', () => {
    expectValueError(() => adadelta([w], { lr: -1 }), 'Adadelta: lr must be >= 0, got -1');
    expectValueError(
      () => adadelta([w], { lr: Number.POSITIVE_INFINITY }),
      'Adadelta: lr must be a finite number, got Infinity',
    );
    expectValueError(
      () => adadelta([w], { weightDecay: -0.01 }),
      'Adadelta: weightDecay must be >= 0, got -0.01',
    );
    expectValueError(
      () => adadelta([w], { maximize: 1 as never }),
      'Adadelta: maximize must be a boolean, got 1',
    );
    expectValueError(() => adadelta([w], { eps: 0 }), 'Adadelta: eps must be > 0, got 0');
    expectValueError(() => adadelta([w], { eps: -1e-8 }), 'Adadelta: eps must be > 0, got -1e-8');
    expectValueError(() => adadeltaTransform({ lr: -2 }), 'Adadelta: lr must be >= 0, got -2');
    expectValueError(() => adadelta([{ params: [w], lr: -3 }]), 'Adadelta: lr must be >= 0, got -3');
    expectValueError(() => adadelta([w], { rho: 1.1 }), 'Adadelta: rho must be in [0, 1], got 1.1');
  });
});
