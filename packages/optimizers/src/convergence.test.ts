import type { Tensor } from '@gradkit/tensor';
import { keep, noGrad, Parameter, scope, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import {
  adadelta,
  adagrad,
  adam,
  adamax,
  adamw,
  lamb,
  lion,
  nadam,
  type Optimizer,
  radam,
  rmsprop,
  sgd,
} from './index.js';

// Convergence on two classic problems, with hyperparameters whose PyTorch (or reference) runs
// converge in the same budget:
// - a quadratic 0.5 sum(a (w - c)^2) with curvatures a from 0.5 to 10, from w = 0, 200 steps,
//   every optimizer: the loss (12.4 at the start) must fall below 1e-4;
// - Rosenbrock (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1), 1000 steps, the optimizers that cross
//   its curved valley in that budget: the end point must be within 2e-2 of the minimum (1, 1).
// Lion and LAMB take a decaying learning rate (set by setLr each step, as a schedule would).

type Make = (p: Parameter[]) => Optimizer<never>;

const QUADRATIC: [string, Make, number][] = [
  ['SGD (momentum)', (p) => sgd(p, { lr: 0.05, momentum: 0.9 }) as never, 1],
  ['Adagrad', (p) => adagrad(p, { lr: 1 }) as never, 1],
  [
    'RMSprop (centered, momentum)',
    (p) => rmsprop(p, { lr: 3e-3, momentum: 0.9, centered: true }) as never,
    1,
  ],
  ['Adam', (p) => adam(p, { lr: 0.1 }) as never, 1],
  ['AdamW', (p) => adamw(p, { lr: 0.1, weightDecay: 1e-4 }) as never, 1],
  ['Adamax', (p) => adamax(p, { lr: 0.5 }) as never, 1],
  ['NAdam', (p) => nadam(p, { lr: 0.2 }) as never, 1],
  ['RAdam', (p) => radam(p, { lr: 0.3 }) as never, 1],
  ['Adadelta', (p) => adadelta(p, { lr: 10 }) as never, 1],
  ['Lion', (p) => lion(p, { lr: 0.1, betas: [0.9, 0.9] }) as never, 0.97],
  ['LAMB', (p) => lamb(p, { lr: 0.1 }) as never, 0.97],
];

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

function minimize(make: Make, p: Parameter, loss: () => Tensor, steps: number, decay: number): number {
  const opt = make([p]);
  const lr0 = opt.getLr();
  for (let t = 0; t < steps; t++) {
    if (decay !== 1) opt.setLr(lr0 * decay ** t);
    scope(() => loss().backward());
    opt.step();
    opt.zeroGrad();
  }
  opt.dispose();
  return noGrad(() => scope(() => loss().item()));
}

describe.each(testBackends)('convergence on %s', (backend) => {
  useBackend(backend);

  it.each(QUADRATIC)('%s minimizes an ill-conditioned quadratic', (_name, make, decay) => {
    const a = keep(tensor([1, 2, 5, 0.5, 3, 10], [2, 3]));
    const c = keep(tensor([1, -2, 0.5, 3, 0, -1], [2, 3]));
    const w = new Parameter([0, 0, 0, 0, 0, 0], { shape: [2, 3] });
    const loss = () => w.sub(c).square().mul(a).sum().mul(0.5);
    const final = minimize(make, w, loss, 200, decay);
    expect(final).toBeLessThan(1e-4);
    for (const t of [a, c, w]) t.dispose();
  });

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
