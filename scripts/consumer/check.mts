// Consumer test, types (ESM view): type-checked with `tsc --noEmit` against the published .d.ts
// (module/moduleResolution nodenext, no DOM or Node ambient types, skipLibCheck off).
import { adam, chain, clipByGlobalNorm, type Optimizer, scaleByAdam } from '@gradkit/optimizers';
import {
  type BackendName,
  backendInfo,
  linear,
  Module,
  mseLoss,
  randn,
  scope,
  type Tensor,
  zeros,
} from '@gradkit/tensor';

class Regressor extends Module {
  readonly w = this.registerParameter('w', randn([1, 3], { std: 0.1 }));
  readonly b = this.registerParameter('b', zeros([1]));
  forward(x: Tensor): Tensor {
    return linear(x, this.w, this.b);
  }
}

const model = new Regressor();
const opt: Optimizer = adam(model, { lr: 1e-3, betas: [0.9, 0.999] });
const x = randn([8, 3]);
const loss: number = scope(() => {
  const l = mseLoss(model.forward(x), zeros([8, 1]));
  l.backward();
  opt.step();
  opt.zeroGrad();
  return l;
}).item();
// (@gradkit/tensor re-exports backendInfo but not its BackendInfo type.)
const info: ReturnType<typeof backendInfo> = backendInfo();
const name: BackendName = info.name;
// a backend name is one of gradkit's own or a registered one (registerBackend): text
const exhaustive: string = name;
const builtin: BackendName = 'gl';
// @ts-expect-error: a backend name is text, not a number
const notAName: BackendName = 3;
const tx = chain(clipByGlobalNorm(1), scaleByAdam());

// @ts-expect-error: a learning rate is a number or a schedule, not a string
adam(model, { lr: 'fast' });

export { builtin, exhaustive, loss, notAName, tx };
