import type { Device, DeviceArray } from '@gradkit/tensor';
import { BackendError, fromOp, getDevice, Tensor } from '@gradkit/tensor';
import { S } from './specs.js';

/** @internal One parameter's share of a penalty: `l1 sum|w| + l2 sum w^2`. */
export interface PenaltyTerm {
  readonly param: Tensor;
  readonly l1: number;
  readonly l2: number;
}

/**
 * @internal The scalar `sum_i (l1_i sum|w_i| + l2_i sum w_i^2)` as one recorded op over every
 * parameter: per parameter, one fused kernel for the terms and one reduction forward, one fused
 * kernel `dy (l1 sign(w) + 2 l2 w)` backward (sign(0) = 0, as PyTorch's abs). No read-back.
 * Terms with both coefficients 0 are skipped; with no term left the result is a constant 0.
 */
export function penaltyOp(op: string, terms: readonly PenaltyTerm[]): Tensor {
  const live = terms.filter((t) => t.l1 !== 0 || t.l2 !== 0);
  const d: Device = live.length > 0 ? live[0].param.device : getDevice();
  for (const t of live) {
    if (t.param.device !== d) {
      throw new BackendError(
        d.name,
        `${op}: parameters are on different devices (${d.name} and ${t.param.device.name})`,
      );
    }
  }
  if (live.length === 0) return new Tensor(d.full([], 0));
  let total: DeviceArray | null = null;
  try {
    for (const t of live) {
      const e = d.map(S.penaltyTerms, [t.param.array], [t.l1, t.l2]);
      let s: DeviceArray;
      try {
        s = d.sum(e);
      } finally {
        e.dispose();
      }
      if (total === null) total = s;
      else {
        const prev: DeviceArray = total;
        total = null;
        try {
          total = d.binary('add', prev, s);
        } finally {
          prev.dispose();
          s.dispose();
        }
      }
    }
  } catch (e) {
    total?.dispose();
    throw e;
  }
  const inputs = live.map((t) => t.param);
  return fromOp(op, total!, inputs, (ctx) => {
    const saved = live.map((t, i) => (ctx.needs[i] ? ctx.save(t.param.array) : null));
    return (dy) =>
      live.map((t, i) => {
        const w = saved[i];
        return w ? d.map(S.penaltyGrad, [w, dy], [t.l1, 2 * t.l2]) : null;
      });
  });
}
