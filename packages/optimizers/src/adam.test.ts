import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { adam, adamTransform } from './adam.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('Adam on %s', (backend) => {
  useBackend(backend);
  replayFixture('adam');
});

describe('Adam hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming Adam, the argument and the value', () => {
    expectValueError(() => adam([w], { lr: -1 }), 'Adam: lr must be >= 0, got -1');
    expectValueError(
      () => adam([w], { lr: Number.POSITIVE_INFINITY }),
      'Adam: lr must be a finite number, got Infinity',
    );
    expectValueError(() => adam([w], { weightDecay: -0.01 }), 'Adam: weightDecay must be >= 0, got -0.01');
    expectValueError(() => adam([w], { maximize: 1 as never }), 'Adam: maximize must be a boolean, got 1');
    expectValueError(() => adam([w], { betas: [1, 0.999] }), 'Adam: betas[0] must be in [0, 1), got 1');
    expectValueError(() => adam([w], { betas: [0.9, -0.5] }), 'Adam: betas[1] must be in [0, 1), got -0.5');
    expectValueError(
      () => adam([w], { betas: [0.9] as never }),
      'Adam: betas must be a pair [beta1, beta2], got [0.9]',
    );
    expectValueError(() => adam([w], { eps: 0 }), 'Adam: eps must be > 0, got 0');
    expectValueError(() => adam([w], { eps: -1e-8 }), 'Adam: eps must be > 0, got -1e-8');
    expectValueError(() => adamTransform({ lr: -2 }), 'Adam: lr must be >= 0, got -2');
    expectValueError(() => adam([{ params: [w], lr: -3 }]), 'Adam: lr must be >= 0, got -3');
    expectValueError(() => adam([w], { amsgrad: 0 as never }), 'Adam: amsgrad must be a boolean, got 0');
    expectValueError(
      () => adam([w], { weight_decay: 0.1 } as never),
      "Adam: unknown option 'weight_decay' (known: lr, betas, eps, weightDecay, amsgrad, maximize, convention)",
    );
  });
});
