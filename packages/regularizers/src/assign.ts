import type { DeviceArray } from '@gradkit/tensor';
import { noGrad, Tensor } from '@gradkit/tensor';

/** @internal Computes every new value first, then assigns them all (nothing written half-way), under noGrad. */
export function assignAll(jobs: readonly [Tensor, () => DeviceArray][]): void {
  noGrad(() => {
    const fresh: Tensor[] = [];
    try {
      for (const [, compute] of jobs) fresh.push(new Tensor(compute()));
    } catch (e) {
      for (const f of fresh) f.dispose();
      throw e;
    }
    jobs.forEach(([w], i) => {
      w.assign(fresh[i]);
      fresh[i].dispose();
    });
  });
}
