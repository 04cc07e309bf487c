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
  if (spec.stmts) body.push(spec.stmts);
  body.push(`return ${spec.expr};`);
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
