import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adam, lion, rmsprop, sgd } from './index.js';
import { type Make, minimize } from './testing/minimize.js';

// Convergence on Rosenbrock (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1), 1000 steps, for the
// optimizers that cross its curved valley in that budget (PyTorch runs with the same
// hyperparameters do): the end point must be within 2e-2 of the minimum (1, 1). Lion takes a
// decaying learning rate. The quadratic half is convergence.test.ts.

const ROSENBROCK: [string, Make, number][] = [
  ['SGD (Nesterov)', (p) => sgd(p, { lr: 1e-3, momentum: 0.9, nesterov: true }) as never, 1],
  [
    'RMSprop (centered, momentum)',
    (p) => rmsprop(p, { lr: 2e-3, momentum: 0.9, centered: true }) as never,
    1,
  ],
  ['Adam', (p) => adam(p, { lr: 0.05, betas: [0.9, 0.99] }) as never, 1],
  ['Lion', (p) => lion(p, { lr: 0.02 }) as never, 0.995],
];

describe.each(testBackends)('convergence on %s', (backend) => {
  useBackend(backend);

  it.each(ROSENBROCK)('%s finds the minimum of Rosenbrock', (_name, make, decay) => {
    const p = new Parameter([-1.2, 1]);
    const loss = () => {
      const x = p.gather([0]);
      const y = p.gather([1]);
      return x.neg().add(1).square().add(y.sub(x.square()).square().mul(100)).sum();
    };
    minimize(make, p, loss, 1000, decay);
    const [x, y] = p.dataSync();
    expect(Math.max(Math.abs(x - 1), Math.abs(y - 1))).toBeLessThan(2e-2);
    p.dispose();
  });
});
