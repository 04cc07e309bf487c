import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { adamax, adamaxTransform } from './adamax.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('Adamax on %s', (backend) => {
  useBackend(backend);
  replayFixture('adamax');
});

describe('Adamax hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming Adamax, the argument and the value', () => {
    expectValueError(() => adamax([w], { lr: -1 }), 'Adamax: lr must be >= 0, got -1');
    expectValueError(
      () => adamax([w], { lr: Number.POSITIVE_INFINITY }),
      'Adamax: lr must be a finite number, got Infinity',
    );
    expectValueError(
      () => adamax([w], { weightDecay: -0.01 }),
      'Adamax: weightDecay must be >= 0, got -0.01',
    );
    expectValueError(
      () => adamax([w], { maximize: 1 as never }),
      'Adamax: maximize must be a boolean, got 1',
    );
    expectValueError(() => adamax([w], { betas: [1, 0.999] }), 'Adamax: betas[0] must be in [0, 1), got 1');
    expectValueError(
      () => adamax([w], { betas: [0.9, -0.5] }),
      'Adamax: betas[1] must be in [0, 1), got -0.5',
    );
    expectValueError(
      () => adamax([w], { betas: [0.9] as never }),
      'Adamax: betas must be a pair [beta1, beta2], got [0.9]',
    );
    expectValueError(() => adamax([w], { eps: 0 }), 'Adamax: eps must be > 0, got 0');
    expectValueError(() => adamax([w], { eps: -1e-8 }), 'Adamax: eps must be > 0, got -1e-8');
    expectValueError(() => adamaxTransform({ lr: -2 }), 'Adamax: lr must be >= 0, got -2');
    expectValueError(() => adamax([{ params: [w], lr: -3 }]), 'Adamax: lr must be >= 0, got -3');
  });
});
