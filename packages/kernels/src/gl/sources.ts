// The gpu.js kernel sources of the gl backend: pure functions from shapes and specs to source text
// (no gpu.js, no GL), so they are unit-tested without a GPU (sources.test.ts). The backend
// compiles each text once per input sizes (./backend.ts).
import type { ElementwiseSpec, ReduceOp } from '../backend.js';
import type { BroadcastPlan } from '../codegen.js';
import { collapse, flt, INPUT_NAMES, indexExpr, offsetExpr } from '../codegen.js';
import type { Shape } from '../shape.js';
import { sizeOf, stridesOf } from '../shape.js';
import { parsedKernel } from '../spec/define.js';
import type { WindowPlan } from '../window.js';
import { portableKernelText } from './glsl-math.js';

/**
 * Bound on array sizes: index expressions compute `floor((i + 0.5) / s)` in float32, and `i + 0.5`
 * is exact only below 2^23 (see `indexExpr` in codegen.ts).
 */
export const FLOAT_EXACT = 2 ** 23;
/** The largest finite float32, used to tell finite values from infinities inside kernels. */
export const FLT_MAX = '3.4028234663852886e38';
/**
 * Reductions longer than this are split into stages of about sqrt(length) elements per thread:
 * more parallel work on a GPU, a shorter float32 summation chain, and loops that stay far below
 * llvmpipe's cap of 65535 loop iterations per fragment.
 */
export const REDUCE_SINGLE_STAGE = 1024;
/** A matmul whose inner size exceeds this sums over slices of at most this many terms (split-k). */
export const MATMUL_MAX_K = 8192;

/** `floor(v / d)` for a float variable holding a non-negative integer, exact in float32. */
export const fdiv = (v: string, d: number): string => (d === 1 ? v : `Math.floor((${v} + 0.5) / ${flt(d)})`);

/** The identity copy that turns an uploaded array into a texture like every kernel output. */
export const UPLOAD_SOURCE = 'function (x) { return x[this.thread.x]; }';

/**
 * An element-wise kernel: loads each input through its broadcast plan into `a`..`f`, runs the
 * spec's statements and returns its expression, their `Math` calls as the backend's GLSL
 * (`portableKernelText`: `Math.floor(` becomes `gk_floor(`; the index arithmetic keeps GLSL's
 * floor). Arguments: `x0..x{arity-1}`, then `p0..`. The spec is validated first (`parsedKernel`: a
 * lookup for a spec made by `defineKernel`), so gpu.js only ever sees kernel-language text.
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
export function mapSource(spec: ElementwiseSpec, plan: BroadcastPlan): string {
  parsedKernel(spec);
  const args: string[] = [];
  for (let k = 0; k < spec.arity; k++) args.push(`x${k}`);
  for (let q = 0; q < spec.params; q++) args.push(`p${q}`);
  const body = [`let i = this.thread.x + 0.0;`];
  for (let k = 0; k < spec.arity; k++)
    body.push(`let ${INPUT_NAMES[k]} = x${k}[${indexExpr(plan, k, 'i')}];`);
  if (spec.stmts) body.push(portableKernelText(spec.stmts));
  body.push(`return ${portableKernelText(spec.expr)};`);
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

/** How a matmul is laid out: the source and its output size (`slices * m * n`) and loop length. */
export interface MatmulSource {
  /** The kernel source, arguments `(a, b)`. */
  readonly source: string;
  /** Split-k slices (1 when `k <= MATMUL_MAX_K`); more than 1 needs a sum over slices afterwards. */
  readonly slices: number;
  /** Iterations of the unrolled inner loop (for gpu.js's loop bound). */
  readonly steps: number;
}

/**
 * `op(A) * op(B)` for row-major A (`m x k`, or `k x m` with `transA`) and B (`k x n`, or `n x k`):
 * one output per thread, four accumulators, transposes by indexing. Above `MATMUL_MAX_K` inner
 * terms, the output holds `slices` partial products `[slice][m * n]` to be summed.
 */
export function matmulSource(
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): MatmulSource {
  const mn = m * n;
  const slices = Math.ceil(k / MATMUL_MAX_K);
  const ks = Math.ceil(k / slices);
  // op(A)[i, p] = A[aBase + p * aStep], op(B)[p, j] = B[bBase + p * bStep].
  const aBase = transA ? 'i' : `i * ${flt(k)}`;
  const aStep = transA ? m : 1;
  const bBase = transB ? `j * ${flt(k)}` : 'j';
  const bStep = transB ? 1 : n;
  const body: string[] = ['let pos = this.thread.x + 0.0;'];
  if (slices > 1) {
    body.push(`let s = ${fdiv('pos', mn)};`, `let o = pos - ${flt(mn)} * s;`, `let k0 = s * ${flt(ks)};`);
  } else body.push('let o = pos;', 'let k0 = 0.0;');
  body.push(n === 1 ? 'let i = o;' : `let i = ${fdiv('o', n)};`);
  body.push(n === 1 ? 'let j = 0.0;' : `let j = o - ${flt(n)} * i;`);
  body.push(`let pa = ${aBase} + k0 * ${flt(aStep)};`, `let pb = ${bBase} + k0 * ${flt(bStep)};`);
  body.push('let s0 = 0.0;', 'let s1 = 0.0;', 'let s2 = 0.0;', 'let s3 = 0.0;');
  const as = (u: number) => (u === 0 ? 'pa' : `pa + ${flt(u * aStep)}`);
  const bs = (u: number) => (u === 0 ? 'pb' : `pb + ${flt(u * bStep)}`);
  const steps = Math.floor(ks / 4);
  const rest = ks - 4 * steps;
  // In split-k the last slice may be shorter: terms at p >= k are selected away, never read
  // as NaN-producing garbage (a texture read past the end clamps to the edge).
  const term = (u: number, acc: string) =>
    slices > 1
      ? `if (k0 + q4 * 4.0 + ${flt(u)} < ${flt(k)}) { ${acc} += a[${as(u)}] * b[${bs(u)}]; }`
      : `${acc} += a[${as(u)}] * b[${bs(u)}];`;
  if (steps > 0) {
    body.push(`for (let q = 0; q < ${steps}; q++) {`);
    if (slices > 1) body.push('let q4 = q + 0.0;');
    for (let u = 0; u < 4; u++) body.push(term(u, `s${u}`));
    body.push(`pa += ${flt(4 * aStep)};`, `pb += ${flt(4 * bStep)};`, '}');
  }
  if (rest > 0) {
    if (slices > 1) body.push(`let q4 = ${flt(steps)};`);
    for (let u = 0; u < rest; u++) body.push(term(u, `s${u}`));
  }
  body.push('return (s0 + s1) + (s2 + s3);');
  return { source: `function (a, b) {\n${body.join('\n')}\n}`, slices, steps };
}

/** Permutes axes: output axis `i` is input axis `perm[i]` (arguments `(x)`). */
export function transposeSource(shape: Shape, perm: readonly number[]): string {
  const st = stridesOf(shape);
  const [dims, strides] = collapse(
    perm.map((p) => shape[p]),
    perm.map((p) => st[p]),
  );
  const idx = dims.length === 0 ? '0.0' : offsetExpr(dims, strides, 'i');
  return `function (x) {\nlet i = this.thread.x + 0.0;\nreturn x[${idx}];\n}`;
}

/** `out[pre, j, post] = x[pre, ix[j], post]` for `count` indices along `axis` (arguments `(x, ix)`). */
export function gatherSource(shape: Shape, count: number, axis: number): string {
  const pre = sizeOf(shape.slice(0, axis));
  const len = shape[axis];
  const post = sizeOf(shape.slice(axis + 1));
  const body = ['let o = this.thread.x + 0.0;'];
  body.push(post === 1 ? 'let r = o;' : `let r = ${fdiv('o', post)};`);
  body.push(post === 1 ? 'let q = 0.0;' : `let q = o - ${flt(post)} * r;`);
  body.push(pre === 1 ? 'let p = 0.0;' : `let p = ${fdiv('r', count)};`);
  body.push(pre === 1 ? 'let j = r;' : `let j = r - ${flt(count)} * p;`);
  // Indices are integers stored as floats; rounding guards against a value like 2.9999999.
  body.push('let t = Math.floor(ix[j] + 0.5);');
  body.push(`return x[(p * ${flt(len)} + t) * ${flt(post)} + q];`);
  return `function (x, ix) {\n${body.join('\n')}\n}`;
}

/** The reduction a kernel stage performs (`sumexp`: sum of exp(x - m) for logsumexp). */
export type StageOp = Exclude<ReduceOp, 'logsumexp'> | 'sumexp';

/**
 * Where a reduction stage reads: `x` at `base(o) + elem(t)` for output `o` and reduced position
 * `t`, kept and reduced dimensions collapsed, with their strides in `x`.
 */
export interface StageLayout {
  readonly keptDims: readonly number[];
  readonly keptStrides: readonly number[];
  readonly redDims: readonly number[];
  readonly redStrides: readonly number[];
}

/** How a reduction of `count` positions splits into `chunks` threads of `chunk` positions each. */
export function stageSplit(count: number): { chunks: number; chunk: number } {
  const chunks = count > REDUCE_SINGLE_STAGE ? Math.ceil(count / Math.ceil(Math.sqrt(count))) : 1;
  return { chunks, chunk: Math.ceil(count / chunks) };
}

/**
 * One reduction stage: output `n * chunks` values, `[o][c]`, each reducing positions
 * `[c * chunk, min((c + 1) * chunk, count))` of output `o`. Arguments: `(x)`, plus `ix` when
 * `withIndices` (an argmax/argmin stage after the first reads candidate positions from `ix`, laid
 * out `[o][count]`, and the values from `x`), plus `mx` (the row maxima) for `sumexp`.
 *
 * max/min: a NaN anywhere makes the result NaN. argmax/argmin: the first NaN wins (PyTorch); an
 * arg stage that is not `last` writes -1 where its chunk has no candidate (only -inf for argmax,
 * only +inf for argmin); the last stage writes 0 there, as the CPU backend does.
 */
export function stageSource(
  op: StageOp,
  layout: StageLayout,
  withIndices: boolean,
  count: number,
  chunks: number,
  chunk: number,
  last: boolean,
): string {
  const guard = chunks * chunk !== count;
  const body: string[] = ['let pos = this.thread.x + 0.0;'];
  body.push(chunks === 1 ? 'let o = pos;' : `let o = ${fdiv('pos', chunks)};`);
  body.push(chunks === 1 ? 'let c0 = 0.0;' : `let c0 = (pos - ${flt(chunks)} * o) * ${flt(chunk)};`);
  const base = layout.keptDims.length === 0 ? '0.0' : offsetExpr(layout.keptDims, layout.keptStrides, 'o');
  body.push(`let base = ${base};`);
  const elem = (t: string) =>
    layout.redDims.length === 0 ? '0.0' : offsetExpr(layout.redDims, layout.redStrides, t);
  const isArg = op === 'argmax' || op === 'argmin';
  // Loop: positions t = c0 + u for u < chunk (and t < count when the last chunk is short).
  const open = [`for (let u = 0; u < ${chunk}; u++) {`, 'let t = c0 + u;'];
  if (guard) open.push(`if (t < ${flt(count)}) {`);
  const close = guard ? ['}', '}'] : ['}'];
  const args = ['x'];
  if (isArg) {
    const better = op === 'argmax' ? '>' : '<';
    const valid = op === 'argmax' ? `v >= -${FLT_MAX}` : `v <= ${FLT_MAX}`;
    // Once a NaN is found (nan = 1) later positions are skipped. Chunks and candidates are
    // visited in position order, so a later stage keeps the first one.
    body.push('let best = 0.0;', 'let bi = -1.0;', 'let nan = 0.0;');
    body.push(...open);
    if (withIndices) {
      args.push('ix');
      body.push(`let cand = ix[o * ${flt(count)} + t];`);
      body.push('if (cand >= 0.0 && nan == 0.0) {', `let v = x[base + ${elem('cand')}];`);
      body.push(
        'if (v != v) {',
        'nan = 1.0;',
        'bi = cand;',
        `} else if (bi < 0.0 || v ${better} best) {`,
        'best = v;',
        'bi = cand;',
        '}',
        '}',
      );
    } else {
      body.push('if (nan == 0.0) {', `let v = x[base + ${elem('t')}];`);
      body.push(
        'if (v != v) {',
        'nan = 1.0;',
        'bi = t;',
        `} else if ((bi < 0.0 && ${valid}) || (bi >= 0.0 && v ${better} best)) {`,
        'best = v;',
        'bi = t;',
        '}',
        '}',
      );
    }
    body.push(...close);
    body.push(last ? 'return bi < 0.0 ? 0.0 : bi;' : 'return bi;');
  } else if (op === 'max' || op === 'min') {
    // Start from the chunk's first element; a NaN anywhere makes the result NaN.
    const better = op === 'max' ? '>' : '<';
    body.push(`let acc = x[base + ${elem('c0')}];`);
    body.push(
      ...open,
      `let v = x[base + ${elem('t')}];`,
      `if (v ${better} acc || v != v) {`,
      'acc = v;',
      '}',
      ...close,
    );
    body.push('return acc;');
  } else if (op === 'sumexp') {
    args.push('mx');
    body.push(
      'let m = mx[o];',
      `let mm = (m == m && Math.abs(m) <= ${FLT_MAX}) ? m : 0.0;`,
      'let acc = 0.0;',
    );
    body.push(...open, `acc += Math.exp(x[base + ${elem('t')}] - mm);`, ...close);
    body.push('return acc;');
  } else {
    body.push(op === 'prod' ? 'let acc = 1.0;' : 'let acc = 0.0;');
    body.push(...open, `acc ${op === 'prod' ? '*=' : '+='} x[base + ${elem('t')}];`, ...close);
    body.push('return acc;');
  }
  return `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
}

/** logsumexp from the row maxima `mx` and sums `sx` of exp(x - m): m + log(s), or m when not finite. */
export const LOGSUMEXP_FINISH_SOURCE =
  'function (mx, sx) {\nlet m = mx[this.thread.x];\nlet s = sx[this.thread.x];\n' +
  `return (m == m && Math.abs(m) <= ${FLT_MAX}) ? m + Math.log(s) : m;\n}`;

/** The value a reduction over zero elements gives (the op's identity, as the CPU backend returns it). */
export function emptyReduceValue(op: ReduceOp): number {
  switch (op) {
    case 'sum':
      return 0;
    case 'prod':
      return 1;
    case 'max':
    case 'logsumexp':
      return Number.NEGATIVE_INFINITY;
    case 'min':
      return Number.POSITIVE_INFINITY;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------- movement: window, scatter-add

/** `(v)` as a float literal, parenthesised when negative so it can follow an operator. */
const sflt = (v: number): string => (v < 0 ? `(${flt(v)})` : flt(v));

/**
 * Statements that split the float variable `v` (a non-negative integer below 2^23) into
 * coordinates `${prefix}k` over `dims` (row-major); size-1 dimensions get the constant 0.
 */
export function coordStatements(v: string, dims: readonly number[], prefix: string): string[] {
  const lines: string[] = [];
  let inner = 1;
  const strides = new Array<number>(dims.length);
  for (let k = dims.length - 1; k >= 0; k--) {
    strides[k] = inner;
    inner *= dims[k];
  }
  const first = dims.findIndex((d) => d !== 1);
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] === 1) {
      lines.push(`let ${prefix}${k} = 0.0;`);
      continue;
    }
    const q = fdiv(v, strides[k]);
    if (k === first) lines.push(`let ${prefix}${k} = ${q};`);
    else {
      lines.push(`let ${prefix}q${k} = ${q};`);
      lines.push(
        `let ${prefix}${k} = ${prefix}q${k} - ${flt(dims[k])} * ${fdiv(`${prefix}q${k}`, dims[k])};`,
      );
    }
  }
  return lines;
}

/**
 * A strided window read (see `WindowSpec`): thread `i` splits into output coordinates, forms each
 * input coordinate `c_a = offsets[a] + sum steps[k] o_k`, and returns `x[c]` when every checked
 * coordinate is inside the input, else the pad value `p0`. Arguments `(x, p0)`; only axes whose
 * bounds can leave the input are checked. A pad of `-0` (concatenation's) gives a text of its own:
 * gpu.js does not re-upload a scalar argument that `===` its last value, so one kernel run with
 * `0` and then `-0` would keep `+0`.
 */
export function windowSource(plan: WindowPlan): string {
  const { inShape, outShape, axes, steps, offsets, bounds } = plan;
  const body = ['let i = this.thread.x + 0.0;', ...coordStatements('i', outShape, 'o')];
  const inStr = stridesOf(inShape);
  const idx: string[] = [];
  body.push('let ok = 1.0;');
  for (let a = 0; a < inShape.length; a++) {
    const terms = [flt(offsets[a])];
    for (let k = 0; k < outShape.length; k++)
      if (axes[k] === a && steps[k] !== 0 && outShape[k] > 1) terms.push(`o${k} * ${sflt(steps[k])}`);
    body.push(`let c${a} = ${terms.join(' + ')};`);
    const [lo, hi] = bounds[a];
    if (lo < 0 || hi >= inShape[a]) {
      body.push(`if (c${a} < 0.0 || c${a} > ${flt(inShape[a] - 1)}) {`, 'ok = 0.0;', '}');
    }
    if (inShape[a] > 1) idx.push(inStr[a] === 1 ? `c${a}` : `c${a} * ${flt(inStr[a])}`);
  }
  body.push(`let p = ${idx.length === 0 ? '0.0' : idx.join(' + ')};`);
  if (plan.padded) {
    body.push(Object.is(plan.padValue, -0) ? 'let v = p0 * 1.0;' : 'let v = p0;');
    body.push('if (ok > 0.5) {', 'v = x[p];', '}', 'return v;');
  } else body.push('return x[p];');
  return `function (x, p0) {\n${body.join('\n')}\n}`;
}

/**
 * How the gl backend computes a window's scatter-add as a gather (no atomics): per input axis,
 * the output axis it solves for (the walking axis with the largest extent and a non-zero step,
 * or -1), and the output axes it loops over (all others), whose extents multiply to `loop`.
 */
export interface WindowGatherPlan {
  /** Per input axis: the output axis whose coordinate is solved from the input coordinate, or -1. */
  readonly solved: readonly number[];
  /** Output axes enumerated by the loop, in output order (the last varies fastest). */
  readonly looped: readonly number[];
  /** Number of loop positions per input element (product of the looped extents; 1 for none). */
  readonly loop: number;
}

/** Plans the gather form of a window's scatter-add (see {@link WindowGatherPlan}). */
export function windowGatherPlan(plan: WindowPlan): WindowGatherPlan {
  const { inShape, outShape, axes, steps } = plan;
  const solved = inShape.map((_, a) => {
    let best = -1;
    for (let k = 0; k < outShape.length; k++) {
      if (axes[k] !== a || steps[k] === 0 || outShape[k] <= 1) continue;
      if (best < 0 || outShape[k] >= outShape[best]) best = k;
    }
    return best;
  });
  const looped: number[] = [];
  for (let k = 0; k < outShape.length; k++) if (!solved.includes(k) && outShape[k] > 1) looped.push(k);
  return { solved, looped, loop: looped.reduce((p, k) => p * outShape[k], 1) };
}

/**
 * The loop body shared by the window scatter-adds written as gathers: for loop position `t` of the
 * looped output axes (coordinates `l0..`) and input coordinates `c0..`, the statements that solve
 * the other output coordinates (`q{a}`) and set `ok` to 0 where a solved coordinate is not an
 * integer in range or an unsolved axis does not meet `c`; `coord[k]` is the expression of output
 * coordinate `k` (`'0.0'` where the output has no such axis to vary).
 */
export function windowSolveStatements(
  plan: WindowPlan,
  gp: WindowGatherPlan,
): { inner: string[]; coord: string[] } {
  const { inShape, outShape, axes, steps, offsets } = plan;
  const inner = coordStatements(
    't',
    gp.looped.map((k) => outShape[k]),
    'l',
  );
  const coord = new Array<string>(outShape.length).fill('0.0');
  gp.looped.forEach((k, m) => {
    coord[k] = `l${m}`;
  });
  inner.push('let ok = 1.0;');
  for (let a = 0; a < inShape.length; a++) {
    const terms = [`c${a}`, sflt(-offsets[a])];
    gp.looped.forEach((k, m) => {
      if (axes[k] === a && steps[k] !== 0) terms.push(`l${m} * ${sflt(-steps[k])}`);
    });
    inner.push(`let r${a} = ${terms.join(' + ')};`);
    const s = gp.solved[a];
    if (s >= 0) {
      inner.push(`let q${a} = Math.floor(r${a} / ${sflt(steps[s])} + 0.5);`);
      inner.push(
        `if (q${a} * ${sflt(steps[s])} != r${a} || q${a} < 0.0 || q${a} > ${flt(outShape[s] - 1)}) {`,
        'ok = 0.0;',
        '}',
      );
      coord[s] = `q${a}`;
    } else inner.push(`if (r${a} != 0.0) {`, 'ok = 0.0;', '}');
  }
  return { inner, coord };
}

/**
 * The scatter-add of a window as a gather: thread `(j, c)` of `[inSize][chunks]` is input element
 * `j`; it visits loop positions `[c * chunk, min((c + 1) * chunk, loop))` in order, solves the
 * remaining output coordinates from `j`'s coordinates (a solved coordinate must be an integer in
 * range) and adds `dy` at every output position that reads `j`. Arguments `(dy)`.
 */
export function windowScatterSource(
  plan: WindowPlan,
  gp: WindowGatherPlan,
  chunks: number,
  chunk: number,
): string {
  const { inShape, outShape } = plan;
  const outStr = stridesOf(outShape);
  const body = ['let pos = this.thread.x + 0.0;'];
  body.push(chunks === 1 ? 'let j = pos;' : `let j = ${fdiv('pos', chunks)};`);
  body.push(chunks === 1 ? 'let cs = 0.0;' : `let cs = (pos - ${flt(chunks)} * j) * ${flt(chunk)};`);
  body.push(...coordStatements('j', inShape, 'c'));
  body.push('let acc = 0.0;');
  const { inner, coord } = windowSolveStatements(plan, gp);
  const idx = coord
    .map((c, k) => (c === '0.0' || outShape[k] === 1 ? '' : outStr[k] === 1 ? c : `${c} * ${flt(outStr[k])}`))
    .filter((x) => x !== '');
  inner.push(`let p = ${idx.length === 0 ? '0.0' : idx.join(' + ')};`);
  inner.push('if (ok > 0.5) {', 'acc += dy[p];', '}');
  const guard = chunks * chunk !== gp.loop;
  if (gp.loop === 1) body.push('let t = 0.0;', ...inner);
  else {
    body.push(`for (let u = 0; u < ${chunk}; u++) {`, 'let t = cs + u;');
    if (guard) body.push(`if (t < ${flt(gp.loop)}) {`);
    body.push(...inner);
    if (guard) body.push('}');
    body.push('}');
  }
  body.push('return acc;');
  return `function (dy) {\n${body.join('\n')}\n}`;
}

/**
 * The scatter-add adjoint of a gather as a gather: thread `(o, c)` of `[pre * len * post][chunks]`
 * is output `(p, i, q)`; it adds `upd[p, t, q]` for `t` in its chunk of `[0, count)` with
 * `round(ix[t]) == i`, in ascending `t`. Arguments `(upd, ix)`.
 */
export function scatterAddSource(
  shape: Shape,
  count: number,
  axis: number,
  chunks: number,
  chunk: number,
): string {
  const len = shape[axis];
  const post = sizeOf(shape.slice(axis + 1));
  const pre = sizeOf(shape.slice(0, axis));
  const body = ['let pos = this.thread.x + 0.0;'];
  body.push(chunks === 1 ? 'let o = pos;' : `let o = ${fdiv('pos', chunks)};`);
  body.push(chunks === 1 ? 'let c0 = 0.0;' : `let c0 = (pos - ${flt(chunks)} * o) * ${flt(chunk)};`);
  body.push(...coordStatements('o', [pre, len, post], 'k'));
  body.push('let acc = 0.0;');
  const guard = chunks * chunk !== count;
  body.push(`for (let u = 0; u < ${chunk}; u++) {`, 'let t = c0 + u;');
  if (guard) body.push(`if (t < ${flt(count)}) {`);
  body.push(
    'if (Math.floor(ix[t] + 0.5) == k1) {',
    `acc += upd[(k0 * ${flt(count)} + t) * ${flt(post)} + k2];`,
    '}',
  );
  if (guard) body.push('}');
  body.push('}', 'return acc;');
  return `function (upd, ix) {\n${body.join('\n')}\n}`;
}
