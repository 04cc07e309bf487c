import { keep, Parameter, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adadelta, adagrad, adam, adamax, adamw, lamb, lion, nadam, radam, rmsprop, sgd } from './index.js';
import { type Make, minimize } from './testing/minimize.js';

// Convergence on a quadratic 0.5 sum(a (w - c)^2) with curvatures a from 0.5 to 10, from w = 0,
// 200 steps, for every optimizer, with hyperparameters whose PyTorch (or reference) runs converge
// in the same budget: the loss (12.4 at the start) must fall below 1e-4. Lion and LAMB take a
// decaying learning rate (set by setLr each step, as a schedule would). Rosenbrock is in
// convergence-rosenbrock.test.ts, so that the two halves run side by side.

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
});
