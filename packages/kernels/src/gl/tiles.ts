// Arrays above the gl backend's per-kernel limit (issue 16): stored as several textures ("tiles")
// of consecutive elements, and the kernel sources that work on them. Pure functions from shapes to
// gpu.js source text and uniform values (no gpu.js, no GL), tested without a GPU in tiles.test.ts;
// the backend (./backend.ts) runs them.
//
// Why tiles at all: a kernel's index arithmetic is float32 and exact only below 2^23 (see
// `indexExpr` in codegen.ts), and one texture holds at most maxTextureSize^2 values. A tile holds
// at most `tile` elements (2^22 by default: a 2048 x 2048 texture), so inside one tile every index
// is exact. What does not fit a float32 is where a tile starts in the whole array (its offset, up
// to 2^31): the host splits the offset into parts that do fit (a quotient and a remainder for each
// divisor the kernel uses) and passes them as uniforms, so one compiled kernel serves every tile.
import type { ElementwiseSpec } from '../backend.js';
import type { BroadcastPlan } from '../codegen.js';
import { flt, INPUT_NAMES } from '../codegen.js';
import { parsedKernel } from '../spec/define.js';
import type { WindowPlan } from '../window.js';
import { portableKernelText } from './glsl-math.js';
import type { WindowGatherPlan } from './sources.js';
import { windowSolveStatements } from './sources.js';

/** Elements per tile of a tiled array (the last tile may be shorter): a 2048 x 2048 texture. */
export const TILE_ELEMENTS = 2 ** 22;

/** Float32 integers are exact below this; `i + 0.5` too (see `indexExpr` in codegen.ts). */
const EXACT = 2 ** 23;

/** The `[start, end)` ranges of the tiles of an array of `n` elements, `tile` elements per tile. */
export function tileRanges(n: number, tile: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += tile) out.push([s, Math.min(n, s + tile)]);
  return out;
}

/** The outer stride of each collapsed output dimension of a broadcast plan (product of the later ones). */
function outStrides(dims: readonly number[]): number[] {
  const st = new Array<number>(dims.length);
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= dims[d];
  }
  return st;
}

/**
 * Why a map cannot run tile by tile with this layout, or null when it can. `aligned[k]` says that
 * input `k` has the output's length (it is read at the same position, from its own tile); the
 * others are read through their broadcast plan from one texture, and every coordinate the kernel
 * forms must stay a float32-exact integer.
 */
export function tiledMapProblem(
  plan: BroadcastPlan,
  aligned: readonly boolean[],
  tile: number,
): string | null {
  if (tile > EXACT / 2) return `tiles of ${tile} elements exceed 2^22`;
  const P = outStrides(plan.dims);
  for (let k = 0; k < aligned.length; k++) {
    if (aligned[k]) continue;
    const st = plan.strides[k];
    for (let d = 1; d < plan.dims.length; d++) {
      if (st[d] === 0) continue;
      // x = base + (up to tile / P + 1) before the modulo by dims[d]: must stay below 2^23
      if (plan.dims[d] + Math.ceil(tile / P[d]) + 2 >= EXACT)
        return `input ${k} is broadcast along a dimension of ${plan.dims[d]} elements (at most 2^23 - ${Math.ceil(tile / P[d]) + 2})`;
    }
  }
  return null;
}

/**
 * An element-wise kernel over one tile of a tiled output: like `mapSource` (sources.ts), with the
 * tile's position in the whole output passed as uniforms. Arguments: `x0..x{arity-1}` (an aligned
 * input's own tile, or the whole broadcast input), then `p0..`, then `u0..` (from
 * {@link tiledMapUniforms}). For a broadcast input and each collapsed dimension `d` it reads along,
 * the coordinate of output element `off + i` is `(A + floor((R + i) / P)) mod D` with
 * `off = Q P + R` split on the host and `A = Q mod D` (or, when the outer stride `P` exceeds the
 * tile, `A + (i >= P - R)`), every term below 2^23.
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
export function tiledMapSource(
  spec: ElementwiseSpec,
  plan: BroadcastPlan,
  aligned: readonly boolean[],
  tile: number,
): string {
  parsedKernel(spec);
  const P = outStrides(plan.dims);
  const args: string[] = [];
  for (let k = 0; k < spec.arity; k++) args.push(`x${k}`);
  for (let q = 0; q < spec.params; q++) args.push(`p${q}`);
  const body = ['let i = this.thread.x + 0.0;'];
  let u = 0;
  for (let k = 0; k < spec.arity; k++) {
    if (aligned[k]) {
      body.push(`let ${INPUT_NAMES[k]} = x${k}[i];`);
      continue;
    }
    const st = plan.strides[k];
    const terms: string[] = [];
    for (let d = 0; d < plan.dims.length; d++) {
      if (st[d] === 0) continue;
      const c = `c${k}_${d}`;
      const a = `u${u++}`;
      if (P[d] === 1) body.push(`let ${c} = ${a} + i;`);
      else if (P[d] <= tile) {
        const r = `u${u++}`;
        body.push(`let ${c} = ${a} + Math.floor((${r} + i + 0.5) / ${flt(P[d])});`);
      } else {
        const b = `u${u++}`;
        body.push(`let ${c} = ${a};`, `if (i >= ${b}) { ${c} = ${c} + 1.0; }`);
      }
      if (d > 0)
        body.push(`${c} = ${c} - ${flt(plan.dims[d])} * Math.floor((${c} + 0.5) / ${flt(plan.dims[d])});`);
      terms.push(st[d] === 1 ? c : `${c} * ${flt(st[d])}`);
    }
    body.push(`let ${INPUT_NAMES[k]} = x${k}[${terms.length === 0 ? '0.0' : terms.join(' + ')}];`);
  }
  for (let q = 0; q < u; q++) args.push(`u${q}`);
  if (spec.stmts) body.push(portableKernelText(spec.stmts));
  body.push(`return ${portableKernelText(spec.expr)};`);
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

/** The uniforms `u0..` of {@link tiledMapSource} for the tile starting at output element `off`. */
export function tiledMapUniforms(
  plan: BroadcastPlan,
  aligned: readonly boolean[],
  off: number,
  tile: number,
): number[] {
  const P = outStrides(plan.dims);
  const out: number[] = [];
  for (let k = 0; k < aligned.length; k++) {
    if (aligned[k]) continue;
    const st = plan.strides[k];
    for (let d = 0; d < plan.dims.length; d++) {
      if (st[d] === 0) continue;
      const q = Math.floor(off / P[d]);
      const r = off - q * P[d];
      out.push(d === 0 ? q : q % plan.dims[d]);
      if (P[d] === 1) continue;
      out.push(P[d] <= tile ? r : Math.min(P[d] - r, tile));
    }
  }
  return out;
}

/** One operand of a tiled matmul as the kernel reads it (all in elements of one texture). */
export interface MatmulView {
  /** Step between consecutive rows of op(A) (for A) or columns of op(B) (for B). */
  readonly outer: number;
  /** Step between consecutive inner positions `p`. */
  readonly inner: number;
}

/**
 * A matmul pass over one tile of the output (`m x n` row-major, the tile starting at element
 * `off = q n + r`): `out[t] = prev[t] + sum_{s < len} A[aBase + (i - i0) a.outer + s a.inner] *
 * B[bBase + (j - j0) b.outer + s b.inner]` for the output element's row `i` in `[i0, i1)` and
 * column `j` in `[j0, j1)`, else `prev[t]` (0 without `prev`). Arguments: `(prev?, a, b, q, r, i0,
 * i1, j0, j1, aBase, bBase)`. Passes over pieces of the operands (row ranges of a tiled operand,
 * copied into one texture each) and over inner ranges of at most `MATMUL_MAX_K` add up to the
 * product. Four accumulators, as `matmulSource`. Exact while `r + t` and every index are below
 * 2^23 (the backend checks `n` and the piece sizes).
 */
export function tiledMatmulSource(
  n: number,
  len: number,
  a: MatmulView,
  b: MatmulView,
  withPrev: boolean,
): string {
  const body = ['let t = this.thread.x + 0.0;', 'let u = r + t;'];
  if (n === 1) body.push('let i = q + u;', 'let j = 0.0;');
  else
    body.push(
      `let di = Math.floor((u + 0.5) / ${flt(n)});`,
      'let i = q + di;',
      `let j = u - ${flt(n)} * di;`,
    );
  body.push(withPrev ? 'let acc = prev[this.thread.x];' : 'let acc = 0.0;');
  body.push('if (i >= i0) {', 'if (i < i1) {', 'if (j >= j0) {', 'if (j < j1) {');
  body.push(`let pa = aBase + (i - i0) * ${flt(a.outer)};`, `let pb = bBase + (j - j0) * ${flt(b.outer)};`);
  body.push('let s0 = 0.0;', 'let s1 = 0.0;', 'let s2 = 0.0;', 'let s3 = 0.0;');
  const as = (v: number) => (v === 0 ? 'pa' : `pa + ${flt(v * a.inner)}`);
  const bs = (v: number) => (v === 0 ? 'pb' : `pb + ${flt(v * b.inner)}`);
  const steps = Math.floor(len / 4);
  const rest = len - 4 * steps;
  if (steps > 0) {
    body.push(`for (let s = 0; s < ${steps}; s++) {`);
    for (let v = 0; v < 4; v++) body.push(`s${v} += a[${as(v)}] * b[${bs(v)}];`);
    body.push(`pa += ${flt(4 * a.inner)};`, `pb += ${flt(4 * b.inner)};`, '}');
  }
  for (let v = 0; v < rest; v++) body.push(`s${v} += a[${as(v)}] * b[${bs(v)}];`);
  body.push('acc += (s0 + s1) + (s2 + s3);', '}', '}', '}', '}', 'return acc;');
  const args = [...(withPrev ? ['prev'] : []), 'a', 'b', 'q', 'r', 'i0', 'i1', 'j0', 'j1', 'aBase', 'bBase'];
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

/**
 * Copies `len` consecutive elements of a tiled array starting at `s0` in tile `x0` and, past
 * `split`, from the start of the next tile `x1` (arguments `(x0, x1, s0, split)`), or from `x0`
 * alone (arguments `(x0, s0)`). Exact while `s0 + len` is below 2^23.
 */
export function sliceSource(twoTiles: boolean): string {
  return twoTiles
    ? 'function (x0, x1, s0, split) {\nlet i = this.thread.x + 0.0;\nif (i < split) { return x0[s0 + i]; }\nreturn x1[i - split];\n}'
    : 'function (x0, s0) {\nlet i = this.thread.x + 0.0;\nreturn x0[s0 + i];\n}';
}

/**
 * gpu.js skips a scalar argument's upload when it `===` the last value it uploaded, so `-0` after
 * `0` (or `0` after `-0`) would keep the old sign: a pad of `-0` (what concatenation adds) gets a
 * kernel of its own, whose text differs only in a temporary.
 */
const negZero = (pad: number): boolean => Object.is(pad, -0);

/** Fills an output with its argument (arguments `(p)`); see {@link negZero} for `-0`. */
export function fillSource(pad: number): string {
  return negZero(pad) ? 'function (p) {\nlet z = p;\nreturn z;\n}' : 'function (p) {\nreturn p;\n}';
}

/**
 * Places `x` at `[lo, hi)` of the output, `p` elsewhere (arguments `(x, lo, hi, p)`): `out[i] =
 * x[i - lo]` for `lo <= i < hi`. Exact while the output is below 2^23 elements. See
 * {@link negZero} for a pad of `-0`.
 */
export function placeSource(pad: number): string {
  const p = negZero(pad) ? 'let z = p;\n' : '';
  const ret = negZero(pad) ? 'z' : 'p';
  return `function (x, lo, hi, p) {\n${p}let i = this.thread.x + 0.0;\nif (i >= lo) { if (i < hi) { return x[i - lo]; } }\nreturn ${ret};\n}`;
}

/**
 * One pass of a tiled 2-D transpose: output `[cols, rows]` (the tile starting at element
 * `off = q rows + r`) from a piece holding input rows `[r0, r1)` of `[rows, cols]`: `out[t] =
 * x[(i - r0) cols + j]` for the output element's column `i` (an input row) in `[r0, r1)`, else
 * `prev[t]` (0 without `prev`). Arguments `(prev?, x, q, r, r0, r1)`; exact while `rows` and
 * `cols` are at most 2^22.
 */
export function tiledTransposeSource(rows: number, cols: number, withPrev: boolean): string {
  const body = ['let t = this.thread.x + 0.0;', 'let u = r + t;'];
  if (rows === 1) body.push('let j = q + u;', 'let i = 0.0;');
  else
    body.push(
      `let di = Math.floor((u + 0.5) / ${flt(rows)});`,
      'let j = q + di;',
      `let i = u - ${flt(rows)} * di;`,
    );
  body.push(withPrev ? 'let acc = prev[this.thread.x];' : 'let acc = 0.0;');
  body.push(
    'if (i >= r0) {',
    'if (i < r1) {',
    `acc = x[(i - r0) * ${flt(cols)} + j];`,
    '}',
    '}',
    'return acc;',
  );
  const args = [...(withPrev ? ['prev'] : []), 'x', 'q', 'r', 'r0', 'r1'];
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

// ------------------------------------------------- reads by coordinates: permutations, windows, gathers

/**
 * Statements computing the coordinates `${prefix}k` of output element `off + i` over `dims`
 * (row-major) for a piece of at most `maxLen` output elements starting at `off`, from the
 * uniforms `${uni}0..` of {@link coordUniforms}: as in {@link tiledMapSource}, each coordinate is
 * `(A + floor((R + i) / P)) mod D` with `off = Q P + R` split on the host (or, when the outer
 * stride `P` exceeds the piece, `A + (i >= P - R)`); size-1 dimensions get 0. Returns the
 * statements and how many uniforms they read.
 */
function coordLines(
  dims: readonly number[],
  maxLen: number,
  prefix: string,
  uni: string,
): { lines: string[]; uniforms: number } {
  const P = outStrides(dims);
  const lines: string[] = [];
  let u = 0;
  for (let k = 0; k < dims.length; k++) {
    const c = `${prefix}${k}`;
    if (dims[k] === 1) {
      lines.push(`let ${c} = 0.0;`);
      continue;
    }
    const a = `${uni}${u++}`;
    if (P[k] === 1) lines.push(`let ${c} = ${a} + i;`);
    else if (P[k] <= maxLen) {
      const r = `${uni}${u++}`;
      lines.push(`let ${c} = ${a} + Math.floor((${r} + i + 0.5) / ${flt(P[k])});`);
    } else {
      const b = `${uni}${u++}`;
      lines.push(`let ${c} = ${a};`, `if (i >= ${b}) { ${c} = ${c} + 1.0; }`);
    }
    if (k > 0) lines.push(`${c} = ${c} - ${flt(dims[k])} * Math.floor((${c} + 0.5) / ${flt(dims[k])});`);
  }
  return { lines, uniforms: u };
}

/** The uniforms of {@link coordLines} for the piece starting at output element `off`. */
function coordUniforms(dims: readonly number[], off: number, maxLen: number): number[] {
  const P = outStrides(dims);
  const out: number[] = [];
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] === 1) continue;
    const q = Math.floor(off / P[k]);
    const r = off - q * P[k];
    out.push(k === 0 ? q : q % dims[k]);
    if (P[k] === 1) continue;
    out.push(P[k] <= maxLen ? r : Math.min(P[k] - r, maxLen));
  }
  return out;
}

/**
 * A read of an input by coordinates into an output (a permutation, a window, a gather), run on
 * tiled arrays as passes (./backend.ts): output element `o` (coordinates `o_k` over `outDims`)
 * reads the input at coordinates `c_a = offsets[a] + sum_k coefs[a][k] o_k`, or, for the
 * `indexed` axis `a` with output axis `k`, `c_a = round(ix[o_k])`; where a `checked` coordinate
 * falls outside `[0, inDims[a])` it gets the pad value.
 */
export interface TiledRead {
  /** The output's shape. */
  readonly outDims: readonly number[];
  /** The input's shape. */
  readonly inDims: readonly number[];
  /** Per input axis: its coordinate at output coordinate 0. */
  readonly offsets: readonly number[];
  /** Per input axis, per output axis: the coordinate's step along that output axis. */
  readonly coefs: readonly (readonly number[])[];
  /** Per input axis: whether a read may fall outside the input (then the pad value). */
  readonly checked: readonly boolean[];
  /** `[a, k]`: input axis `a` is read at `round(ix[o_k])` (a gather), or null. */
  readonly indexed: readonly [number, number] | null;
}

/** The {@link TiledRead} of a permutation: output axis `k` is input axis `perm[k]`. */
export function permutationRead(shape: readonly number[], perm: readonly number[]): TiledRead {
  return {
    outDims: perm.map((p) => shape[p]),
    inDims: [...shape],
    offsets: shape.map(() => 0),
    coefs: shape.map((_, a) => perm.map((p) => (p === a ? 1 : 0))),
    checked: shape.map(() => false),
    indexed: null,
  };
}

/** The {@link TiledRead} of a window plan (see `WindowPlan`). */
export function windowRead(plan: {
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly axes: readonly number[];
  readonly steps: readonly number[];
  readonly offsets: readonly number[];
  readonly bounds: readonly (readonly [number, number])[];
}): TiledRead {
  const { inShape, outShape, axes, steps, offsets, bounds } = plan;
  return {
    outDims: [...outShape],
    inDims: [...inShape],
    offsets: [...offsets],
    coefs: inShape.map((_, a) => outShape.map((_, k) => (axes[k] === a ? steps[k] : 0))),
    checked: inShape.map((d, a) => bounds[a][0] < 0 || bounds[a][1] > d - 1),
    indexed: null,
  };
}

/** The {@link TiledRead} of a gather of `count` indices along `axis` of `shape` (as `gatherSource`). */
export function gatherRead(shape: readonly number[], count: number, axis: number): TiledRead {
  const pre = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const post = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  return {
    outDims: [pre, count, post],
    inDims: [pre, shape[axis], post],
    offsets: [0, 0, 0],
    coefs: [
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, 1],
    ],
    checked: [false, false, false],
    indexed: [1, 1],
  };
}

/**
 * Where a tiled read's input splits into rows: input axes `[0, split)` number the rows, the rest
 * is one row of `rowLen` elements; the smallest `split` whose rows hold at most `tile` elements
 * (`split` 0 and one row for an input that is not tiled).
 */
export function readSplit(
  read: TiledRead,
  tiledInput: boolean,
  tile: number,
): { split: number; rowLen: number; rows: number } {
  return rowSplit(read.inDims, tiledInput, tile);
}

/** Where an array of shape `dims` splits into rows of at most `tile` elements (see {@link readSplit}). */
export function rowSplit(
  dims: readonly number[],
  tiled: boolean,
  tile: number,
): { split: number; rowLen: number; rows: number } {
  const n = dims.reduce((p, d) => p * d, 1);
  if (!tiled) return { split: 0, rowLen: n, rows: 1 };
  let split = dims.length;
  let rowLen = 1;
  while (split > 0 && rowLen * dims[split - 1] <= tile) rowLen *= dims[--split];
  return { split, rowLen, rows: n / rowLen };
}

/**
 * Why a tiled read cannot run with exact float32 coordinates, or null when it can: output
 * coordinates (over pieces of at most `maxLen` elements), the row numbers below `rows`, and the
 * input coordinates (`coordBound`: the largest magnitude any of them reaches) must stay below 2^23.
 */
export function tiledReadProblem(
  read: TiledRead,
  split: { rowLen: number; rows: number },
  maxLen: number,
  coordBound: number,
): string | null {
  if (maxLen > EXACT / 2) return `pieces of ${maxLen} elements exceed 2^22`;
  if (split.rowLen > EXACT / 2) return `a row of ${split.rowLen} elements exceeds 2^22`;
  if (split.rows >= EXACT) return `${split.rows} rows of ${split.rowLen} elements: 2^23 or more`;
  const P = outStrides(read.outDims);
  for (let k = 0; k < read.outDims.length; k++) {
    if (read.outDims[k] + Math.ceil(maxLen / P[k]) + 2 >= EXACT)
      return `an output axis of ${read.outDims[k]} elements (at most 2^23 - ${Math.ceil(maxLen / P[k]) + 2})`;
  }
  if (coordBound >= EXACT) return `input coordinates up to ${coordBound} (2^23 or more)`;
  return null;
}

/**
 * One pass of a tiled read: output piece `out[t]` (element `off + t` of the output) gets the input
 * value when the element's input coordinates are inside the input and its row number (over input
 * axes `[0, split)`) is in `[lo, hi)`, read from `x` holding rows `[lo, hi)` of `rowLen` elements;
 * else `prev[t]`, or the pad `p` without `prev`. Arguments `(prev?, x, ix?, ixb?, ixn?, lo, hi, p,
 * u0..)` with `u0..` from {@link tiledReadUniforms}; an indexed read takes the index of output
 * coordinate `o_k` from `ix[o_k - ixb]`, `ix` holding the `ixn` indices from `ixb` on (an element
 * whose index is not among them keeps `prev[t]` too). Exact under the conditions of
 * {@link tiledReadProblem}.
 */
export function tiledReadSource(
  read: TiledRead,
  split: number,
  maxLen: number,
  withPrev: boolean,
  pad: number,
): string {
  const { inDims, offsets, coefs, checked, indexed } = read;
  const inStr = outStrides(inDims);
  const rowLen = inDims.slice(split).reduce((p, d) => p * d, 1);
  const body = ['let i = this.thread.x + 0.0;'];
  const { lines } = coordLines(read.outDims, maxLen, 'o', 'u');
  body.push(...lines);
  body.push('let ok = 1.0;');
  const rowTerms: string[] = [];
  const inTerms: string[] = [];
  for (let a = 0; a < inDims.length; a++) {
    if (indexed !== null && indexed[0] === a) {
      body.push(
        `let q${a} = o${indexed[1]} - ixb;`,
        `if (q${a} < 0.0 || q${a} >= ixn) {`,
        'ok = 0.0;',
        '}',
        `let c${a} = Math.floor(ix[q${a}] + 0.5);`,
      );
    } else {
      const terms = [flt(offsets[a])];
      coefs[a].forEach((s, k) => {
        if (s !== 0 && read.outDims[k] > 1)
          terms.push(s === 1 ? `o${k}` : `o${k} * ${s < 0 ? `(${flt(s)})` : flt(s)}`);
      });
      body.push(`let c${a} = ${terms.join(' + ')};`);
    }
    if (checked[a]) body.push(`if (c${a} < 0.0 || c${a} > ${flt(inDims[a] - 1)}) {`, 'ok = 0.0;', '}');
    if (inDims[a] === 1) continue;
    if (a < split) {
      const s = inStr[a] / rowLen;
      rowTerms.push(s === 1 ? `c${a}` : `c${a} * ${flt(s)}`);
    } else inTerms.push(inStr[a] === 1 ? `c${a}` : `c${a} * ${flt(inStr[a])}`);
  }
  body.push(`let row = ${rowTerms.length === 0 ? '0.0' : rowTerms.join(' + ')};`);
  body.push(`let at = ${inTerms.length === 0 ? '0.0' : inTerms.join(' + ')};`);
  if (withPrev) body.push('let acc = prev[this.thread.x];');
  else body.push(negZero(pad) ? 'let acc = p * 1.0;' : 'let acc = p;');
  body.push(
    'if (ok > 0.5) {',
    'if (row >= lo) {',
    'if (row < hi) {',
    `acc = x[(row - lo) * ${flt(rowLen)} + at];`,
    '}',
    '}',
    '}',
    'return acc;',
  );
  const args = [
    ...(withPrev ? ['prev'] : []),
    'x',
    ...(indexed !== null ? ['ix', 'ixb', 'ixn'] : []),
    'lo',
    'hi',
    'p',
  ];
  const { uniforms } = coordLines(read.outDims, maxLen, 'o', 'u');
  for (let q = 0; q < uniforms; q++) args.push(`u${q}`);
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

/** The uniforms `u0..` of {@link tiledReadSource} for the output piece starting at element `off`. */
export function tiledReadUniforms(read: TiledRead, off: number, maxLen: number): number[] {
  return coordUniforms(read.outDims, off, maxLen);
}

/** The range `[first, last]` of the indexed output coordinate over output elements `[s, e)`. */
export function tiledReadIndexRange(read: TiledRead, s: number, e: number): [number, number] {
  const k = read.indexed === null ? 0 : read.indexed[1];
  const d = read.outDims[k];
  const P = outStrides(read.outDims)[k];
  const a = Math.floor(s / P);
  const b = Math.floor((e - 1) / P);
  if (k === 0) return [a, b];
  if (Math.floor(a / d) !== Math.floor(b / d)) return [0, d - 1];
  return [a % d, b % d];
}

/**
 * The rows `[first, last]` (over input axes `[0, split)`) that output elements `[s, e)` can read,
 * by interval arithmetic over their coordinates (all rows for an indexed axis among them), so that
 * passes over pieces holding none of them are skipped; null when they read none (all padding).
 */
export function tiledReadRows(read: TiledRead, split: number, s: number, e: number): [number, number] | null {
  const { outDims, inDims, offsets, coefs, indexed } = read;
  const P = outStrides(outDims);
  const oRange = outDims.map((d, k): [number, number] => {
    const a = Math.floor(s / P[k]);
    const b = Math.floor((e - 1) / P[k]);
    if (k === 0) return [a, b];
    if (Math.floor(a / d) !== Math.floor(b / d)) return [0, d - 1];
    return [a % d, b % d];
  });
  const rowLen = inDims.slice(split).reduce((p, d) => p * d, 1);
  const inStr = outStrides(inDims);
  let first = 0;
  let last = 0;
  for (let a = 0; a < split; a++) {
    let lo: number;
    let hi: number;
    if (indexed !== null && indexed[0] === a) [lo, hi] = [0, inDims[a] - 1];
    else {
      lo = offsets[a];
      hi = offsets[a];
      coefs[a].forEach((c, k) => {
        const [x, y] = oRange[k];
        lo += Math.min(c * x, c * y);
        hi += Math.max(c * x, c * y);
      });
      lo = Math.max(lo, 0);
      hi = Math.min(hi, inDims[a] - 1);
      if (hi < lo) return null;
    }
    first += lo * (inStr[a] / rowLen);
    last += hi * (inStr[a] / rowLen);
  }
  return [first, last];
}

// ------------------------------------------------------------------- scatter-add into tiled arrays

/**
 * Why a scatter-add into `[pre, len, post]` (of `count` indices) cannot run in passes over output
 * pieces of at most `maxLen` elements with exact float32 coordinates, or null when it can.
 */
export function tiledScatterProblem(dims: readonly [number, number, number], maxLen: number): string | null {
  if (maxLen > EXACT / 2) return `pieces of ${maxLen} elements exceed 2^22`;
  const P = outStrides(dims);
  for (let k = 0; k < 3; k++) {
    if (dims[k] + Math.ceil(maxLen / P[k]) + 2 >= EXACT)
      return `an output axis of ${dims[k]} elements (at most 2^23 - ${Math.ceil(maxLen / P[k]) + 2})`;
  }
  return null;
}

/**
 * One pass of a scatter-add (the adjoint of a gather along the middle axis of `[pre, len, post]`)
 * into a piece of a tiled output: element `(k0, k1, k2)` (element `off + t` of the output) adds,
 * for `v` ascending in `[0, len)` and `j = j0 + v`, the update row `k0 count + j` where
 * `round(ix[b0 + v]) == k1` and the row is among the `rows` rows `upd` holds, from row
 * `K0 count + J0` on (`J0 < count`; the offset `(k0 - K0) count + (j - J0)` is exact wherever it
 * is in range), to `prev[t]` (to 0 without `prev`); `ix` holds the indices from `j0 - b0` on.
 * Arguments `(prev?, upd, ix, j0, b0, len, K0, J0, rows, u0..)` with `u0..` from
 * {@link tiledScatterUniforms}; the loop runs `chunk` positions (`len` at most). With the updates
 * in one piece a pass adds as `scatterAddSource` does, and passes over consecutive chunks add
 * their sums in order, as its chunk sums are added.
 */
export function tiledScatterSource(
  dims: readonly [number, number, number],
  count: number,
  chunk: number,
  maxLen: number,
  withPrev: boolean,
): string {
  const [, , post] = dims;
  const { lines, uniforms } = coordLines(dims, maxLen, 'k', 'u');
  const body = [
    'let i = this.thread.x + 0.0;',
    ...lines,
    'let acc = 0.0;',
    `let rk = (k0 - K0) * ${flt(count)} - J0;`,
  ];
  body.push(
    `for (let v = 0; v < ${chunk}; v++) {`,
    'if (v < len) {',
    'if (Math.floor(ix[b0 + v] + 0.5) == k1) {',
    'let rr = rk + (j0 + v);',
    'if (rr >= 0.0) {',
    'if (rr < rows) {',
    `acc += upd[rr * ${flt(post)} + k2];`,
    '}',
    '}',
    '}',
    '}',
    '}',
  );
  body.push(withPrev ? 'return prev[this.thread.x] + acc;' : 'return acc;');
  const args = [...(withPrev ? ['prev'] : []), 'upd', 'ix', 'j0', 'b0', 'len', 'K0', 'J0', 'rows'];
  for (let q = 0; q < uniforms; q++) args.push(`u${q}`);
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

/** The uniforms `u0..` of {@link tiledScatterSource} for the output piece starting at element `off`. */
export function tiledScatterUniforms(
  dims: readonly [number, number, number],
  off: number,
  maxLen: number,
): number[] {
  return coordUniforms(dims, off, maxLen);
}

// ------------------------------------------------------------ window scatter-add with tiled arrays

/**
 * Why a window's scatter-add (see `windowScatterSource`) cannot run in passes over output pieces
 * of at most `maxLen` elements and pieces of `dy` cut by `split` with exact float32 coordinates,
 * or null when it can (window coordinates are checked by the backend).
 */
export function tiledWindowScatterProblem(
  plan: WindowPlan,
  gp: WindowGatherPlan,
  split: { rowLen: number; rows: number },
  maxLen: number,
): string | null {
  if (maxLen > EXACT / 2) return `pieces of ${maxLen} elements exceed 2^22`;
  if (split.rowLen > EXACT / 2) return `a row of dy of ${split.rowLen} elements exceeds 2^22`;
  if (split.rows >= EXACT) return `${split.rows} rows of dy of ${split.rowLen} elements: 2^23 or more`;
  if (gp.loop >= EXACT) return `${gp.loop} window positions per element: 2^23 or more`;
  const dims = plan.inShape;
  const P = outStrides(dims);
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] + Math.ceil(maxLen / P[k]) + 2 >= EXACT)
      return `an axis of ${dims[k]} elements (at most 2^23 - ${Math.ceil(maxLen / P[k]) + 2})`;
  }
  return null;
}

/**
 * One pass of a window's scatter-add into a piece of its (tiled) result, of shape `plan.inShape`:
 * as `windowScatterSource`, element `off + t` visits the loop positions `[t0, t0 + len)` and adds
 * `dy` at every window position that reads it, here only those whose row of `dy` (over its axes
 * `[0, split)`) is in `[lo, hi)`, read from `dy` holding rows `[lo, hi)`; to `prev[t]` (to 0
 * without `prev`). Arguments `(prev?, dy, t0, len, lo, hi, u0..)` with `u0..` from
 * {@link tiledWindowScatterUniforms}; the loop runs `chunk` positions (`len` at most). With `dy` in
 * one piece, passes over consecutive chunks add the untiled kernel's chunk sums in its order.
 */
export function tiledWindowScatterSource(
  plan: WindowPlan,
  gp: WindowGatherPlan,
  split: number,
  chunk: number,
  maxLen: number,
  withPrev: boolean,
): string {
  const { inShape, outShape } = plan;
  const outStr = outStrides(outShape);
  const rowLen = outShape.slice(split).reduce((p, d) => p * d, 1);
  const { lines, uniforms } = coordLines(inShape, maxLen, 'c', 'u');
  const body = ['let i = this.thread.x + 0.0;', ...lines, 'let acc = 0.0;'];
  const { inner, coord } = windowSolveStatements(plan, gp);
  const rowTerms: string[] = [];
  const atTerms: string[] = [];
  coord.forEach((c, k) => {
    if (c === '0.0' || outShape[k] === 1) return;
    if (k < split) {
      const st = outStr[k] / rowLen;
      rowTerms.push(st === 1 ? c : `${c} * ${flt(st)}`);
    } else atTerms.push(outStr[k] === 1 ? c : `${c} * ${flt(outStr[k])}`);
  });
  inner.push(`let row = ${rowTerms.length === 0 ? '0.0' : rowTerms.join(' + ')};`);
  inner.push(`let at = ${atTerms.length === 0 ? '0.0' : atTerms.join(' + ')};`);
  inner.push(
    'if (ok > 0.5) {',
    'if (row >= lo) {',
    'if (row < hi) {',
    `acc += dy[(row - lo) * ${flt(rowLen)} + at];`,
    '}',
    '}',
    '}',
  );
  if (gp.loop === 1) body.push('let t = 0.0;', ...inner);
  else
    body.push(
      `for (let v = 0; v < ${chunk}; v++) {`,
      'if (v < len) {',
      'let t = t0 + v;',
      ...inner,
      '}',
      '}',
    );
  body.push(withPrev ? 'return prev[this.thread.x] + acc;' : 'return acc;');
  const args = [...(withPrev ? ['prev'] : []), 'dy', 't0', 'len', 'lo', 'hi'];
  for (let q = 0; q < uniforms; q++) args.push(`u${q}`);
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

/** The uniforms `u0..` of {@link tiledWindowScatterSource} for the output piece starting at element `off`. */
export function tiledWindowScatterUniforms(plan: WindowPlan, off: number, maxLen: number): number[] {
  return coordUniforms(plan.inShape, off, maxLen);
}

/**
 * The rows of `dy` (over its axes `[0, split)`) that a window scatter-add's output elements
 * `[s, e)` can read, by interval arithmetic over their coordinates, or null when none.
 */
export function tiledWindowScatterRows(
  plan: WindowPlan,
  gp: WindowGatherPlan,
  split: number,
  s: number,
  e: number,
): [number, number] | null {
  const { inShape, outShape, axes, steps, offsets } = plan;
  const P = outStrides(inShape);
  const cRange = inShape.map((d, k): [number, number] => {
    const a = Math.floor(s / P[k]);
    const b = Math.floor((e - 1) / P[k]);
    if (k === 0) return [a, b];
    if (Math.floor(a / d) !== Math.floor(b / d)) return [0, d - 1];
    return [a % d, b % d];
  });
  const range = outShape.map((d): [number, number] => [0, d - 1]);
  for (let a = 0; a < inShape.length; a++) {
    const sv = gp.solved[a];
    if (sv < 0) continue;
    // q = (c - offset - sum_looped l step) / step_sv
    let lo = cRange[a][0] - offsets[a];
    let hi = cRange[a][1] - offsets[a];
    for (const k of gp.looped) {
      if (axes[k] !== a || steps[k] === 0) continue;
      const span = steps[k] * (outShape[k] - 1);
      lo -= Math.max(0, span);
      hi -= Math.min(0, span);
    }
    const st = steps[sv];
    const [x, y] = st > 0 ? [lo / st, hi / st] : [hi / st, lo / st];
    const q0 = Math.max(0, Math.ceil(x));
    const q1 = Math.min(outShape[sv] - 1, Math.floor(y));
    if (q1 < q0) return null;
    range[sv] = [q0, q1];
  }
  const outStr = outStrides(outShape);
  const rowLen = outShape.slice(split).reduce((p, d) => p * d, 1);
  let first = 0;
  let last = 0;
  for (let k = 0; k < split; k++) {
    first += range[k][0] * (outStr[k] / rowLen);
    last += range[k][1] * (outStr[k] / rowLen);
  }
  return [first, last];
}
