// Test-only: a tiny model with the fixtures' parameter shapes (w [2,3], b [2]), so GL reuses the
// shaders the fixture tests compiled, and the least-squares data of fixtures/adam.json.
import type { Tensor } from '@gradkit/tensor';
import { keep, linear, Module, mseLoss, scope, tensor } from '@gradkit/tensor';
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
  type OptimizerParams,
  radam,
  rmsprop,
  sgd,
} from '../index.js';
import { loadOptimizerFixture } from './replay.js';

/** `x w^T + b` with w [2,3], b [2], initialised from the fixtures' least-squares problem. */
export class Affine extends Module {
  readonly w;
  readonly b;
  constructor() {
    super();
    const p = loadOptimizerFixture('adam').problems.lsq.params;
    this.w = this.registerParameter('w', tensor(p.w.data, p.w.shape));
    this.b = this.registerParameter('b', tensor(p.b.data, p.b.shape));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.w, this.b);
  }
}

/** The least-squares data (x [8,3], y [8,2]) as kept tensors. */
export function lsqData(): { x: Tensor; y: Tensor; dispose(): void } {
  const d = loadOptimizerFixture('adam').problems.lsq;
  const x = keep(tensor(d.x.data, d.x.shape));
  const y = keep(tensor(d.y.data, d.y.shape));
  return {
    x,
    y,
    dispose: () => {
      x.dispose();
      y.dispose();
    },
  };
}

/** Fills the model's gradients with those of the least-squares loss. */
export function backwardLsq(model: Affine, x: Tensor, y: Tensor): void {
  scope(() => mseLoss(model.forward(x), y).backward());
}

/** Every named optimizer with options that switch on all its state tensors. */
export const ALL_OPTIMIZERS: readonly [
  string,
  (params: OptimizerParams<object>) => Optimizer<never>,
  number,
][] = [
  // [name, factory, state tensors per parameter]
  ['SGD', (p) => sgd(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }) as never, 1],
  ['Adagrad', (p) => adagrad(p, { lr: 0.1, lrDecay: 0.01, weightDecay: 0.01 }) as never, 1],
  ['RMSprop', (p) => rmsprop(p, { momentum: 0.9, centered: true }) as never, 3],
  ['Adam', (p) => adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.01 }) as never, 3],
  ['AdamW', (p) => adamw(p, { lr: 0.01 }) as never, 2],
  ['Adamax', (p) => adamax(p, { weightDecay: 0.01 }) as never, 2],
  ['NAdam', (p) => nadam(p, { weightDecay: 0.01 }) as never, 2],
  ['RAdam', (p) => radam(p, { lr: 0.01 }) as never, 2],
  ['Adadelta', (p) => adadelta(p, { weightDecay: 0.01 }) as never, 2],
  ['Lion', (p) => lion(p, { lr: 1e-3, weightDecay: 0.1 }) as never, 1],
  ['LAMB', (p) => lamb(p, { weightDecay: 0.01 }) as never, 2],
];
