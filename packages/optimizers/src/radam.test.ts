import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { radam, radamTransform } from './radam.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('RAdam on %s', (backend) => {
  useBackend(backend);
  replayFixture('radam');
});

describe('RAdam hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming RAdam, the argument and the value', () => {
    expectValueError(() => radam([w], { lr: -1 }), 'RAdam: lr must be >= 0, got -1');
    expectValueError(
      () => radam([w], { lr: Number.POSITIVE_INFINITY }),
      'RAdam: lr must be a finite number, got Infinity',
    );
    expectValueError(() => radam([w], { weightDecay: -0.01 }), 'RAdam: weightDecay must be >= 0, got -0.01');
    expectValueError(() => radam([w], { maximize: 1 as never }), 'RAdam: maximize must be a boolean, got 1');
    expectValueError(() => radam([w], { betas: [1, 0.999] }), 'RAdam: betas[0] must be in [0, 1), got 1');
    expectValueError(() => radam([w], { betas: [0.9, -0.5] }), 'RAdam: betas[1] must be in [0, 1), got -0.5');
    expectValueError(
      () => radam([w], { betas: [0.9] as never }),
      'RAdam: betas must be a pair [beta1, beta2], got [0.9]',
    );
    expectValueError(() => radam([w], { eps: 0 }), 'RAdam: eps must be > 0, got 0');
    expectValueError(() => radam([w], { eps: -1e-8 }), 'RAdam: eps must be > 0, got -1e-8');
    expectValueError(() => radamTransform({ lr: -2 }), 'RAdam: lr must be >= 0, got -2');
    expectValueError(() => radam([{ params: [w], lr: -3 }]), 'RAdam: lr must be >= 0, got -3');
  });
});
