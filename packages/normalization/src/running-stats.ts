import type { DeviceArray } from '@gradkit/tensor';
import { noGrad, Tensor } from '@gradkit/tensor';
import { disposeAll } from './checks.js';
import { S } from './specs.js';

/** @internal The running statistics a training-mode batch norm updates, and how. */
export interface RunningStats {
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** Incremented by one per update when given; required when `factor` is null. */
  readonly numBatchesTracked: Tensor | null;
  /** Weight of the new batch statistic (PyTorch's momentum); null: cumulative average 1 / numBatchesTracked. */
  readonly factor: number | null;
  /** Bessel's correction: the running variance receives sum / (M - 1) instead of sum / M. */
  readonly unbiased: boolean;
}

/** @internal Replaces `t`'s values with `array`'s (ownership of `array` passes here). */
function assignArray(t: Tensor, array: DeviceArray): void {
  const tmp = new Tensor(array);
  try {
    t.assign(tmp);
  } finally {
    tmp.dispose();
  }
}

/**
 * @internal Updates the running statistics on the device, with no read-back: `sum` and `sumSq`
 * are per-channel sums (shape `[C]`) of x and of (x - batch mean)^2 over `count` values each.
 *
 * - momentum factor f: `running = (1 - f) running + f batch`;
 * - cumulative (f null): `n += 1; running = running + (batch - running) / n` (PyTorch's
 *   `momentum=None`), with n read on the device;
 *
 * where batch is `sum / count` for the mean and `sumSq / (count - 1)` (unbiased) or
 * `sumSq / count` for the variance. Everything is computed before anything is assigned.
 */
export function updateRunningStats(
  stats: RunningStats,
  sum: DeviceArray,
  sumSq: DeviceArray,
  count: number,
): void {
  const d = sum.device;
  const { runningMean, runningVar, numBatchesTracked, factor, unbiased } = stats;
  const kVar = unbiased ? 1 / (count - 1) : 1 / count;
  noGrad(() => {
    const made: DeviceArray[] = [];
    try {
      const n = numBatchesTracked ? d.map(S.increment, [numBatchesTracked.array]) : null;
      if (n) made.push(n);
      let mean: DeviceArray;
      let variance: DeviceArray;
      if (factor === null) {
        mean = d.map(S.cumulative, [runningMean.array, sum, n!], [1 / count]);
        made.push(mean);
        variance = d.map(S.cumulative, [runningVar.array, sumSq, n!], [kVar]);
      } else {
        mean = d.map(S.lerp, [runningMean.array, sum], [1 - factor, factor / count]);
        made.push(mean);
        variance = d.map(S.lerp, [runningVar.array, sumSq], [1 - factor, factor * kVar]);
      }
      made.length = 0;
      assignArray(runningMean, mean);
      assignArray(runningVar, variance);
      if (n && numBatchesTracked) assignArray(numBatchesTracked, n);
    } catch (e) {
      disposeAll(...made);
      throw e;
    }
  });
}
