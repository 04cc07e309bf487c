import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { adagrad, adagradTransform } from './adagrad.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('Adagrad on %s', (backend) => {
  useBackend(backend);
  replayFixture('adagrad');
});

describe('Adagrad hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming Adagrad, the argument and the value', () => {
    expectValueError(() => adagrad([w], { lr: -1 }), 'Adagrad: lr must be >= 0, got -1');
    expectValueError(
      () => adagrad([w], { lr: Number.POSITIVE_INFINITY }),
      'Adagrad: lr must be a finite number, got Infinity',
    );
    expectValueError(
      () => adagrad([w], { weightDecay: -0.01 }),
      'Adagrad: weightDecay must be >= 0, got -0.01',
    );
    expectValueError(
      () => adagrad([w], { maximize: 1 as never }),
      'Adagrad: maximize must be a boolean, got 1',
    );
    expectValueError(() => adagrad([w], { eps: 0 }), 'Adagrad: eps must be > 0, got 0');
    expectValueError(() => adagrad([w], { eps: -1e-8 }), 'Adagrad: eps must be > 0, got -1e-8');
    expectValueError(() => adagradTransform({ lr: -2 }), 'Adagrad: lr must be >= 0, got -2');
    expectValueError(() => adagrad([{ params: [w], lr: -3 }]), 'Adagrad: lr must be >= 0, got -3');
    expectValueError(() => adagrad([w], { lrDecay: -1 }), 'Adagrad: lrDecay must be >= 0, got -1');
    expectValueError(
      () => adagrad([w], { initialAccumulatorValue: -0.1 }),
      'Adagrad: initialAccumulatorValue must be >= 0, got -0.1',
    );
    expectValueError(
      () => adagrad([w], { convention: 'tf' as never }),
      `Adagrad: convention must be one of 'pytorch', 'keras', got "tf"`,
    );
  });
});
