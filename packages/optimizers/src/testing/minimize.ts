// The loop of the convergence tests: `steps` optimizer steps on `loss`, then the final loss.
import type { Tensor } from '@gradkit/tensor';
import { noGrad, type Parameter, scope } from '@gradkit/tensor';
import type { Optimizer } from '../index.js';

/** Makes the optimizer under test for the given parameters. */
export type Make = (p: Parameter[]) => Optimizer<never>;

/**
 * Runs `steps` steps of the optimizer `make` builds on `p` (its learning rate times `decay^t` at
 * step `t` when `decay` is not 1, as a schedule would set it) and returns the final loss.
 */
export function minimize(make: Make, p: Parameter, loss: () => Tensor, steps: number, decay: number): number {
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
