import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { sgd, sgdTransform } from './sgd.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('SGD on %s', (backend) => {
  useBackend(backend);
  replayFixture('sgd');
});

describe('SGD hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('needs a learning rate, as PyTorch', () => {
    expectValueError(
      () => sgd([w], {} as { lr: number }),
      'SGD: lr is required (as in PyTorch, SGD has no default learning rate)',
    );
  });

  it('rejects bad values with a ValueError naming SGD, the argument and the value', () => {
    expectValueError(() => sgd([w], { lr: -0.1 }), 'SGD: lr must be >= 0, got -0.1');
    expectValueError(() => sgd([w], { lr: Number.NaN }), 'SGD: lr must be a finite number, got NaN');
    expectValueError(() => sgd([w], { lr: 0.1, momentum: -0.9 }), 'SGD: momentum must be >= 0, got -0.9');
    expectValueError(
      () => sgd([w], { lr: 0.1, dampening: 1.5 }),
      'SGD: dampening must be in [0, 1], got 1.5',
    );
    expectValueError(() => sgd([w], { lr: 0.1, weightDecay: -1 }), 'SGD: weightDecay must be >= 0, got -1');
    expectValueError(
      () => sgd([w], { lr: 0.1, nesterov: true }),
      'SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0 and dampening 0',
    );
    expectValueError(
      () => sgd([w], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      'SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0.9 and dampening 0.1',
    );
    expectValueError(
      () => sgd([w], { lr: 0.1, weight_decay: 0.1 } as never),
      "SGD: unknown option 'weight_decay' (known: lr, momentum, dampening, weightDecay, nesterov, maximize)",
    );
    expectValueError(() => sgdTransform({ lr: 0.1, momentum: -1 }), 'SGD: momentum must be >= 0, got -1');
  });

  it('checks group options too', () => {
    expectValueError(() => sgd([{ params: [w], lr: -1 }], { lr: 0.1 }), 'SGD: lr must be >= 0, got -1');
    const opt = sgd([{ params: [w], momentum: 0.5 }], { lr: 0.1 });
    expect(opt.getHyperparam('momentum')).toBe(0.5);
    expect(opt.getLr()).toBe(0.1);
    opt.dispose();
  });
});
