import type { DeviceArray, Tensor } from '@gradkit/tensor';
import { fromOp, isGradEnabled } from '@gradkit/tensor';
import { disposeAll, ownOnce } from './checks.js';
import { S } from './specs.js';

/**
 * @internal How a per-sample normalization (LayerNorm, GroupNorm, RMSNorm) sees its input: x is
 * viewed as `view`; the statistics reduce `statAxes` of the view (kept as size 1); the affine
 * parameters are viewed as `paramView` (broadcasting against the view) and their gradients sum
 * `paramAxes` of the view.
 */
export interface NormLayout {
  readonly view: readonly number[];
  readonly statAxes: readonly number[];
  readonly paramView: readonly number[];
  readonly paramAxes: readonly number[];
  /** Subtract the mean (LayerNorm, GroupNorm); false: divide by the root mean square (RMSNorm). */
  readonly centered: boolean;
  readonly eps: number;
}

/**
 * @internal The fused forward and backward of a per-sample normalization, shapes already
 * checked. With M values per statistic, xhat = (x - mean) invstd (centered) or x invstd (RMS),
 * invstd = 1 / sqrt(mean((x - mean)^2) + eps) or 1 / sqrt(mean(x^2) + eps):
 *
 * - forward: `y = xhat w + b` (w, b optional);
 * - backward, with `g = dy w invstd`: `dx = g - mean(g) - xhat mean(g xhat)` (centered) or
 *   `dx = g - xhat mean(g xhat)` (RMS); `dw = sum(dy xhat)`, `db = sum(dy)` over `paramAxes`.
 *
 * xhat is kept for the backward pass (the output itself when there is no weight). `onStats`, when
 * given, sees the statistics (mean, null for RMS, and invstd, both in the view's shape with the
 * reduced axes kept as 1) once they are computed; they are freed afterwards, so it must copy what
 * it keeps.
 */
export function normalizeFused(
  name: string,
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  layout: NormLayout,
  onStats?: (mean: DeviceArray | null, invstd: DeviceArray) => void,
): Tensor {
  const d = x.device;
  const { view, statAxes, paramView, paramAxes, centered, eps } = layout;
  const count = statAxes.reduce((p, a) => p * view[a], 1);
  const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
  const at = { weight: weight ? 1 : -1, bias: bias ? inputs.length - 1 : -1 };
  const record = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const made: DeviceArray[] = [];
  const track = <T extends DeviceArray>(a: T): T => {
    made.push(a);
    return a;
  };
  try {
    const xv = track(d.reshape(x.array, view));
    const wv = weight ? track(d.reshape(weight.array, paramView)) : null;
    const bv = bias ? track(d.reshape(bias.array, paramView)) : null;
    let mean: DeviceArray | null = null;
    let sq: DeviceArray;
    if (centered) {
      const s1 = track(d.sum(xv, statAxes, true));
      mean = track(d.scalar('mulScalar', s1, 1 / count));
      sq = d.map(S.sqDev, [xv, s1], [1 / count]);
    } else {
      sq = d.unary('square', xv);
    }
    let s2: DeviceArray;
    try {
      s2 = track(d.sum(sq, statAxes, true));
    } finally {
      sq.dispose();
    }
    const invstd = track(d.map(S.invStd, [s2], [1 / count, eps]));
    onStats?.(mean, invstd);
    const normalized = () => (mean ? d.map(S.normalize, [xv, mean, invstd]) : d.binary('mul', xv, invstd));
    let xhat: DeviceArray | null = null;
    let yv: DeviceArray;
    if (!wv && !bv) {
      yv = normalized();
    } else if (record || bv) {
      xhat = track(normalized());
      if (wv && bv) yv = d.map(S.scaleShift, [xhat, wv, bv]);
      else if (wv) yv = d.binary('mul', xhat, wv);
      else yv = d.binary('add', xhat, bv!);
    } else {
      yv = mean ? d.map(S.normalizeScale, [xv, mean, invstd, wv!]) : d.map(S.mul3, [xv, invstd, wv!]);
    }
    let y: DeviceArray;
    try {
      y = d.reshape(yv, x.shape);
    } finally {
      yv.dispose();
    }
    const temps = [...made];
    made.length = 0;
    return fromOp(
      name,
      y,
      inputs,
      (ctx, out) => {
        const own = ownOnce(ctx.own);
        const needX = ctx.needs[0];
        const needW = at.weight >= 0 && ctx.needs[at.weight];
        const needB = at.bias >= 0 && ctx.needs[at.bias];
        const sXhat = needX || needW ? (xhat ? own(xhat) : own(d.reshape(out, view))) : null;
        const sInvstd = needX ? own(invstd) : null;
        const sW = needX && wv ? own(wv) : null;
        return (dy) => {
          const grads: (DeviceArray | null)[] = inputs.map(() => null);
          const tmp: DeviceArray[] = [];
          const keep = <T extends DeviceArray>(a: T): T => {
            tmp.push(a);
            return a;
          };
          try {
            const dyv = keep(d.reshape(dy, view));
            if (needX) {
              const g = keep(sW ? d.map(S.mul3, [dyv, sW, sInvstd!]) : d.binary('mul', dyv, sInvstd!));
              const gx = keep(d.binary('mul', g, sXhat!));
              const sgx = keep(d.sum(gx, statAxes, true));
              let dxv: DeviceArray;
              if (centered) {
                const sg = keep(d.sum(g, statAxes, true));
                dxv = keep(d.map(S.gradCentered, [g, sXhat!, sg, sgx], [1 / count]));
              } else {
                dxv = keep(d.map(S.gradUncentered, [g, sXhat!, sgx], [1 / count]));
              }
              grads[0] = d.reshape(dxv, x.shape);
            }
            if (needW) {
              const p = keep(d.binary('mul', dyv, sXhat!));
              grads[at.weight] = reshaped(d.sum(p, paramAxes), weight!.shape);
            }
            if (needB) grads[at.bias] = reshaped(d.sum(dyv, paramAxes), bias!.shape);
            return grads;
          } catch (e) {
            disposeAll(...grads);
            throw e;
          } finally {
            disposeAll(...tmp);
          }
        };
      },
      temps,
    );
  } catch (e) {
    disposeAll(...made);
    throw e;
  }
}

/** `a` as a view with `shape` (the original freed). */
function reshaped(a: DeviceArray, shape: readonly number[]): DeviceArray {
  try {
    return a.device.reshape(a, shape);
  } finally {
    a.dispose();
  }
}
