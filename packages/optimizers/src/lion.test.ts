import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { lion, lionTransform } from './lion.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('Lion on %s', (backend) => {
  useBackend(backend);
  replayFixture('lion');
});

describe('Lion hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming Lion, the argument and the value', () => {
    expectValueError(() => lion([w], { lr: -1 }), 'Lion: lr must be >= 0, got -1');
    expectValueError(
      () => lion([w], { lr: Number.POSITIVE_INFINITY }),
      'Lion: lr must be a finite number, got Infinity',
    );
    expectValueError(() => lion([w], { weightDecay: -0.01 }), 'Lion: weightDecay must be >= 0, got -0.01');
    expectValueError(() => lion([w], { maximize: 1 as never }), 'Lion: maximize must be a boolean, got 1');
    expectValueError(() => lion([w], { betas: [1, 0.999] }), 'Lion: betas[0] must be in [0, 1), got 1');
    expectValueError(() => lion([w], { betas: [0.9, -0.5] }), 'Lion: betas[1] must be in [0, 1), got -0.5');
    expectValueError(
      () => lion([w], { betas: [0.9] as never }),
      'Lion: betas must be a pair [beta1, beta2], got [0.9]',
    );
    expectValueError(() => lionTransform({ lr: -2 }), 'Lion: lr must be >= 0, got -2');
    expectValueError(() => lion([{ params: [w], lr: -3 }]), 'Lion: lr must be >= 0, got -3');
  });
});
