// The window read, its scatter-add adjoint and the index scatter-add in plain JavaScript: the loops
// behind CpuBackend.window / windowScatterAdd / scatterAdd (the wasm backend inherits them).
import { sizeOf, stridesOf } from '../shape.js';
import type { WindowPlan } from '../window.js';

/** The `t` in `[0, n)` with `0 <= c + s t < len`, as a half-open range `[lo, hi)`. */
function validRange(c: number, s: number, len: number, n: number): [number, number] {
  let lo: number;
  let hi: number;
  if (s === 0) {
    [lo, hi] = c >= 0 && c < len ? [0, n] : [0, 0];
  } else if (s > 0) {
    lo = c >= 0 ? 0 : Math.ceil(-c / s);
    hi = c > len - 1 ? 0 : Math.floor((len - 1 - c) / s) + 1;
  } else {
    const u = -s;
    lo = c <= len - 1 ? 0 : Math.ceil((c - (len - 1)) / u);
    hi = c < 0 ? 0 : Math.floor(c / u) + 1;
  }
  lo = Math.min(Math.max(lo, 0), n);
  hi = Math.min(Math.max(hi, lo), n);
  return [lo, hi];
}

/**
 * Walks the output of a window plan row by row (the last output axis), in row-major order. For
 * each row it calls `row(o, base, lo, hi, d, n)`: the row starts at output offset `o`, has `n`
 * elements, and element `t` reads input offset `base + t * d`, valid exactly for `lo <= t < hi`.
 */
function walkRows(
  plan: WindowPlan,
  row: (o: number, base: number, lo: number, hi: number, d: number, n: number) => void,
): void {
  const { inShape, outShape, axes, steps, offsets } = plan;
  if (sizeOf(outShape) === 0) return;
  const R = outShape.length;
  const r = inShape.length;
  const inStr = stridesOf(inShape);
  const coord = [...offsets];
  const inside = (a: number) => coord[a] >= 0 && coord[a] < inShape[a];
  if (R === 0) {
    let base = 0;
    let ok = true;
    for (let a = 0; a < r; a++) {
      base += coord[a] * inStr[a];
      if (!inside(a)) ok = false;
    }
    row(0, base, 0, ok ? 1 : 0, 0, 1);
    return;
  }
  const last = R - 1;
  const n = outShape[last];
  const la = axes[last];
  const ls = steps[last];
  const d = la >= 0 ? ls * inStr[la] : 0;
  const idx = new Array<number>(last).fill(0);
  const outer = sizeOf(outShape.slice(0, last));
  for (let t = 0, o = 0; t < outer; t++, o += n) {
    let ok = true;
    let base = 0;
    for (let a = 0; a < r; a++) {
      base += coord[a] * inStr[a];
      if (a !== la && !inside(a)) ok = false;
    }
    let lo = 0;
    let hi = 0;
    if (ok) [lo, hi] = la < 0 ? [0, n] : validRange(coord[la], ls, inShape[la], n);
    row(o, base, lo, hi, d, n);
    for (let k = last - 1; k >= 0; k--) {
      idx[k]++;
      const a = axes[k];
      if (a >= 0) coord[a] += steps[k];
      if (idx[k] < outShape[k]) break;
      if (a >= 0) coord[a] -= steps[k] * outShape[k];
      idx[k] = 0;
    }
  }
}

/** `out[o] = x[c(o)]` inside the input, `plan.padValue` outside (see `WindowSpec`). */
export function windowRead(xs: Float32Array, out: Float32Array, plan: WindowPlan): void {
  const pad = plan.padValue;
  walkRows(plan, (o, base, lo, hi, d, n) => {
    for (let t = 0; t < lo; t++) out[o + t] = pad;
    if (d === 1) for (let t = lo, p = base + lo; t < hi; t++, p++) out[o + t] = xs[p];
    else for (let t = lo; t < hi; t++) out[o + t] = xs[base + t * d];
    for (let t = hi; t < n; t++) out[o + t] = pad;
  });
}

/**
 * The adjoint of {@link windowRead}: `acc[c(o)] += dy[o]` for every output position `o` whose read
 * is inside the input, visiting `o` in ascending row-major order (so each input element sums its
 * contributions in ascending output order). `acc` (float64, the input's size) must start at 0.
 */
export function windowScatter(dy: Float32Array, acc: Float64Array, plan: WindowPlan): void {
  walkRows(plan, (o, base, lo, hi, d) => {
    for (let t = lo; t < hi; t++) acc[base + t * d] += dy[o + t];
  });
}

/**
 * The adjoint of a gather along an axis: `acc[p, i, q] += upd[p, j, q]` for `j` ascending where
 * `round(idx[j]) = i`; indices outside `[0, len)` contribute nothing. `upd` is `[pre, count, post]`,
 * `acc` (float64) `[pre, len, post]`, zero on entry.
 */
export function indexScatter(
  upd: Float32Array,
  idx: Float32Array,
  acc: Float64Array,
  pre: number,
  count: number,
  len: number,
  post: number,
): void {
  for (let j = 0; j < count; j++) {
    const i = Math.floor(idx[j] + 0.5);
    if (!(i >= 0 && i < len)) continue;
    for (let p = 0; p < pre; p++) {
      const src = (p * count + j) * post;
      const dst = (p * len + i) * post;
      for (let q = 0; q < post; q++) acc[dst + q] += upd[src + q];
    }
  }
}
