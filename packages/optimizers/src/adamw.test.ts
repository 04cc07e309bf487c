import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, it } from 'vitest';
import { adamw, adamwTransform } from './adamw.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('AdamW on %s', (backend) => {
  useBackend(backend);
  replayFixture('adamw');
});

describe('AdamW hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming AdamW, the argument and the value', () => {
    expectValueError(() => adamw([w], { lr: -1 }), 'AdamW: lr must be >= 0, got -1');
    expectValueError(
      () => adamw([w], { lr: Number.POSITIVE_INFINITY }),
      'AdamW: lr must be a finite number, got Infinity',
    );
    expectValueError(() => adamw([w], { weightDecay: -0.01 }), 'AdamW: weightDecay must be >= 0, got -0.01');
    expectValueError(() => adamw([w], { maximize: 1 as never }), 'AdamW: maximize must be a boolean, got 1');
    expectValueError(() => adamw([w], { betas: [1, 0.999] }), 'AdamW: betas[0] must be in [0, 1), got 1');
    expectValueError(() => adamw([w], { betas: [0.9, -0.5] }), 'AdamW: betas[1] must be in [0, 1), got -0.5');
    expectValueError(
      () => adamw([w], { betas: [0.9] as never }),
      'AdamW: betas must be a pair [beta1, beta2], got [0.9]',
    );
    expectValueError(() => adamw([w], { eps: 0 }), 'AdamW: eps must be > 0, got 0');
    expectValueError(() => adamw([w], { eps: -1e-8 }), 'AdamW: eps must be > 0, got -1e-8');
    expectValueError(() => adamwTransform({ lr: -2 }), 'AdamW: lr must be >= 0, got -2');
    expectValueError(() => adamw([{ params: [w], lr: -3 }]), 'AdamW: lr must be >= 0, got -3');
  });
});
