// GLSL sources of the gl backend's packed matmul (issue 16): pure functions from shapes to shader
// text (no GL), unit-tested without a GPU in packed-sources.test.ts and run by ./packed.ts.
//
// The packed layout of an R x C matrix is an RGBA float texture of width ceil(C / 4) and height R
// (or more: extra rows are zero): texel (q, r) holds the row's elements 4q..4q+3, zero past C.
// The gl backend's buffers use gpu.js's layout instead: flat element f of a buffer is the red
// channel of texel (f mod w, floor(f / w)) of a near-square w x h texture. A matmul packs both
// operands (transposes are strides of the pack, no copy), multiplies packed by packed into a
// packed product (each fragment computes four outputs of a row with vec4 arithmetic), and unpacks
// the product into gpu.js's layout, so every other kernel reads it as before.
import type { ElementwiseSpec } from '../backend.js';
import { flt, INPUT_NAMES } from '../codegen.js';
import type { KernelExpr } from '../spec/ast.js';
import { parsedKernel } from '../spec/define.js';
import { glslMathSource, PORTABLE_MATH, ZERO_UNIFORM } from './glsl-math.js';

/** The vertex shader of every packed pass: one quad over the viewport; fragments use gl_FragCoord. */
export const PACKED_VERTEX_SOURCE = [
  'attribute vec2 aPos;',
  'void main() {',
  '  gl_Position = vec4(aPos, 0.0, 1.0);',
  '}',
].join('\n');

/** The vertex shader of GLSL ES 3.00 passes (a program's shaders must share their version). */
export const PACKED_VERTEX_SOURCE_300 = [
  '#version 300 es',
  'in vec2 aPos;',
  'void main() {',
  '  gl_Position = vec4(aPos, 0.0, 1.0);',
  '}',
].join('\n');

/**
 * Inner loop length of the packed matmul: each block of this many k/4 steps is summed into its
 * own accumulators before it is added to the total (a two-level sum: float32 rounding grows with
 * the block length plus the number of blocks, not with k).
 */
export const MATMUL_BLOCK = 32;

/** Where a pack pass reads: element (r, c) of the logical R x C matrix is flat `r * rowStride + c * colStride`. */
export interface PackLayout {
  /** Rows of the logical matrix. */
  readonly rows: number;
  /** Columns of the logical matrix. */
  readonly cols: number;
  /** Flat distance between consecutive rows in the source buffer. */
  readonly rowStride: number;
  /** Flat distance between consecutive columns in the source buffer. */
  readonly colStride: number;
  /** Texture size `[w, h]` of the source buffer (gpu.js's layout). */
  readonly srcSize: readonly [number, number];
  /** Rows of the packed texture (at least `rows`; the extra rows are zero). */
  readonly outRows: number;
}

/**
 * The {@link PackLayout} of `op(X)`, `rows x cols`, for a row-major buffer `X` of texture size
 * `srcSize` holding `op(X)` itself, or its transpose (`cols x rows`) when `trans`.
 */
export function packLayout(
  rows: number,
  cols: number,
  trans: boolean,
  srcSize: readonly [number, number],
  outRows: number,
): PackLayout {
  return { rows, cols, rowStride: trans ? 1 : cols, colStride: trans ? rows : 1, srcSize, outRows };
}

const header = (samplers: readonly string[]): string[] => [
  'precision highp float;',
  ...samplers.map((s) => `uniform sampler2D ${s};`),
];

/**
 * A pass that packs a matrix read from a buffer in gpu.js's layout (see the file header) into the
 * packed layout: output texture `ceil(cols / 4) x outRows`, sampler `src`. Flat indices are split
 * into texel coordinates with a float division and a correction step, so they stay exact for every
 * index below 2^23. With a `prologue` (see {@link packPrologue}) the packed value at flat index `f`
 * is an element-wise spec over same-length inputs read at `f` (samplers `x0..`), computed as
 * {@link mapSameShapeSource} computes it, instead of `src`'s value.
 */
export function packSource(p: PackLayout, prologue: PackPrologue | null = null): string {
  const [sw, sh] = p.srcSize;
  const lanes = ['x', 'y', 'z', 'w'];
  const body = [
    ...(prologue === null ? header(['src']) : ['precision highp float;', ...prologue.decls]),
    'float at(float f) {',
    `  float y = floor((f + 0.5) / ${flt(sw)});`,
    `  float x = f - y * ${flt(sw)};`,
    `  if (x < 0.0) { y -= 1.0; x += ${flt(sw)}; }`,
    `  if (x >= ${flt(sw)}) { y += 1.0; x -= ${flt(sw)}; }`,
    ...(prologue === null
      ? [`  return texture2D(src, vec2((x + 0.5) / ${flt(sw)}, (y + 0.5) / ${flt(sh)})).r;`]
      : [`  vec2 uv = vec2((x + 0.5) / ${flt(sw)}, (y + 0.5) / ${flt(sh)});`, ...prologue.body]),
    '}',
    'void main() {',
    '  float q = floor(gl_FragCoord.x);',
    '  float r = floor(gl_FragCoord.y);',
    '  vec4 v = vec4(0.0);',
    `  if (r < ${flt(p.rows)}) {`,
    '    float c = 4.0 * q;',
    `    float f = r * ${flt(p.rowStride)} + c * ${flt(p.colStride)};`,
  ];
  for (let l = 0; l < 4; l++) {
    const f = l === 0 ? 'f' : `f + ${flt(l * p.colStride)}`;
    body.push(`    if (c + ${flt(l)} < ${flt(p.cols)}) v.${lanes[l]} = at(${f});`);
  }
  body.push('  }', '  gl_FragColor = v;', '}');
  return body.join('\n');
}

/**
 * The packed product `C = A B` for packed `A` (m x k: texture `k4 x m`, `k4 = ceil(k / 4)`) and
 * packed `B` (k x n, padded to `4 k4` rows: texture `ceil(n / 4) x 4 k4`), into packed `C`
 * (texture `ceil(n / 4) x m`), samplers `A` and `B`. Fragment `(q, i)` computes
 * `C[i, 4q..4q+3] = sum_t A4[i, t].x * B4[4t, q] + .y * B4[4t+1, q] + .z * B4[4t+2, q] + .w * B4[4t+3, q]`:
 * five texture reads per sixteen multiply-adds, four vec4 accumulators (one per lane of the `A`
 * texel), summed per block of {@link MATMUL_BLOCK} steps.
 */
export function matmulPackedSource(m: number, k: number, n: number): string {
  const k4 = Math.ceil(k / 4);
  const nq = Math.ceil(n / 4);
  const kp = 4 * k4;
  const blocks = Math.floor(k4 / MATMUL_BLOCK);
  const tail = k4 - blocks * MATMUL_BLOCK;
  const step = (t: string): string[] => [
    `      vec4 a = texture2D(A, vec2((${t} + 0.5) * ${flt(1 / k4)}, av));`,
    `      float bv = (4.0 * ${t} + 0.5) * ${flt(1 / kp)};`,
    '      p0 += a.x * texture2D(B, vec2(bu, bv));',
    `      p1 += a.y * texture2D(B, vec2(bu, bv + ${flt(1 / kp)}));`,
    `      p2 += a.z * texture2D(B, vec2(bu, bv + ${flt(2 / kp)}));`,
    `      p3 += a.w * texture2D(B, vec2(bu, bv + ${flt(3 / kp)}));`,
  ];
  const body = [
    ...header(['A', 'B']),
    'void main() {',
    `  float bu = gl_FragCoord.x / ${flt(nq)};`,
    `  float av = gl_FragCoord.y / ${flt(m)};`,
    '  vec4 s = vec4(0.0);',
  ];
  if (blocks > 0) {
    body.push(
      `  for (int ob = 0; ob < ${blocks}; ob++) {`,
      '    vec4 p0 = vec4(0.0); vec4 p1 = vec4(0.0); vec4 p2 = vec4(0.0); vec4 p3 = vec4(0.0);',
      `    for (int ib = 0; ib < ${MATMUL_BLOCK}; ib++) {`,
      `      float t = float(ob * ${MATMUL_BLOCK} + ib);`,
      ...step('t'),
      '    }',
      '    s += (p0 + p1) + (p2 + p3);',
      '  }',
    );
  }
  if (tail > 0) {
    body.push(
      '  {',
      '    vec4 p0 = vec4(0.0); vec4 p1 = vec4(0.0); vec4 p2 = vec4(0.0); vec4 p3 = vec4(0.0);',
      `    for (int ib = 0; ib < ${tail}; ib++) {`,
      `      float t = float(${blocks * MATMUL_BLOCK} + ib);`,
      ...step('t'),
      '    }',
      '    s += (p0 + p1) + (p2 + p3);',
      '  }',
    );
  }
  body.push('  gl_FragColor = s;', '}');
  return body.join('\n');
}

/**
 * The 4 x 4 blocked product for contexts that draw into four textures at once (WebGL2, or WebGL1
 * with `WEBGL_draw_buffers`): `A` packed with `4 ceil(m / 4)` rows (zero past `m`), `B` as in
 * {@link matmulPackedSource}; fragment `(q, ib)` writes `C[4 ib + r, 4q..4q+3]` into output `r`
 * (texture `ceil(n / 4) x ceil(m / 4)`), reading four `A` texels and four `B` texels per 64
 * multiply-adds. `glsl3` gives the GLSL ES 3.00 form WebGL2 needs for several outputs.
 */
export function matmulBlockedSource(m: number, k: number, n: number, glsl3: boolean): string {
  const k4 = Math.ceil(k / 4);
  const nq = Math.ceil(n / 4);
  const mp = 4 * Math.ceil(m / 4);
  const kp = 4 * k4;
  const blocks = Math.floor(k4 / MATMUL_BLOCK);
  const tail = k4 - blocks * MATMUL_BLOCK;
  const tex = glsl3 ? 'texture' : 'texture2D';
  const rows = [0, 1, 2, 3];
  const step = (t: string): string[] => [
    `      float au = (${t} + 0.5) * ${flt(1 / k4)};`,
    `      float bv = (4.0 * ${t} + 0.5) * ${flt(1 / kp)};`,
    `      vec4 b0 = ${tex}(B, vec2(bu, bv));`,
    ...[1, 2, 3].map((r) => `      vec4 b${r} = ${tex}(B, vec2(bu, bv + ${flt(r / kp)}));`),
    ...rows.map((r) => `      vec4 a${r} = ${tex}(A, vec2(au, av${r}));`),
    ...rows.map((r) => `      p${r} += a${r}.x * b0 + a${r}.y * b1 + a${r}.z * b2 + a${r}.w * b3;`),
  ];
  const partials = '    vec4 p0 = vec4(0.0); vec4 p1 = vec4(0.0); vec4 p2 = vec4(0.0); vec4 p3 = vec4(0.0);';
  const body = glsl3
    ? [
        '#version 300 es',
        'precision highp float;',
        'uniform sampler2D A;',
        'uniform sampler2D B;',
        ...rows.map((r) => `layout(location = ${r}) out vec4 o${r};`),
      ]
    : ['#extension GL_EXT_draw_buffers : require', ...header(['A', 'B'])];
  body.push(
    'void main() {',
    `  float bu = gl_FragCoord.x / ${flt(nq)};`,
    '  float ib = floor(gl_FragCoord.y);',
    ...rows.map((r) => `  float av${r} = (4.0 * ib + ${flt(r + 0.5)}) / ${flt(mp)};`),
    '  vec4 s0 = vec4(0.0); vec4 s1 = vec4(0.0); vec4 s2 = vec4(0.0); vec4 s3 = vec4(0.0);',
  );
  const sum = rows.map((r) => `    s${r} += p${r};`);
  if (blocks > 0) {
    body.push(
      `  for (int ob = 0; ob < ${blocks}; ob++) {`,
      partials,
      `    for (int ii = 0; ii < ${MATMUL_BLOCK}; ii++) {`,
      `      float t = float(ob * ${MATMUL_BLOCK} + ii);`,
      ...step('t'),
      '    }',
      ...sum,
      '  }',
    );
  }
  if (tail > 0) {
    body.push(
      '  {',
      partials,
      `    for (int ii = 0; ii < ${tail}; ii++) {`,
      `      float t = float(${blocks * MATMUL_BLOCK} + ii);`,
      ...step('t'),
      '    }',
      ...sum,
      '  }',
    );
  }
  body.push(...rows.map((r) => (glsl3 ? `  o${r} = s${r};` : `  gl_FragData[${r}] = s${r};`)), '}');
  return body.join('\n');
}

/**
 * Unpacks the four outputs of {@link matmulBlockedSource} (samplers `C0`..`C3`, output `r` holding
 * rows `4 ib + r`) into gpu.js's layout, as {@link unpackSource} does for one packed texture.
 */
export function unpackBlockedSource(
  rows: number,
  cols: number,
  outSize: readonly [number, number],
  epilogue: UnpackEpilogue | null = null,
): string {
  const [w] = outSize;
  const nq = Math.ceil(cols / 4);
  const mq = Math.ceil(rows / 4);
  return [
    ...header(['C0', 'C1', 'C2', 'C3']),
    ...(epilogue?.decls ?? []),
    'void main() {',
    `  float f = floor(gl_FragCoord.y) * ${flt(w)} + floor(gl_FragCoord.x);`,
    '  float v = 0.0;',
    `  if (f < ${flt(rows * cols)}) {`,
    `    float r = floor((f + 0.5) / ${flt(cols)});`,
    `    float c = f - r * ${flt(cols)};`,
    `    if (c < 0.0) { r -= 1.0; c += ${flt(cols)}; }`,
    `    if (c >= ${flt(cols)}) { r += 1.0; c -= ${flt(cols)}; }`,
    '    float q = floor((c + 0.5) / 4.0);',
    '    float l = c - 4.0 * q;',
    '    float ib = floor((r + 0.5) / 4.0);',
    '    float lr = r - 4.0 * ib;',
    `    vec2 uv = vec2((q + 0.5) / ${flt(nq)}, (ib + 0.5) / ${flt(mq)});`,
    '    vec4 t = lr < 0.5 ? texture2D(C0, uv) : lr < 1.5 ? texture2D(C1, uv) : lr < 2.5 ? texture2D(C2, uv) : texture2D(C3, uv);',
    '    v = l < 0.5 ? t.x : l < 1.5 ? t.y : l < 2.5 ? t.z : t.w;',
    ...(epilogue ? [epilogue.apply] : []),
    '  }',
    '  gl_FragColor = vec4(v, 0.0, 0.0, 0.0);',
    '}',
  ].join('\n');
}

/**
 * Unpacks a packed `rows x cols` matrix (sampler `src`, texture `ceil(cols / 4) x rows`) into
 * gpu.js's layout: output texture `outSize`, flat element `f = r * cols + c` in the red channel of
 * texel `(f mod w, floor(f / w))`; texels past `rows * cols` hold 0.
 */
export function unpackSource(
  rows: number,
  cols: number,
  outSize: readonly [number, number],
  epilogue: UnpackEpilogue | null = null,
): string {
  const [w] = outSize;
  const nq = Math.ceil(cols / 4);
  return [
    ...header(['src']),
    ...(epilogue?.decls ?? []),
    'void main() {',
    `  float f = floor(gl_FragCoord.y) * ${flt(w)} + floor(gl_FragCoord.x);`,
    '  float v = 0.0;',
    `  if (f < ${flt(rows * cols)}) {`,
    `    float r = floor((f + 0.5) / ${flt(cols)});`,
    `    float c = f - r * ${flt(cols)};`,
    `    if (c < 0.0) { r -= 1.0; c += ${flt(cols)}; }`,
    `    if (c >= ${flt(cols)}) { r += 1.0; c -= ${flt(cols)}; }`,
    '    float q = floor((c + 0.5) / 4.0);',
    '    float l = c - 4.0 * q;',
    `    vec4 t = texture2D(src, vec2((q + 0.5) / ${flt(nq)}, (r + 0.5) / ${flt(rows)}));`,
    '    v = l < 0.5 ? t.x : l < 1.5 ? t.y : l < 2.5 ? t.z : t.w;',
    ...(epilogue ? [epilogue.apply] : []),
    '  }',
    '  gl_FragColor = vec4(v, 0.0, 0.0, 0.0);',
    '}',
  ].join('\n');
}

/**
 * Where an operand of a matmul epilogue is read: the product's element `(r, c)` reads flat element
 * `r * rowStride + c * colStride` of a buffer in gpu.js's layout of `size` texels.
 */
export interface EpilogueOperand {
  /** Flat distance between consecutive product rows (0 when the operand broadcasts along rows). */
  readonly rowStride: number;
  /** Flat distance between consecutive product columns (0 when it broadcasts along columns). */
  readonly colStride: number;
  /** Texture size `[w, h]` of the operand's buffer. */
  readonly size: readonly [number, number];
}

/**
 * The strides of an operand of shape `shape` broadcast (NumPy rules, checked by the device) against
 * a product `[rows, cols]`: an axis of size 1, or a missing one, has stride 0.
 */
export function epilogueStrides(shape: readonly number[], rows: number, cols: number): [number, number] {
  const r = shape.length >= 2 ? shape[shape.length - 2] : 1;
  const c = shape.length >= 1 ? shape[shape.length - 1] : 1;
  return [r === 1 && rows !== 1 ? 0 : c, c === 1 && cols !== 1 ? 0 : 1];
}

/**
 * The GLSL of a matmul epilogue for {@link unpackSource} and {@link unpackBlockedSource}: `decls`
 * (samplers `E1..` of the operands, uniforms `p0..` and {@link ONE_UNIFORM}, a reader per operand and
 * `float gk_epi(float a, ...)` evaluating the spec) and `apply`, the statement that replaces the
 * unpacked product `v` by `gk_epi(v, operands at (r, c))`.
 */
export interface UnpackEpilogue {
  /** Declarations before `main`. */
  readonly decls: readonly string[];
  /** The statement applying the spec to `v` at row `r`, column `c` (floats of the unpack pass). */
  readonly apply: string;
}

/**
 * {@link UnpackEpilogue} for `spec` (input `a` is the product's element, `b..` the operands read
 * as `operands` say): the spec's statements and expression are the GLSL that
 * {@link mapSameShapeSource} emits, so the values equal the same-shape map's. Null when its arity
 * is not `1 + operands.length` (the backend then runs matmul and map).
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
export function unpackEpilogue(
  spec: ElementwiseSpec,
  operands: readonly EpilogueOperand[],
): UnpackEpilogue | null {
  if (spec.arity !== 1 + operands.length) return null;
  const body = glslBody(spec);
  if (body === null) return null;
  const { lets, result, used } = body;
  const decls: string[] = [
    ...specUniforms(
      operands.map((_, k) => `E${k + 1}`),
      spec.params,
    ),
    glslMathSource(used),
  ];
  operands.forEach((o, k) => {
    const [w, h] = o.size;
    decls.push(
      `float rd_E${k + 1}(float f) {`,
      `  float y = floor((f + 0.5) / ${flt(w)});`,
      `  float x = f - y * ${flt(w)};`,
      `  if (x < 0.0) { y -= 1.0; x += ${flt(w)}; }`,
      `  if (x >= ${flt(w)}) { y += 1.0; x -= ${flt(w)}; }`,
      `  return texture2D(E${k + 1}, vec2((x + 0.5) / ${flt(w)}, (y + 0.5) / ${flt(h)})).r;`,
      '}',
    );
  });
  const args = Array.from({ length: spec.arity }, (_, k) => `float ${INPUT_NAMES[k]}`);
  decls.push(`float gk_epi(${args.join(', ')}) {`, ...lets, `  return ${result};`, '}');
  const reads = operands.map((o, k) => {
    const terms = [
      ...(o.rowStride !== 0 ? [`r * ${flt(o.rowStride)}`] : []),
      ...(o.colStride !== 0 ? [o.colStride === 1 ? 'c' : `c * ${flt(o.colStride)}`] : []),
    ];
    return `rd_E${k + 1}(${terms.length > 0 ? terms.join(' + ') : '0.0'})`;
  });
  return { decls, apply: `    v = gk_epi(${['v', ...reads].join(', ')});` };
}

/** A float uniform that always holds 1.0 (see {@link mapSameShapeSource}). */
export const ONE_UNIFORM = 'gk_one';

/**
 * The uniforms of a shader that evaluates a spec: its input samplers, its parameters `p0..`,
 * {@link ONE_UNIFORM} and {@link ZERO_UNIFORM}.
 */
function specUniforms(samplers: readonly string[], params: number): string[] {
  return [
    ...samplers.map((t) => `uniform sampler2D ${t};`),
    ...Array.from({ length: params }, (_, q) => `uniform float p${q};`),
    `uniform float ${ONE_UNIFORM};`,
    `uniform float ${ZERO_UNIFORM};`,
  ];
}

/** The samplers `x0..` of a same-shape spec's `arity` inputs. */
const inputSamplers = (arity: number): string[] => Array.from({ length: arity }, (_, k) => `x${k}`);

/** Statements reading each input `a, b, ..` from its sampler `x0..` at the texel `uv` (`tex`: the GLSL lookup). */
const sameTexelReads = (arity: number, tex = 'texture2D'): string[] =>
  Array.from({ length: arity }, (_, k) => `  float ${INPUT_NAMES[k]} = ${tex}(x${k}, uv).r;`);

/**
 * GLSL for one kernel-language expression, or null when it calls a function outside
 * {@link PORTABLE_MATH} (every `Math` function of the kernel language but `fround` is there, and
 * `fround` is the value itself: a highp float is a float32); the GLSL functions it calls are added
 * to `used` (their definitions come from `glslMathSource`).
 */
function glslExpr(e: KernelExpr, used: Set<string>): string | null {
  switch (e.kind) {
    case 'num':
      return flt(e.value);
    case 'input':
      return INPUT_NAMES[e.index];
    case 'param':
      return `p${e.index}`;
    case 'temp':
      return e.name;
    case 'neg':
    case 'not': {
      const x = glslExpr(e.arg, used);
      return x === null ? null : `(${e.kind === 'neg' ? '-' : '!'}${x})`;
    }
    case 'arith':
    case 'compare':
    case 'logical': {
      const l = glslExpr(e.left, used);
      const r = glslExpr(e.right, used);
      if (l === null || r === null) return null;
      // a quotient of two literals (0.0 / 0.0 spells NaN) is computed at run time: GLSL
      // compilers fold it, and fold 0.0 / 0.0 to something that is not NaN
      if (e.kind === 'arith' && e.op === '/' && e.left.kind === 'num' && e.right.kind === 'num')
        return `((${l} * ${ONE_UNIFORM}) / ${r})`;
      return `(${l} ${e.op} ${r})`;
    }
    case 'cond': {
      const t = glslExpr(e.test, used);
      const a = glslExpr(e.then, used);
      const b = glslExpr(e.otherwise, used);
      return t === null || a === null || b === null ? null : `(${t} ? ${a} : ${b})`;
    }
    case 'call': {
      // a float32 rounding: a highp float already is one (gpu.js's fround returns x too)
      if (e.fn === 'fround' && e.args.length === 1) {
        const x = glslExpr(e.args[0], used);
        return x === null ? null : `(${x})`;
      }
      if (!Object.hasOwn(PORTABLE_MATH, e.fn)) return null;
      const { glsl } = PORTABLE_MATH[e.fn];
      const args = e.args.map((a) => glslExpr(a, used));
      if (args.some((x) => x === null)) return null;
      used.add(glsl);
      return `${glsl}(${args.join(', ')})`;
    }
    default:
      return null;
  }
}

/**
 * A spec's statements (`float t_x = ...;` lines) and result expression in GLSL, with the portable
 * math functions they call (`used`, for `glslMathSource`); null when it calls a function outside
 * {@link PORTABLE_MATH} and `fround` (none of the kernel language's).
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
function glslBody(spec: ElementwiseSpec): { lets: string[]; result: string; used: Set<string> } | null {
  const { ast } = parsedKernel(spec);
  const used = new Set<string>();
  const lets: string[] = [];
  for (const l of ast.lets) {
    const v = glslExpr(l.value, used);
    if (v === null) return null;
    lets.push(`  float ${l.name} = ${v};`);
  }
  const result = glslExpr(ast.result, used);
  return result === null ? null : { lets, result, used };
}

/**
 * An element-wise kernel whose inputs all have the output's length (no broadcasting) as a fragment
 * shader: every input is read at the fragment's own texel (buffers of one length share gpu.js's
 * texture size), so no index arithmetic runs. Samplers `x0..`, float uniforms `p0..`; the output
 * texture is `size`; uniform {@link ONE_UNIFORM} must be 1.0 and {@link ZERO_UNIFORM} 0.0. Every
 * `Math` function of the kernel language is the gl backend's own GLSL ({@link PORTABLE_MATH};
 * `fround` is the value itself), as in gpu.js's kernels, so both paths compute the same values;
 * null only for a call outside them, which a valid spec cannot make.
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
export function mapSameShapeSource(spec: ElementwiseSpec, size: readonly [number, number]): string | null {
  const body = glslBody(spec);
  if (body === null) return null;
  const { lets, result, used } = body;
  const lines = [
    'precision highp float;',
    ...specUniforms(inputSamplers(spec.arity), spec.params),
    glslMathSource(used),
    'void main() {',
    `  vec2 uv = gl_FragCoord.xy / vec2(${flt(size[0])}, ${flt(size[1])});`,
    ...sameTexelReads(spec.arity),
    ...lets,
    `  gl_FragColor = vec4(${result}, 0.0, 0.0, 0.0);`,
    '}',
  ];
  return lines.join('\n');
}

/** Most outputs of {@link mapMultiSameShapeSource}: the four render targets WebGL guarantees with draw buffers. */
export const MAP_MULTI_TARGETS = 4;

/**
 * Several element-wise specs over the same inputs, all of the output's length, as one fragment
 * shader writing spec `k`'s value into render target `k` (2 to {@link MAP_MULTI_TARGETS} specs of
 * one arity and parameter count, sharing their statements, which run once): what
 * {@link mapSameShapeSource} is for one spec. `glsl3` gives the GLSL ES 3.00 form WebGL2 needs for
 * several outputs; else WebGL1's `GL_EXT_draw_buffers`. Null when the specs' statements differ or
 * the count is out of range.
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
export function mapMultiSameShapeSource(
  specs: readonly ElementwiseSpec[],
  size: readonly [number, number],
  glsl3: boolean,
): string | null {
  if (specs.length < 2 || specs.length > MAP_MULTI_TARGETS) return null;
  const [first] = specs;
  if (
    specs.some(
      (s) => s.arity !== first.arity || s.params !== first.params || (s.stmts ?? '') !== (first.stmts ?? ''),
    )
  )
    return null;
  const used = new Set<string>();
  const lets: string[] = [];
  for (const l of parsedKernel(first).ast.lets) {
    const v = glslExpr(l.value, used);
    if (v === null) return null;
    lets.push(`  float ${l.name} = ${v};`);
  }
  const results: string[] = [];
  for (const spec of specs) {
    const r = glslExpr(parsedKernel(spec).ast.result, used);
    if (r === null) return null;
    results.push(r);
  }
  const tex = glsl3 ? 'texture' : 'texture2D';
  const lines = [
    ...(glsl3 ? ['#version 300 es'] : ['#extension GL_EXT_draw_buffers : require']),
    'precision highp float;',
    ...specUniforms(inputSamplers(first.arity), first.params),
    ...(glsl3 ? results.map((_, k) => `layout(location = ${k}) out vec4 o${k};`) : []),
    glslMathSource(used),
    'void main() {',
    `  vec2 uv = gl_FragCoord.xy / vec2(${flt(size[0])}, ${flt(size[1])});`,
    ...sameTexelReads(first.arity, tex),
    ...lets,
    ...results.map((r, k) =>
      glsl3 ? `  o${k} = vec4(${r}, 0.0, 0.0, 0.0);` : `  gl_FragData[${k}] = vec4(${r}, 0.0, 0.0, 0.0);`,
    ),
    '}',
  ];
  return lines.join('\n');
}

/** The largest finite float32 as a GLSL literal (finite: `abs(v) <= FLT_MAX_GLSL`, false for NaN). */
const FLT_MAX_GLSL = '3.4028234663852886e38';

export { ZERO_UNIFORM };

/** Most classes the fused cross-entropy shaders loop over (more run the composed kernels). */
export const CROSS_ENTROPY_MAX_CLASSES = 16384;

/** The shader prelude of the fused cross-entropy passes: version, precision, samplers, uniforms. */
function crossEntropyHeader(
  glsl3: boolean,
  outputs: number,
  samplers: readonly string[],
  floats: readonly string[],
): string[] {
  return [
    ...(glsl3 ? ['#version 300 es'] : outputs > 1 ? ['#extension GL_EXT_draw_buffers : require'] : []),
    'precision highp float;',
    ...samplers.map((t) => `uniform sampler2D ${t};`),
    ...floats.map((f) => `uniform float ${f};`),
    `uniform float ${ZERO_UNIFORM};`,
    ...(glsl3 ? Array.from({ length: outputs }, (_, k) => `layout(location = ${k}) out vec4 o${k};`) : []),
    glslMathSource(['gk_exp', 'gk_log']),
  ];
}

/**
 * `float rd_<name>(float k)`: element `k` of a texture in gpu.js's flat layout of `size` texels
 * (`(k mod w, floor(k / w))`, exact below 2^23).
 */
function flatReader(name: string, size: readonly [number, number], glsl3: boolean): string {
  const [w, h] = size;
  return [
    `float rd_${name}(float k) {`,
    `  float yy = floor((k + 0.5) / ${flt(w)});`,
    `  float xx = k - yy * ${flt(w)};`,
    `  return ${glsl3 ? 'texture' : 'texture2D'}(${name}, vec2((xx + 0.5) / ${flt(w)}, (yy + 0.5) / ${flt(h)})).r;`,
    '}',
  ].join('\n');
}

/** The statement writing output `k` (GLSL 3 `o<k>`, WebGL1 `gl_FragData`/`gl_FragColor`). */
const writeOut = (glsl3: boolean, outputs: number, k: number, v: string): string =>
  glsl3
    ? `  o${k} = vec4(${v}, 0.0, 0.0, 0.0);`
    : outputs > 1
      ? `  gl_FragData[${k}] = vec4(${v}, 0.0, 0.0, 0.0);`
      : `  gl_FragColor = vec4(${v}, 0.0, 0.0, 0.0);`;

/**
 * Softmax cross-entropy of `rows` rows of `classes` logits in one pass, one fragment per row,
 * writing the loss into target 0 and the lse into target 1 (both `rows` values in gpu.js's flat
 * layout of `outSize`): `lse = m + log(sum exp(x - m))` with `m` the row's maximum, NaN when the
 * row holds a NaN or its maximum or lse is not finite (PyTorch's log_softmax); `loss = sum q (lse
 * - x)` over the classes where `q` is not 0, `q = q1` at the row's label and `q0` elsewhere (the
 * float32 targets the composed kernels compute). Samplers `X` (`[rows, classes]`) and `L` (the
 * labels), uniforms `q0`, `q1`, {@link ZERO_UNIFORM}.
 */
export function crossEntropySource(
  classes: number,
  xSize: readonly [number, number],
  lSize: readonly [number, number],
  outSize: readonly [number, number],
  glsl3: boolean,
): string {
  const C = flt(classes);
  return [
    ...crossEntropyHeader(glsl3, 2, ['X', 'L'], ['q0', 'q1']),
    flatReader('X', xSize, glsl3),
    flatReader('L', lSize, glsl3),
    'void main() {',
    `  float i = floor(gl_FragCoord.y) * ${flt(outSize[0])} + floor(gl_FragCoord.x);`,
    `  float base = i * ${C};`,
    '  float lab = rd_L(i);',
    '  float m = rd_X(base);',
    '  bool bad = !(m == m);',
    `  for (int j = 1; j < ${classes}; j++) {`,
    '    float v = rd_X(base + float(j));',
    '    if (!(v == v)) bad = true;',
    '    if (v > m) m = v;',
    '  }',
    `  float lse = ${ZERO_UNIFORM} / ${ZERO_UNIFORM};`,
    `  if (!bad && abs(m) <= ${FLT_MAX_GLSL}) {`,
    '    float s = 0.0;',
    `    for (int j = 0; j < ${classes}; j++) s += gk_exp(rd_X(base + float(j)) - m);`,
    '    float l = m + gk_log(s);',
    `    if (abs(l) <= ${FLT_MAX_GLSL}) lse = l;`,
    '  }',
    '  float loss = 0.0;',
    `  for (int j = 0; j < ${classes}; j++) {`,
    '    float q = lab == float(j) ? q1 : q0;',
    '    if (q != 0.0) loss += q * (lse - rd_X(base + float(j)));',
    '  }',
    writeOut(glsl3, 2, 0, 'loss'),
    writeOut(glsl3, 2, 1, 'lse'),
    '}',
  ].join('\n');
}

/**
 * The probabilities `exp(x - lse_row)` of {@link crossEntropySource}'s rows: `[rows, classes]` in
 * gpu.js's flat layout of `outSize`. Samplers `X`, `S` (the lse).
 */
export function crossEntropyProbsSource(
  classes: number,
  xSize: readonly [number, number],
  sSize: readonly [number, number],
  outSize: readonly [number, number],
  glsl3: boolean,
): string {
  return [
    ...crossEntropyHeader(glsl3, 1, ['X', 'S'], []),
    flatReader('X', xSize, glsl3),
    flatReader('S', sSize, glsl3),
    'void main() {',
    `  float f = floor(gl_FragCoord.y) * ${flt(outSize[0])} + floor(gl_FragCoord.x);`,
    `  float row = floor((f + 0.5) / ${flt(classes)});`,
    writeOut(glsl3, 1, 0, 'gk_exp(rd_X(f) - rd_S(row))'),
    '}',
  ].join('\n');
}

/**
 * The cross-entropy gradient `(scale dy_row) (p - q)` over `[rows, classes]` (gpu.js's flat
 * layout of `outSize`), `q = q1` at the row's label and `q0` elsewhere, `dy_row` from `D` per row
 * or its one value. Samplers `P` (probabilities), `L` (labels), `D` (dy); uniforms `scale`, `q0`, `q1`.
 */
export function crossEntropyGradSource(
  classes: number,
  pSize: readonly [number, number],
  lSize: readonly [number, number],
  dSize: readonly [number, number],
  perRow: boolean,
  outSize: readonly [number, number],
  glsl3: boolean,
): string {
  return [
    ...crossEntropyHeader(glsl3, 1, ['P', 'L', 'D'], ['scale', 'q0', 'q1']),
    flatReader('P', pSize, glsl3),
    flatReader('L', lSize, glsl3),
    flatReader('D', dSize, glsl3),
    'void main() {',
    `  float f = floor(gl_FragCoord.y) * ${flt(outSize[0])} + floor(gl_FragCoord.x);`,
    `  float row = floor((f + 0.5) / ${flt(classes)});`,
    `  float j = f - row * ${flt(classes)};`,
    '  float q = rd_L(row) == j ? q1 : q0;',
    `  float dy = rd_D(${perRow ? 'row' : '0.0'});`,
    writeOut(glsl3, 1, 0, '(scale * dy) * (rd_P(f) - q)'),
    '}',
  ].join('\n');
}

/**
 * An element-wise spec evaluated inside a pack pass (see {@link packSource}): `decls` (samplers
 * `x0..` of the inputs, uniforms `p0..`, {@link ONE_UNIFORM}, {@link ZERO_UNIFORM}, the portable
 * math the spec calls) and `body`, the statements of `float at(float f)` after `uv` (the texel of
 * flat index `f`) is set: they read every input there and return the spec's value.
 */
export interface PackPrologue {
  /** Declarations before `at`. */
  readonly decls: readonly string[];
  /** The rest of `at`'s body. */
  readonly body: readonly string[];
}

/**
 * The {@link PackPrologue} of `spec` over `spec.arity` inputs of one length (one texture size):
 * the inputs read at the same texel and the spec's GLSL as {@link mapSameShapeSource} emits it,
 * so a packed value equals the same-shape map's output at that index, bit for bit. Null only for
 * a call outside {@link PORTABLE_MATH} and `fround`, which a valid spec cannot make.
 *
 * @throws {ValueError} for a spec that is not valid (see `defineKernel`).
 */
export function packPrologue(spec: ElementwiseSpec): PackPrologue | null {
  const body = glslBody(spec);
  if (body === null) return null;
  const { lets, result, used } = body;
  return {
    decls: [...specUniforms(inputSamplers(spec.arity), spec.params), glslMathSource(used)],
    body: [...sameTexelReads(spec.arity), ...lets, `  return ${result};`],
  };
}

/**
 * The column sums `s[c] = sum_r M[r, c]` of an `rows x cols` matrix held packed, written in
 * gpu.js's flat layout of `outSize` (`cols` values), sampler `P`. The sum runs in row order from
 * 0.0, one addition per element, as the gl backend's one-stage `reduce('sum')` over the rows does
 * (rows up to `REDUCE_SINGLE_STAGE`), so the sums are equal bit for bit. `transposed` says how `M`
 * is packed: false, `M` itself (texture `ceil(cols / 4) x height`: one lane of a texel per row);
 * true, `M^T` (texture `ceil(rows / 4) x height`: texel `(q, c)` holds rows `4q..4q+3` of column
 * `c`, four rows per texture read).
 */
export function colSumPackedSource(
  rows: number,
  cols: number,
  transposed: boolean,
  height: number,
  outSize: readonly [number, number],
): string {
  const [w] = outSize;
  const lanes = ['x', 'y', 'z', 'w'];
  const body = [
    ...header(['P']),
    'void main() {',
    `  float c = floor(gl_FragCoord.y) * ${flt(w)} + floor(gl_FragCoord.x);`,
    '  float acc = 0.0;',
    `  if (c < ${flt(cols)}) {`,
  ];
  if (transposed) {
    const r4 = Math.ceil(rows / 4);
    const full = Math.floor(rows / 4);
    body.push(`    float v = (c + 0.5) / ${flt(height)};`);
    if (full > 0) {
      body.push(
        `    for (int q = 0; q < ${full}; q++) {`,
        `      vec4 t = texture2D(P, vec2((float(q) + 0.5) / ${flt(r4)}, v));`,
        '      acc += t.x;',
        '      acc += t.y;',
        '      acc += t.z;',
        '      acc += t.w;',
        '    }',
      );
    }
    if (rows % 4 !== 0) {
      body.push(`    vec4 t = texture2D(P, vec2(${flt(full + 0.5)} / ${flt(r4)}, v));`);
      for (let l = 0; l < rows % 4; l++) body.push(`    acc += t.${lanes[l]};`);
    }
  } else {
    const nq = Math.ceil(cols / 4);
    body.push(
      '    float q = floor((c + 0.5) / 4.0);',
      '    float l = c - 4.0 * q;',
      `    float u = (q + 0.5) / ${flt(nq)};`,
      `    for (int r = 0; r < ${rows}; r++) {`,
      `      vec4 t = texture2D(P, vec2(u, (float(r) + 0.5) / ${flt(height)}));`,
      '      acc += l < 0.5 ? t.x : l < 1.5 ? t.y : l < 2.5 ? t.z : t.w;',
      '    }',
    );
  }
  body.push('  }', '  gl_FragColor = vec4(acc, 0.0, 0.0, 0.0);', '}');
  return body.join('\n');
}
