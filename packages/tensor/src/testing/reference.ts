// Float64 reference implementations for the tests, written independently of the kernels and of
// the ops under test (plain loops over multi-indices). Test-only: not part of the build.

/** A float64 array with a shape. */
export interface Ref {
  readonly shape: number[];
  readonly data: number[];
}

export function ref(data: ArrayLike<number>, shape: readonly number[]): Ref {
  return { shape: [...shape], data: Array.from(data) };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat position i in shape. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  let r = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = r % shape[d];
    r = Math.floor(r / shape[d]);
  }
  return idx;
}

export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d !== 1) {
        if (dim !== 1 && dim !== d) throw new Error('reference: shapes do not broadcast');
        dim = d;
      }
    }
    out.push(dim);
  }
  return out;
}

/** Element of x at the broadcast multi-index `idx` (of a higher or equal rank). */
function at(x: Ref, idx: readonly number[]): number {
  const off = idx.length - x.shape.length;
  const st = strides(x.shape);
  let p = 0;
  for (let d = 0; d < x.shape.length; d++) p += (x.shape[d] === 1 ? 0 : idx[off + d]) * st[d];
  return x.data[p];
}

/** Element-wise function of any number of broadcast inputs. */
export function map64(f: (...v: number[]) => number, ...xs: Ref[]): Ref {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  const data: number[] = [];
  for (let i = 0; i < size(shape); i++) {
    const idx = unravel(i, shape);
    data.push(f(...xs.map((x) => at(x, idx))));
  }
  return { shape, data };
}

/** Reduction over `axes` (sorted, unique) by folding the reduced elements with `f`. */
export function reduce64(
  x: Ref,
  axes: readonly number[],
  keepDims: boolean,
  f: (vals: number[]) => number,
): Ref {
  const outFull = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  const st = strides(outFull);
  for (let i = 0; i < size(x.shape); i++) {
    const idx = unravel(i, x.shape);
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += (axes.includes(d) ? 0 : idx[d]) * st[d];
    const g = groups.get(o);
    if (g) g.push(x.data[i]);
    else groups.set(o, [x.data[i]]);
  }
  const data: number[] = [];
  for (let o = 0; o < size(outFull); o++) data.push(f(groups.get(o) ?? []));
  return { shape: keepDims ? outFull : x.shape.filter((_, i) => !axes.includes(i)), data };
}

export const sum64 = (v: number[]) => v.reduce((p, q) => p + q, 0);
export const max64 = (v: number[]) => Math.max(...v);
export const min64 = (v: number[]) => Math.min(...v);
export const lse64 = (v: number[]) => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((p, q) => p + Math.exp(q - m), 0));
};

/** op(A) op(B) for 2-D refs. */
export function matmul64(a: Ref, b: Ref, transA = false, transB = false): Ref {
  const A = (i: number, k: number) => (transA ? a.data[k * a.shape[1] + i] : a.data[i * a.shape[1] + k]);
  const B = (k: number, j: number) => (transB ? b.data[j * b.shape[1] + k] : b.data[k * b.shape[1] + j]);
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const n = transB ? b.shape[0] : b.shape[1];
  const data: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
      data.push(s);
    }
  }
  return { shape: [m, n], data };
}

/** Permutes axes: output axis i is input axis perm[i]. */
export function transpose64(x: Ref, perm: readonly number[]): Ref {
  const shape = perm.map((p) => x.shape[p]);
  const st = strides(x.shape);
  const data: number[] = [];
  for (let i = 0; i < size(shape); i++) {
    const idx = unravel(i, shape);
    let p = 0;
    for (let d = 0; d < idx.length; d++) p += idx[d] * st[perm[d]];
    data.push(x.data[p]);
  }
  return { shape, data };
}

/** erf in float64: Maclaurin series for |x| < 3, continued fraction for erfc beyond. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = 0;
    let term = x; // x^(2n+1) (-1)^n / n!
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 80; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

/** Deterministic data in [lo, hi) (xorshift32), independent of the library's Rng. */
export function data(n: number, seed: number, lo = -2, hi = 2): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(Math.fround(lo + ((hi - lo) * s) / 4294967296));
  }
  return out;
}

/**
 * Data in [lo, hi) whose elements stay at least `gap` away from every kink in `kinks` and from
 * each other (for gradchecks of relu, abs, max, ...).
 */
export function smooth(
  n: number,
  seed: number,
  lo = -2,
  hi = 2,
  gap = 0.05,
  kinks: readonly number[] = [0],
): number[] {
  const out: number[] = [];
  let s = seed;
  while (out.length < n) {
    const [v] = data(1, s++, lo, hi);
    if (kinks.every((k) => Math.abs(v - k) >= gap) && out.every((w) => Math.abs(v - w) >= gap)) out.push(v);
  }
  return out;
}
