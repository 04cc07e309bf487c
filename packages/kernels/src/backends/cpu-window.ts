// The window read, its scatter-add adjoint and the index scatter-add in plain JavaScript: the loops
// behind CpuBackend.window / windowScatterAdd / scatterAdd (the wasm backend inherits them).
import type { Shape } from '../shape.js';
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
 * `m3` blocks of a window walk, each of `m` rows of `n` output elements: row `j` of block `i`
 * starts at output offset `o + (i m + j) n`, and its element `t` reads input offset
 * `base + i d3 + j d2 + t d`. For rows `jlo <= j < jhi` that read is inside the input exactly for
 * `lo <= t < hi` (the same in every block); every other row is wholly outside (padding). Offsets
 * are element offsets; `base` itself may be outside the input (only the reads inside are made).
 */
export type WindowBlock = (...block: [o: number, base: number, ...RowBlock, m3: number, d3: number]) => void;

/** The rows of one block of a window walk (see {@link WindowBlock}), as the kernels take them. */
export type RowBlock = [
  m: number,
  n: number,
  d2: number,
  d: number,
  lo: number,
  hi: number,
  jlo: number,
  jhi: number,
];

/**
 * Walks the output of a window plan in row-major order as blocks of rows (the last output axis
 * is the row, the second-to-last the block; see {@link WindowBlock}) and calls `visit` once per
 * block (or once per run of blocks along the third-to-last output axis when that axis changes no
 * valid range). Across blocks the input offset and the count of input axes out of range are kept up to
 * date as the outer output coordinates advance (an odometer), so a block costs O(1) bookkeeping
 * however many axes there are, which matters for im2col layouts (many blocks of short rows). A
 * plan that reads no padding (`padded: false`) gives every block whole rows.
 */
export function forEachBlock(
  plan: Pick<WindowPlan, 'inShape' | 'outShape' | 'axes' | 'steps' | 'offsets'> & {
    readonly padded?: boolean;
  },
  visit: WindowBlock,
): void {
  const { inShape, outShape, axes, steps, offsets } = plan;
  if (sizeOf(outShape) === 0) return;
  const R = outShape.length;
  const r = inShape.length;
  const inStr = stridesOf(inShape);
  const coord = offsets.slice();
  if (R === 0) {
    let base = 0;
    let ok = true;
    for (let a = 0; a < r; a++) {
      base += coord[a] * inStr[a];
      if (!(coord[a] >= 0 && coord[a] < inShape[a])) ok = false;
    }
    visit(0, base, 1, 1, 0, 0, 0, ok ? 1 : 0, 0, 1, 1, 0);
    return;
  }
  // the row: the last output axis
  const last = R - 1;
  const n = outShape[last];
  const la = axes[last];
  const ls = steps[last];
  const d = la >= 0 ? ls * inStr[la] : 0;
  const laLen = la >= 0 ? inShape[la] : 0;
  // the block: the second-to-last output axis (one row when the output is 1-D)
  const nb = R >= 2 ? R - 2 : 0; // outer output axes, walked by the odometer
  const m = R >= 2 ? outShape[R - 2] : 1;
  const a2 = R >= 2 ? axes[R - 2] : -1;
  const s2 = R >= 2 ? steps[R - 2] : 0;
  const d2 = a2 >= 0 ? s2 * inStr[a2] : 0;
  const a2Len = a2 >= 0 ? inShape[a2] : 0;
  const check2 = a2 >= 0 && a2 !== la; // the block axis's coordinate decides a row's validity
  const sameAxis = a2 >= 0 && a2 === la; // each row's valid range differs: one row at a time
  const tracked = (a: number) => a !== la && !(check2 && a === a2);
  // input axes out of range other than the row's and the block's, and the input offset
  let bad = 0;
  let base = 0;
  for (let a = 0; a < r; a++) {
    base += coord[a] * inStr[a];
    if (tracked(a) && !(coord[a] >= 0 && coord[a] < inShape[a])) bad++;
  }
  const ax = axes.slice(0, nb);
  const st = steps.slice(0, nb);
  const dOff = ax.map((a, k) => (a >= 0 ? st[k] * inStr[a] : 0));
  const len = outShape.slice(0, nb);
  const idx = new Array<number>(nb).fill(0);
  const blocks = sizeOf(len);
  const full = plan.padded === false; // every read is inside the input: whole rows, no bounds
  const rowRange = (c: number): [number, number] => {
    if (la < 0) return [0, n];
    if (ls !== 1) return validRange(c, ls, laLen, n);
    const lo = c >= 0 ? 0 : Math.min(-c, n);
    return [lo, Math.max(lo, Math.min(n, laLen - c))];
  };
  // advance the odometer over the outer output axes by one block, keeping base and bad current
  const advance = () => {
    for (let k = nb - 1; k >= 0; k--) {
      const a = ax[k];
      const wrap = ++idx[k] === len[k];
      const delta = wrap ? -st[k] * (len[k] - 1) : st[k];
      if (wrap) idx[k] = 0;
      if (a >= 0 && delta !== 0) {
        const before = coord[a];
        const after = before + delta;
        coord[a] = after;
        base += wrap ? -dOff[k] * (len[k] - 1) : dOff[k];
        if (tracked(a)) {
          const lim = inShape[a];
          const wasOk = before >= 0 && before < lim;
          const isOk = after >= 0 && after < lim;
          if (wasOk !== isOk) bad += wasOk ? 1 : -1;
        }
      }
      if (!wrap) break;
    }
  };
  // The third-to-last output axis folds into one visit (m3 blocks, d3 apart) when it moves neither
  // the row's nor the block's input coordinate and every one of its positions reads inside.
  const k3 = nb - 1;
  const a3 = k3 >= 0 ? ax[k3] : -1;
  const m3 = k3 >= 0 ? len[k3] : 1;
  const d3 = k3 >= 0 ? dOff[k3] : 0;
  const foldable = k3 >= 0 && m3 > 1 && !sameAxis && (a3 < 0 || (a3 !== la && a3 !== a2));
  const inside3 = (): boolean => {
    if (a3 < 0) return true;
    const end = coord[a3] + st[k3] * (m3 - 1);
    return end >= 0 && end < inShape[a3];
  };
  for (let blk = 0, o = 0; blk < blocks; ) {
    const fold = foldable && idx[k3] === 0 && (full || (bad === 0 && inside3()));
    const reps = fold ? m3 : 1;
    if (full) visit(o, base, m, n, d2, d, 0, n, 0, m, reps, d3);
    else if (bad !== 0) visit(o, base, m, n, d2, d, 0, 0, 0, 0, 1, 0);
    else if (sameAxis) {
      for (let j = 0; j < m; j++) {
        const [lo, hi] = rowRange(coord[la] + j * s2);
        visit(o + j * n, base + j * d2, 1, n, d2, d, lo, hi, 0, 1, 1, 0);
      }
    } else {
      const [lo, hi] = rowRange(la >= 0 ? coord[la] : 0);
      const [jlo, jhi] = check2 ? validRange(coord[a2], s2, a2Len, m) : [0, m];
      visit(o, base, m, n, d2, d, lo, hi, jlo, jhi, reps, d3);
    }
    for (let i = 0; i < reps; i++) advance();
    blk += reps;
    o += reps * m * n;
  }
}

/** The JavaScript block of a window read: copies the valid elements, writes `pad` elsewhere. */
function readBlock(src: Float32Array, out: Float32Array, pad: number): WindowBlock {
  return (o, base, m, n, d2, d, lo, hi, jlo, jhi, m3, d3) => {
    for (let i = 0; i < m3; i++, base += d3) {
      for (let j = 0, b = base; j < m; j++, o += n, b += d2) {
        if (j < jlo || j >= jhi) {
          for (let t = 0; t < n; t++) out[o + t] = pad;
          continue;
        }
        for (let t = 0; t < lo; t++) out[o + t] = pad;
        if (d === 1) for (let t = lo, q = b + lo; t < hi; t++, q++) out[o + t] = src[q];
        else for (let t = lo, q = b + lo * d; t < hi; t++, q += d) out[o + t] = src[q];
        for (let t = hi; t < n; t++) out[o + t] = pad;
      }
    }
  };
}

/** The JavaScript block of a window scatter: adds the valid elements into the float64 sums. */
function scatterBlock(src: Float32Array, acc: Float64Array): WindowBlock {
  return (o, base, m, n, d2, d, lo, hi, jlo, jhi, m3, d3) => {
    for (let i = 0; i < m3; i++, o += m * n, base += d3) {
      for (let j = jlo, p = o + jlo * n, b = base + jlo * d2; j < jhi; j++, p += n, b += d2) {
        if (d === 1) for (let t = lo, q = b + lo; t < hi; t++, q++) acc[q] += src[p + t];
        else for (let t = lo, q = b + lo * d; t < hi; t++, q += d) acc[q] += src[p + t];
      }
    }
  };
}

/** `out[o] = x[c(o)]` inside the input, `plan.padValue` outside (see `WindowSpec`). */
export function windowRead(xs: Float32Array, out: Float32Array, plan: WindowPlan): void {
  forEachBlock(plan, readBlock(xs, out, plan.padValue));
}

/**
 * `x.permute(perm)` for `x` of shape `shape` (row-major) as a block walk: output axis `k` walks
 * input axis `perm[k]` with step 1, so a transpose runs on the same row walker (no index table).
 */
export function permutePlan(shape: Shape, perm: readonly number[]): Parameters<typeof forEachBlock>[0] {
  return {
    inShape: shape,
    outShape: perm.map((p) => shape[p]),
    axes: perm,
    steps: perm.map(() => 1),
    offsets: shape.map(() => 0),
    padded: false,
  };
}

/** `out = x.permute(perm)` for `x` of shape `shape` (see {@link permutePlan}). */
export function permuteRead(
  xs: Float32Array,
  out: Float32Array,
  shape: Shape,
  perm: readonly number[],
): void {
  forEachBlock(permutePlan(shape, perm), readBlock(xs, out, 0));
}

/**
 * The adjoint of {@link windowRead}: `acc[c(o)] += dy[o]` for every output position `o` whose read
 * is inside the input, visiting `o` in ascending row-major order (so each input element sums its
 * contributions in ascending output order). `acc` (float64, the input's size) must start at 0.
 */
export function windowScatter(dy: Float32Array, acc: Float64Array, plan: WindowPlan): void {
  forEachBlock(plan, scatterBlock(dy, acc));
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

/**
 * The traversal shared by {@link windowMaxRead} and {@link windowPickScatter}, for a plan that
 * reads no padding: the input offset of every tap (row-major over the output axes
 * `[first, first + count)`) relative to its window, and the windows (the other output axes, in
 * row-major order) as rows of `row` windows: row `i` starts at input offset `rowBase[i]` (of its
 * tap 0) and each next window of the row is `rowStep` further. Null for a plan that may read
 * padding.
 */
export function tapWalk(
  plan: WindowPlan,
  first: number,
  count: number,
): { taps: Int32Array; rowBase: Float64Array; row: number; rowStep: number } | null {
  if (plan.padded) return null;
  const { inShape, outShape, axes, steps, offsets } = plan;
  const inStr = stridesOf(inShape);
  const step = axes.map((a, k) => (a >= 0 ? steps[k] * inStr[a] : 0));
  const tapDims = outShape.slice(first, first + count);
  const tapStep = step.slice(first, first + count);
  const taps = new Int32Array(sizeOf(tapDims));
  for (let t = 0; t < taps.length; t++) {
    let rest = t;
    let off = 0;
    for (let k = tapDims.length - 1; k >= 0; k--) {
      off += (rest % tapDims[k]) * tapStep[k];
      rest = Math.floor(rest / tapDims[k]);
    }
    taps[t] = off;
  }
  const dims = [...outShape.slice(0, first), ...outShape.slice(first + count)];
  const st = [...step.slice(0, first), ...step.slice(first + count)];
  const R = dims.length;
  const row = R > 0 ? dims[R - 1] : 1;
  const rowStep = R > 0 ? st[R - 1] : 0;
  const rows = sizeOf(dims.slice(0, Math.max(R - 1, 0)));
  const rowBase = new Float64Array(row === 0 ? 0 : rows);
  let base = 0;
  for (let a = 0; a < inShape.length; a++) base += offsets[a] * inStr[a];
  const idx = new Array<number>(Math.max(R - 1, 0)).fill(0);
  for (let i = 0; i < rowBase.length; i++) {
    rowBase[i] = base;
    for (let k = R - 2; k >= 0; k--) {
      if (++idx[k] < dims[k]) {
        base += st[k];
        break;
      }
      idx[k] = 0;
      base -= st[k] * (dims[k] - 1);
    }
  }
  return { taps, rowBase, row, rowStep };
}

/**
 * The fused `Device.windowMax` for a plan that reads no padding: `mx[o]` the maximum of window
 * `o`'s taps and `ix[o]` the first tap holding it (the first NaN when there is one, which is then
 * the maximum), in one pass over the input. Returns false for a padded plan (the caller composes).
 */
export function windowMaxRead(
  xs: Float32Array,
  mx: Float32Array,
  ix: Float32Array,
  plan: WindowPlan,
  first: number,
  count: number,
): boolean {
  const walk = tapWalk(plan, first, count);
  if (walk === null) return false;
  const { taps, rowBase, row, rowStep } = walk;
  const K = taps.length;
  for (let i = 0, o = 0; i < rowBase.length; i++) {
    for (let j = 0, b = rowBase[i]; j < row; j++, o++, b += rowStep) {
      let best = xs[b + taps[0]];
      let bi = 0;
      if (!Number.isNaN(best)) {
        for (let t = 1; t < K; t++) {
          const v = xs[b + taps[t]];
          if (v > best) {
            best = v;
            bi = t;
          } else if (Number.isNaN(v)) {
            best = v;
            bi = t;
            break;
          }
        }
      }
      mx[o] = best;
      ix[o] = bi;
    }
  }
  return true;
}

/**
 * The fused `Device.windowScatterAt` for a plan that reads no padding: `acc[base(o) + tap(ix[o])] += dy[o]`
 * in ascending `o` for integer taps in range (float64 `acc`, zero on entry). Returns false for a
 * padded plan.
 */
export function windowPickScatter(
  dy: Float32Array,
  ix: Float32Array,
  acc: Float64Array,
  plan: WindowPlan,
  first: number,
  count: number,
): boolean {
  const walk = tapWalk(plan, first, count);
  if (walk === null) return false;
  const { taps, rowBase, row, rowStep } = walk;
  const K = taps.length;
  for (let i = 0, o = 0; i < rowBase.length; i++) {
    for (let j = 0, b = rowBase[i]; j < row; j++, o++, b += rowStep) {
      const t = ix[o];
      // an integer index into the taps table (a float key would take the slow generic path)
      if (t >= 0 && t < K && t === Math.floor(t)) acc[b + taps[t | 0]] += dy[o];
    }
  }
  return true;
}
