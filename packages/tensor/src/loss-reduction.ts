import type { DeviceArray } from '@gradkit/kernels';
import { ValueError } from '@gradkit/kernels';

/**
 * How a loss combines its per-element values (PyTorch's `reduction`): `'mean'` (default) averages
 * them, `'sum'` adds them, `'none'` returns them unreduced.
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** @internal */
export function checkReduction(op: string, reduction: unknown): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ValueError(op, `reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
  }
  return reduction;
}

/**
 * @internal Reduces per-element losses (consumed when reduced). `scale` is d(out)/d(element) per
 * unit of the output gradient: 1/count for mean, 1 otherwise.
 */
export function reduceLoss(elem: DeviceArray, reduction: Reduction): { out: DeviceArray; scale: number } {
  if (reduction === 'none') return { out: elem, scale: 1 };
  const d = elem.device;
  const out = reduction === 'mean' ? d.mean(elem) : d.sum(elem);
  const scale = reduction === 'mean' ? 1 / elem.size : 1;
  elem.dispose();
  return { out, scale };
}
