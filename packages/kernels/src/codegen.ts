import type { ElementwiseSpec } from './backend.js';
import type { Shape } from './shape.js';
import { stridesOf } from './shape.js';
import { parsedKernel } from './spec/define.js';

/**
 * A broadcast read of one input, reduced to as few dimensions as possible: `dims` are the
 * collapsed output dimensions and `strides` the input's stride along each (0 where the input is
 * broadcast). Shared by every backend's code generator.
 */
export interface BroadcastPlan {
  /** Collapsed output dimensions (product = output size). */
  readonly dims: number[];
  /** For each input, its element stride along each collapsed dimension (0 = broadcast). */
  readonly strides: number[][];
}

/**
 * Plans how `inputs` (each broadcastable to `out`) are read while writing `out` in row-major
 * order: adjacent dimensions are merged where every input is either full or broadcast along both,
 * so `[N, C] + [C]` becomes two dimensions and `[N, C] + [N, C]` one.
 */
export function planBroadcast(inputs: readonly Shape[], out: Shape): BroadcastPlan {
  const rank = out.length;
  const padded = inputs.map((s) => [...new Array<number>(rank - s.length).fill(1), ...s]);
  const inStrides = padded.map((s) => stridesOf(s).map((st, d) => (s[d] === 1 ? 0 : st)));
  const dims: number[] = [];
  const strides: number[][] = inputs.map(() => []);
  for (let d = 0; d < rank; d++) {
    if (out[d] === 1) continue;
    const last = dims.length - 1;
    // Merge dimension d into the previous kept one when, for every input, stride(prev) = stride(d) * out[d].
    const mergeable = last >= 0 && inStrides.every((st, k) => strides[k][last] === st[d] * out[d]);
    if (mergeable) {
      dims[last] *= out[d];
      for (let k = 0; k < inputs.length; k++) strides[k][last] = inStrides[k][d];
    } else {
      dims.push(out[d]);
      for (let k = 0; k < inputs.length; k++) strides[k].push(inStrides[k][d]);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    for (let k = 0; k < inputs.length; k++) strides[k].push(0);
  }
  return { dims, strides };
}

/**
 * The compile-cache key of an element-wise kernel for one broadcast layout: the spec's identity
 * (`parsedKernel(spec).key`: name, arity, params and body, so two specs that share a name do not
 * share code) and the plan's dimensions and strides. Validates a spec not made by `defineKernel`.
 */
export function mapKey(spec: ElementwiseSpec, plan: BroadcastPlan): string {
  return `${parsedKernel(spec).key}|${plan.dims.join(',')}|${plan.strides.map((s) => s.join(',')).join(';')}`;
}

/** Float literal with a decimal point, as gpu.js needs to type it as a float. */
export function flt(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`flt: ${x} is not finite`);
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * The flat input index for output index `i` (a float variable holding an integer), as an
 * expression that is exact in float32 arithmetic for i < 2^23: `floor((i + 0.5) / s)` never lands on the
 * wrong side of an integer the way `floor(i / s)` can on a GPU.
 */
export function indexExpr(plan: BroadcastPlan, input: number, i = 'i'): string {
  const { dims } = plan;
  const st = plan.strides[input];
  const r = dims.length;
  if (r === 1) return st[0] === 0 ? '0.0' : st[0] === 1 ? i : `${i} * ${flt(st[0])}`;
  const terms: string[] = [];
  // outer stride of collapsed dim d
  const outStride = new Array<number>(r);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    outStride[d] = acc;
    acc *= dims[d];
  }
  for (let d = 0; d < r; d++) {
    if (st[d] === 0) continue;
    let coord: string;
    const q = outStride[d] === 1 ? i : `Math.floor((${i} + 0.5) / ${flt(outStride[d])})`;
    if (d === 0) coord = q;
    else coord = `(${q} - ${flt(dims[d])} * Math.floor((${q} + 0.5) / ${flt(dims[d])}))`;
    terms.push(st[d] === 1 ? coord : `${coord} * ${flt(st[d])}`);
  }
  return terms.length === 0 ? '0.0' : terms.join(' + ');
}

/** Input value names used by element-wise specs: a to f (WebGL 1 guarantees 8 texture units). */
export const INPUT_NAMES = ['a', 'b', 'c', 'd', 'e', 'f'] as const;

/**
 * Offsets for a reduction: `base[o]` is where output element `o` starts in `x`, `inner[r]` the
 * offset of the r-th reduced element from there. Host-side plan, used by the CPU backend and for
 * code generation.
 */
export interface ReducePlan {
  readonly outSize: number;
  readonly reduceSize: number;
  /** Kept dims and their strides in x (collapsed where contiguous). */
  readonly keptDims: number[];
  readonly keptStrides: number[];
  /** Reduced dims and their strides in x (collapsed where contiguous). */
  readonly redDims: number[];
  readonly redStrides: number[];
}

/** Drops size-1 dimensions and merges dimensions that are contiguous in the source. */
export function collapse(dims: readonly number[], strides: readonly number[]): [number[], number[]] {
  const d2: number[] = [];
  const s2: number[] = [];
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] === 1) continue;
    const last = d2.length - 1;
    if (last >= 0 && s2[last] === strides[k] * dims[k]) {
      d2[last] *= dims[k];
      s2[last] = strides[k];
    } else {
      d2.push(dims[k]);
      s2.push(strides[k]);
    }
  }
  return [d2, s2];
}

/** Plans a reduction of sorted, unique `axes` of `shape`. */
export function planReduce(shape: Shape, axes: readonly number[]): ReducePlan {
  const strides = stridesOf(shape);
  const kd: number[] = [];
  const ks: number[] = [];
  const rd: number[] = [];
  const rs: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (axes.includes(d)) {
      rd.push(shape[d]);
      rs.push(strides[d]);
    } else {
      kd.push(shape[d]);
      ks.push(strides[d]);
    }
  }
  const [keptDims, keptStrides] = collapse(kd, ks);
  const [redDims, redStrides] = collapse(rd, rs);
  return {
    outSize: kd.reduce((p, x) => p * x, 1),
    reduceSize: rd.reduce((p, x) => p * x, 1),
    keptDims,
    keptStrides,
    redDims,
    redStrides,
  };
}

/**
 * Whether a reduction sums whole leading axes of a contiguous array (a bias gradient, batch
 * statistics): then output `j` is the sum of `x[i * outSize + j]` over `i < reduceSize`, and a
 * backend may walk the rows contiguously.
 */
export function isLeadingSum(op: string, plan: ReducePlan): boolean {
  return (
    op === 'sum' &&
    plan.keptDims.length === 1 &&
    plan.keptStrides[0] === 1 &&
    plan.redDims.length === 1 &&
    plan.redStrides[0] === plan.outSize
  );
}

/**
 * Whether a reduction runs over one contiguous block of axes of a contiguous array: then `x` is
 * `[pre, r, post]`, output `(p, q)` reduces `x[p, t, q]` over `t < r`, and a backend may walk
 * `t` in the outer loop and the `post` columns contiguously inside it (a pooling window's taps
 * before its output positions, a channel axis between the batch and the pixels). Returns
 * `{ pre, r, post }`, or null when the reduced axes are not one block.
 */
export function reduceBlock(plan: ReducePlan): { pre: number; r: number; post: number } | null {
  const { keptDims: kd, keptStrides: ks, redDims: rd, redStrides: rs } = plan;
  if (rd.length !== 1) return null;
  const r = rd[0];
  const post = rs[0];
  if (kd.length === 0) return post === 1 ? { pre: 1, r, post } : null;
  if (kd.length === 1) {
    if (ks[0] === 1 && kd[0] === post) return { pre: 1, r, post };
    if (post === 1 && ks[0] === r) return { pre: kd[0], r, post: 1 };
    return null;
  }
  if (kd.length === 2 && ks[1] === 1 && kd[1] === post && ks[0] === r * post) {
    return { pre: kd[0], r, post };
  }
  return null;
}

/**
 * An expression for the offset in x of the element at flat position `v` of a collapsed (dims,
 * strides) iteration space, exact in float32 (see {@link indexExpr}).
 */
export function offsetExpr(dims: readonly number[], strides: readonly number[], v: string): string {
  const r = dims.length;
  if (r === 0) return '0.0';
  const terms: string[] = [];
  let acc = 1;
  const inner = new Array<number>(r);
  for (let d = r - 1; d >= 0; d--) {
    inner[d] = acc;
    acc *= dims[d];
  }
  for (let d = 0; d < r; d++) {
    const q = inner[d] === 1 ? v : `Math.floor((${v} + 0.5) / ${flt(inner[d])})`;
    const coord = d === 0 ? q : `(${q} - ${flt(dims[d])} * Math.floor((${q} + 0.5) / ${flt(dims[d])}))`;
    terms.push(strides[d] === 1 ? coord : `${coord} * ${flt(strides[d])}`);
  }
  return terms.join(' + ');
}

/** Host-side table of the offsets of every position of a collapsed (dims, strides) space. */
export function offsetTable(dims: readonly number[], strides: readonly number[]): Int32Array {
  const n = dims.reduce((p, x) => p * x, 1);
  const out = new Int32Array(n);
  const r = dims.length;
  if (r === 0) return out;
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let t = 0; t < n; t++) {
    out[t] = off;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < dims[d]) break;
      off -= strides[d] * dims[d];
      idx[d] = 0;
    }
  }
  return out;
}
