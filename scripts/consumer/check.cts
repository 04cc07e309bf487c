// Consumer test, types (CJS view): the same imports resolved through the "require" condition
// (dist/index.d.cts), type-checked with `tsc --noEmit`.
import { adam, type Optimizer } from '@gradkit/optimizers';
import { linear, Module, randn, type Tensor, zeros } from '@gradkit/tensor';

class Tiny extends Module {
  readonly w = this.registerParameter('w', randn([2, 2]));
  readonly b = this.registerParameter('b', zeros([2]));
  forward(x: Tensor): Tensor {
    return linear(x, this.w, this.b);
  }
}

const opt: Optimizer = adam(new Tiny(), { lr: 0.01 });
export = opt;
