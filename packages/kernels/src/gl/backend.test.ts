import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendBuffer, ElementwiseSpec, ReduceOp } from '../backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { ACTIVATION_GRAD, BINARY, SCALAR, UNARY, WHERE } from '../elementwise.js';
import { BackendError } from '../errors.js';
import type { Shape } from '../shape.js';
import { broadcastShapes, sizeOf, stridesOf } from '../shape.js';
import type { Ref64 } from '../testing/reference.js';
import {
  BINARY_REF,
  broadcastTo64,
  closeTo,
  GRAD_REF,
  matmul64,
  reduce64,
  SCALAR_REF,
  testData,
  UNARY_REF,
} from '../testing/reference.js';
import { planWindow } from '../window.js';
import { GpuJsBackend } from './backend.js';
import type { GpuJsMode } from './probe.js';
import { probeGpuJs } from './probe.js';

// The gl backend, where it can start here (headless-gl), is compared with the CPU backend (same
// float32 inputs) and with float64 references written here, with the tolerances stated per test.
// GL needs an X server: xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX" npx vitest run ...
// GRADKIT_REQUIRE_BACKENDS=gl turns "cannot start here" into a failure instead of a skip. The
// kernel sources themselves are checked without a GPU in sources.test.ts.

const MODES: readonly { mode: GpuJsMode; name: 'gl' }[] = [{ mode: 'headlessgl', name: 'gl' }];
const required = (process.env.GRADKIT_REQUIRE_BACKENDS ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);
const probes = MODES.map((m) => ({ ...m, probe: probeGpuJs(m.mode) }));
const active = probes.filter((p) => p.probe.ok).map((p) => p.mode);

describe('probeGpuJs', () => {
  it.each(probes)('$mode: works, or says why not (required when named in GRADKIT_REQUIRE_BACKENDS)', (p) => {
    const isRequired = required.includes(p.name) || required.includes(p.mode);
    if (isRequired && !p.probe.ok) {
      expect.fail(
        `${p.name} (${p.mode}) is required by GRADKIT_REQUIRE_BACKENDS but cannot start: ${p.probe.reason}`,
      );
    }
    if (!p.probe.ok) {
      expect(p.probe.reason.length).toBeGreaterThan(20);
      if (p.mode === 'headlessgl') expect(p.probe.reason).toMatch(/headless-gl/);
    }
  });

  it('browser-only modes report a reason in Node instead of crashing', () => {
    for (const mode of ['webgl2', 'webgl'] as const) {
      const r = probeGpuJs(mode);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/WebGL/);
      expect(() => new GpuJsBackend(mode)).toThrow(BackendError);
    }
  });

  it('explains a missing X display for headless-gl', () => {
    const p = probes[0].probe;
    if (!process.env.DISPLAY && !p.ok) expect(p.reason).toMatch(/DISPLAY|could not be loaded/);
  });
});

// ------------------------------------------------------------------------------------------------
// float64 references

/** Inputs inside each op's domain (and away from its discontinuities, where float32 rounding of
 * the input itself decides the branch). */
function domainData(op: string, n: number, seed: number, k: number): Float32Array {
  const x = testData(n, seed + 7919 * k, -3, 3);
  if (['log', 'sqrt', 'rsqrt', 'reciprocal'].includes(op) && k === 0)
    for (let i = 0; i < n; i++) x[i] = Math.abs(x[i]) + 0.05;
  if (op === 'div' && k === 1) for (let i = 0; i < n; i++) x[i] = (x[i] < 0 ? -0.25 : 0.25) + x[i];
  if ((op === 'sigmoidGrad' || op === 'tanhGrad') && k === 0)
    for (let i = 0; i < n; i++) x[i] = Math.tanh(x[i]);
  if (['floor', 'ceil'].includes(op)) for (let i = 0; i < n; i++) x[i] = Math.round(x[i] * 4) / 4 + 0.125;
  if (op === 'pow' && k === 1) for (let i = 0; i < n; i++) x[i] = i % 3 === 0 ? Math.round(x[i]) : x[i];
  if (['equal', 'notEqual', 'lessEqual', 'greaterEqual', 'logicalNot'].includes(op))
    for (let i = 0; i < n; i++) x[i] = Math.round(x[i]);
  return x;
}

/** Float64 map over broadcast inputs; NaN where the op is undefined in float64 too. */
function map64(
  ref: Ref64,
  xs: readonly Float32Array[],
  shapes: readonly Shape[],
  out: Shape,
  params: readonly number[],
): number[] {
  const b = xs.map((x, k) => broadcastTo64(x, shapes[k], out));
  const n = sizeOf(out);
  const res: number[] = [];
  for (let i = 0; i < n; i++) res.push(ref(...b.map((v) => v[i]), ...params));
  return res;
}

function transpose64(x: Float32Array, shape: Shape, perm: readonly number[]): number[] {
  const st = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  const n = sizeOf(shape);
  const res: number[] = [];
  for (let o = 0; o < n; o++) {
    let rem = o;
    let off = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      off += (rem % outShape[d]) * st[perm[d]];
      rem = Math.floor(rem / outShape[d]);
    }
    res.push(x[off]);
  }
  return res;
}

function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
  what: string,
) {
  const err = closeTo(got, want, atol, rtol);
  expect(err, `${what}: ${err}`).toBeNull();
}

/** Element-wise |got - want| <= atol + rtol * scale[i] (scale: sum |terms| of that element). */
function expectWithin(
  got: ArrayLike<number>,
  want: readonly number[],
  scale: readonly number[],
  atol: number,
  rtol: number,
  what: string,
) {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * scale[i];
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (tolerance ${tol})`);
    }
  }
}

// ------------------------------------------------------------------------------------------------

describe.each(active)('GpuJsBackend(%s)', (mode) => {
  let be: GpuJsBackend;
  const cpu = new CpuBackend();
  const up = (x: Float32Array): BackendBuffer => be.upload(x);

  beforeAll(() => {
    be = new GpuJsBackend(mode);
  });
  afterAll(() => {
    be.destroy();
  });

  /** Runs a map on both backends; returns [gpu, cpu]. */
  function runMap(spec: ElementwiseSpec, xs: Float32Array[], shapes: Shape[], params: number[]) {
    const out = broadcastShapes('test', ...shapes);
    const gb = xs.map(up);
    const g = be.map(spec, gb, shapes, out, params);
    const got = be.read(g);
    for (const b of [...gb, g]) be.free(b);
    const c = cpu.read(
      cpu.map(
        spec,
        xs.map((x) => cpu.upload(x)),
        shapes,
        out,
        params,
      ),
    );
    return { got, cpu: c, out };
  }

  it('reports what it runs on', () => {
    const info = be.info;
    expect(info.gpuMode).toBe(mode);
    expect(info.name).toBe('gl');
    expect(info.precision).toBe('single');
    expect(info.renderer.length).toBeGreaterThan(3);
    expect(info.maxTextureSize).toBeGreaterThanOrEqual(2048);
    // per kernel: min(T^2, 2^23), less T for T <= 4096 (see GpuJsBackend: gpu.js's near-square
    // packing); larger arrays in tiles, up to 2^31 - 1 elements
    expect(info.maxKernelElements).toBe(Math.min(info.maxTextureSize! * (info.maxTextureSize! - 1), 2 ** 23));
    expect(info.maxElements).toBe(2 ** 31 - 1);
    console.info(
      `[gpujs ${mode}] renderer: ${info.renderer}; maxTextureSize ${info.maxTextureSize}; maxKernelElements ${info.maxKernelElements}`,
    );
  });

  it('uploads and reads back exactly, including NaN, infinities, -0 and sizes above 65536', () => {
    const special = new Float32Array([
      Number.NaN,
      Infinity,
      -Infinity,
      -0,
      3.4028234663852886e38,
      1.401298464324817e-45,
      -1.5,
    ]);
    for (const x of [special, testData(1, 1), testData(1000, 2), testData(70001, 3)]) {
      const b = up(x);
      expect(b.size).toBe(x.length);
      const got = be.read(b);
      expect(got).toBeInstanceOf(Float32Array);
      expect(got.length).toBe(x.length);
      // A GPU may flush the float32 denormal 1.4e-45 to zero; every other value is exact.
      for (let i = 0; i < x.length; i++) {
        const flushed = x === special && i === 5 && got[i] === 0;
        expect(Object.is(got[i], x[i]) || flushed, `[${i}] ${got[i]} vs ${x[i]}`).toBe(true);
      }
      be.free(b);
    }
  });

  it('handles zero-size arrays without calling gpu.js', async () => {
    const e = up(new Float32Array(0));
    expect(e.size).toBe(0);
    expect(be.read(e).length).toBe(0);
    expect((await be.readAsync(e)).length).toBe(0);
    expect(
      be.read(be.map(BINARY.add, [e, up(new Float32Array([1, 2, 3]))], [[0, 3], [3]], [0, 3], [])).length,
    ).toBe(0);
    expect(be.read(be.reduce('sum', e, [0, 4], [1])).length).toBe(0);
    expect(Array.from(be.read(be.reduce('sum', e, [3, 0], [1])))).toEqual([0, 0, 0]);
    expect(Array.from(be.read(be.reduce('max', e, [2, 0], [1])))).toEqual([-Infinity, -Infinity]);
    expect(Array.from(be.read(be.reduce('prod', e, [2, 0], [1])))).toEqual([1, 1]);
    expect(Array.from(be.read(be.matmul(e, e, 2, 0, 3, false, false)))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(be.read(be.matmul(e, up(new Float32Array(6)), 0, 2, 3, false, false)).length).toBe(0);
    expect(be.read(be.transpose(e, [0, 5], [1, 0])).length).toBe(0);
    expect(be.read(be.gather(up(new Float32Array(6)), [2, 3], e, 0, 1)).length).toBe(0);
    be.free(e);
  });

  const unaryNames = Object.keys(UNARY) as (keyof typeof UNARY)[];
  const gradNames = Object.keys(ACTIVATION_GRAD) as (keyof typeof ACTIVATION_GRAD)[];
  it.each(unaryNames)('unary %s matches float64 and the CPU backend', (op) => {
    const shape = [5, 7, 3];
    const x = domainData(op, sizeOf(shape), 11, 0);
    const { got, cpu: c, out } = runMap(UNARY[op], [x], [shape], []);
    const want = map64(UNARY_REF[op], [x], [shape], out, []);
    // rtol 1e-5 / atol 1e-6; the erf-based ops carry the 1.5e-7 Abramowitz-Stegun error, the
    // exponentials a few float32 ulps of their (large) results.
    expectClose(got, want, 1e-6, 1e-5, `${op} vs float64`);
    expectClose(got, c, 1e-6, 1e-5, `${op} vs cpu`);
  });

  // NaN, infinities, signed zeros and overflow: every element-wise op must give what the CPU
  // backend gives (NaN matches NaN). GLSL's min/max/pow do not propagate NaN and pow(0, y < 0) is
  // 0 on llvmpipe: the specs in elementwise.ts spell those cases out, so no op may deviate here.
  // sin/cos of |x| = 1e30 (GPU range reduction) are not compared.
  const KNOWN_NAN_LOSS = new Set<string>();
  it('element-wise ops on NaN, infinities, zeros and huge values agree with the CPU backend', () => {
    const S = [
      Number.NaN,
      Infinity,
      -Infinity,
      0,
      -0,
      -1,
      1,
      -2,
      2,
      0.5,
      -0.5,
      3,
      1e-30,
      1e30,
      -1e30,
      88.5,
      -88.5,
      100,
    ];
    const small = [Number.NaN, Infinity, -Infinity, 0, -0, -1, 1, -2, 2, 0.5, -0.5, 3, 1e-30];
    const pairs = (v: number[]) => [v.flatMap((a) => v.map(() => a)), v.flatMap(() => v)];
    const deviating = new Set<string>();
    const check = (name: string, spec: ElementwiseSpec, xs: number[][], params: number[]) => {
      const f = xs.map((x) => new Float32Array(x));
      const { got, cpu: c } = runMap(
        spec,
        f,
        f.map((x) => [x.length]),
        params,
      );
      if (closeTo(got, c, 1e-6, 1e-5) !== null) {
        if (KNOWN_NAN_LOSS.has(name)) deviating.add(name);
        else expectClose(got, c, 1e-6, 1e-5, `${name}${JSON.stringify(params)} on special values vs cpu`);
      }
    };
    for (const op of unaryNames) check(op, UNARY[op], [op === 'sin' || op === 'cos' ? small : S], []);
    for (const op of Object.keys(SCALAR) as (keyof typeof SCALAR)[]) {
      const ps =
        op === 'powScalar'
          ? [[0], [2], [3], [-1], [0.5], [-2], [Infinity]]
          : op === 'clamp' || op === 'affine'
            ? [[-1, 2]]
            : [[0.5]];
      for (const p of ps) check(op, SCALAR[op], [S], p);
    }
    for (const op of Object.keys(BINARY) as (keyof typeof BINARY)[]) check(op, BINARY[op], pairs(S), []);
    // Activation gradients take activation inputs/outputs: no 1e30 (tanhGrad's y*y overflows float32).
    for (const op of gradNames)
      check(op, ACTIVATION_GRAD[op], pairs(small), op === 'leakyReluGrad' ? [0.1] : []);
    if (deviating.size > 0)
      console.info(`[gpujs ${mode}] known NaN-propagation deviations: ${[...deviating].join(', ')}`);
  });

  const scalarCases: [keyof typeof SCALAR, number[]][] = [
    ['addScalar', [0.3]],
    ['mulScalar', [-2.5]],
    ['powScalar', [2]],
    ['powScalar', [3]],
    ['powScalar', [0.5]],
    ['powScalar', [-1]],
    ['clamp', [-0.5, 1.25]],
    ['leakyRelu', [0.01]],
    ['affine', [1.5, -0.25]],
  ];
  it.each(scalarCases)('scalar %s %j matches float64 and the CPU backend', (op, params) => {
    const shape = [4, 9];
    const x = domainData(op, sizeOf(shape), 5, 0);
    const { got, cpu: c, out } = runMap(SCALAR[op], [x], [shape], params);
    const want = map64(SCALAR_REF[op], [x], [shape], out, params);
    expectClose(got, want, 1e-6, 1e-5, `${op}${JSON.stringify(params)} vs float64`);
    expectClose(got, c, 1e-6, 1e-5, `${op} vs cpu`);
  });

  it('scalar parameters are kernel arguments: a new value does not recompile', () => {
    const x = up(testData(100, 9));
    const r1 = be.map(SCALAR.mulScalar, [x], [[100]], [100], [0.1]);
    const before = be.stats.compiles;
    for (const lr of [0.2, 0.05, 1e-3, 3]) {
      const r = be.map(SCALAR.mulScalar, [x], [[100]], [100], [lr]);
      expect(be.read(r)[7]).toBeCloseTo(Math.fround(be.read(x)[7] * Math.fround(lr)), 5);
      be.free(r);
    }
    expect(be.stats.compiles).toBe(before);
    expect(be.stats.fallbacks).toEqual([]);
    be.free(r1);
    be.free(x);
  });

  const binaryNames = Object.keys(BINARY) as (keyof typeof BINARY)[];
  const shapePairs: [Shape, Shape][] = [
    [
      [2, 3, 4],
      [3, 1],
    ],
    [[5], []],
    [[], []],
    [
      [4, 1],
      [1, 5],
    ],
    [
      [2, 1, 3],
      [4, 1],
    ],
  ];
  it.each(binaryNames)('binary %s with broadcasting matches float64 and the CPU backend', (op) => {
    for (const [sa, sb] of shapePairs) {
      const a = domainData(op, sizeOf(sa), 3, 0);
      const b = domainData(op, sizeOf(sb), 3, 1);
      const { got, cpu: c, out } = runMap(BINARY[op], [a, b], [sa, sb], []);
      const want = map64(BINARY_REF[op], [a, b], [sa, sb], out, []);
      expectClose(got, want, 1e-6, 1e-5, `${op} ${JSON.stringify([sa, sb])} vs float64`);
      expectClose(got, c, 1e-6, 1e-5, `${op} vs cpu`);
    }
  });

  it('binary add on 2-D-packed textures (more than 65536 elements) and a row broadcast', () => {
    for (const [sa, sb] of [
      [[70001], [70001]],
      [[300, 301], [301]],
    ] as [Shape, Shape][]) {
      const a = testData(sizeOf(sa), 21);
      const b = testData(sizeOf(sb), 22);
      const { got, out } = runMap(BINARY.add, [a, b], [sa, sb], []);
      expectClose(
        got,
        map64(BINARY_REF.add, [a, b], [sa, sb], out, []),
        1e-6,
        1e-6,
        `add ${JSON.stringify(sa)}`,
      );
    }
  });

  it.each(gradNames)('activation gradient %s matches float64 and the CPU backend', (op) => {
    const shape = [6, 5];
    const params = op === 'leakyReluGrad' ? [0.02] : [];
    const x = domainData(op, 30, 17, 0);
    const dy = domainData(op, 30, 17, 1);
    const { got, cpu: c, out } = runMap(ACTIVATION_GRAD[op], [x, dy], [shape, shape], params);
    const want = map64(GRAD_REF[op], [x, dy], [shape, shape], out, params);
    expectClose(got, want, 1e-6, 1e-5, `${op} vs float64`);
    expectClose(got, c, 1e-6, 1e-5, `${op} vs cpu`);
  });

  it('where (three broadcast inputs)', () => {
    const shapes: Shape[] = [
      [3, 1],
      [1, 4],
      [3, 4],
    ];
    const cond = new Float32Array([1, 0, 1]);
    const a = testData(4, 31);
    const b = testData(12, 32);
    const { got, cpu: c, out } = runMap(WHERE, [cond, a, b], shapes, []);
    expectClose(
      got,
      map64((p, q, r) => (p !== 0 ? q : r), [cond, a, b], shapes, out, []),
      0,
      0,
      'where',
    );
    expectClose(got, c, 0, 0, 'where vs cpu');
  });

  // Reductions. Sums: |err| <= 1e-6 + 1e-5 * sum|x| over the reduced elements (float32
  // accumulation in stages of ~sqrt(n)); prod: rtol 1e-5 + 6e-8 * n (one rounding per factor);
  // max/min/argmax/argmin: exact; logsumexp: atol 1e-5, rtol 1e-5.
  const reduceCases: [Shape, number[]][] = [
    [[2, 3, 4], [1]],
    [
      [2, 3, 4],
      [0, 2],
    ],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
    [[5, 7, 3], [1]],
    [[4, 1, 6], [1]],
    [
      [3, 2, 5, 2],
      [1, 3],
    ],
    [[60000], [0]],
    [[3, 23000], [1]],
    [[23000, 3], [0]],
    [
      [70, 50, 20],
      [0, 2],
    ],
  ];
  const reduceOps: ReduceOp[] = ['sum', 'max', 'min', 'prod', 'argmax', 'argmin', 'logsumexp'];
  it.each(reduceOps)(
    'reduce %s over middle, multiple and long axes matches float64 and the CPU backend',
    (op) => {
      for (const [shape, axes] of reduceCases) {
        const n = sizeOf(shape);
        let x = testData(n, 41 + n, -3, 3);
        if (op === 'prod') x = testData(n, 41 + n, 0.9, 1.1);
        if (op === 'argmax' || op === 'argmin') x = x.map((v) => Math.round(v * 2) / 2); // ties: first index wins
        const xb = up(x);
        const g = be.reduce(op, xb, shape, axes);
        const got = be.read(g);
        be.free(g);
        be.free(xb);
        const c = cpu.read(cpu.reduce(op, cpu.upload(x), shape, axes));
        const want = reduce64(op, x, shape, axes);
        const what = `${op} ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`;
        const r = axes.reduce((p, d) => p * shape[d], 1);
        if (op === 'sum') {
          const scale = reduce64('sum', x.map(Math.abs), shape, axes);
          expectWithin(got, want, scale, 1e-6, 1e-5, what);
          expectWithin(got, Array.from(c), scale, 1e-6, 1e-5, `${what} vs cpu`);
        } else if (op === 'prod') {
          expectClose(got, want, 1e-6, 1e-5 + 6e-8 * r, what);
          expectClose(got, c, 1e-6, 1e-5 + 6e-8 * r, `${what} vs cpu`);
        } else if (op === 'logsumexp') {
          expectClose(got, want, 1e-5, 1e-5, what);
          expectClose(got, c, 1e-5, 1e-5, `${what} vs cpu`);
        } else {
          expectClose(got, want, 0, 0, what);
          expectClose(got, c, 0, 0, `${what} vs cpu`);
        }
      }
    },
  );

  it('reductions propagate NaN and handle infinities like the CPU backend', () => {
    const N = Number.NaN;
    const I = Infinity;
    const rows = [
      [1, N, 3, 2],
      [-I, -I, -I, -I],
      [I, 1, I, 0],
      [-I, 2, N, 2],
      [N, N, N, N],
      [0, -0, 0, 5],
    ];
    const x = new Float32Array(rows.flat());
    const shape = [rows.length, 4];
    for (const op of reduceOps) {
      const got = be.read(be.reduce(op, up(x), shape, [1]));
      const c = cpu.read(cpu.reduce(op, cpu.upload(x), shape, [1]));
      expectClose(got, c, 0, 0, `${op} on special values vs cpu`);
    }
    // Long rows go through several stages: a NaN in a late chunk, a max in the last chunk.
    const long = testData(50000, 77);
    long[41234] = 9;
    long[49999] = 9;
    long[123] = -9;
    const lb = up(long);
    expect(Array.from(be.read(be.reduce('argmax', lb, [50000], [0])))).toEqual([41234]);
    expect(Array.from(be.read(be.reduce('argmin', lb, [50000], [0])))).toEqual([123]);
    expect(Array.from(be.read(be.reduce('max', lb, [50000], [0])))).toEqual([9]);
    long[45000] = N;
    const lb2 = up(long);
    expect(Number.isNaN(be.read(be.reduce('max', lb2, [50000], [0]))[0])).toBe(true);
    expect(Number.isNaN(be.read(be.reduce('logsumexp', lb2, [50000], [0]))[0])).toBe(true);
    // argmax and argmin point at the NaN (PyTorch), never past it
    expect(Array.from(be.read(be.reduce('argmax', lb2, [50000], [0])))).toEqual([45000]);
    expect(Array.from(be.read(be.reduce('argmin', lb2, [50000], [0])))).toEqual([45000]);
    // 1.1M elements: three stages (1049 chunks of 1049, then 33 of 32, then 1).
    const huge = testData(1_100_000, 78);
    huge[1_000_003] = 4;
    const hb = up(huge);
    const sum = huge.reduce((p, q) => p + q, 0);
    const abs = huge.reduce((p, q) => p + Math.abs(q), 0);
    expect(Math.abs(be.read(be.reduce('sum', hb, [1_100_000], [0]))[0] - sum)).toBeLessThanOrEqual(
      1e-5 * abs,
    );
    expect(Array.from(be.read(be.reduce('argmax', hb, [1_100_000], [0])))).toEqual([1_000_003]);
    for (const b of [lb, lb2, hb]) be.free(b);
  });

  // matmul: |C - C64| <= 1e-6 + 1e-5 * sum_p |A_ip B_pj|.
  const matmulSizes: [number, number, number][] = [
    [7, 13, 5],
    [1, 1, 1],
    [1, 9, 1],
    [33, 1, 17],
    [16, 1025, 3],
    [2, 20011, 3],
  ];
  const flags: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];
  it.each(flags)('matmul transA=%s transB=%s matches float64 and the CPU backend', (tA, tB) => {
    for (const [m, k, n] of matmulSizes) {
      const a = testData(m * k, m + 100 * k);
      const b = testData(k * n, n + 7 * k);
      const ab = up(a);
      const bb = up(b);
      const g = be.matmul(ab, bb, m, k, n, tA, tB);
      const got = be.read(g);
      for (const x of [ab, bb, g]) be.free(x);
      const c = cpu.read(cpu.matmul(cpu.upload(a), cpu.upload(b), m, k, n, tA, tB));
      const { out: want, bound: s } = matmul64(a, b, m, k, n, tA, tB);
      const what = `matmul ${m}x${k}x${n} tA=${tA} tB=${tB}`;
      expectWithin(got, want, s, 1e-6, 1e-5, what);
      expectWithin(got, Array.from(c), s, 1e-6, 1e-5, `${what} vs cpu`);
    }
  });

  it('matmul with an output above 65536 elements (2-D texture packing)', () => {
    const [m, k, n] = [300, 7, 250];
    const a = testData(m * k, 1);
    const b = testData(k * n, 2);
    const got = be.read(be.matmul(up(a), up(b), m, k, n, false, false));
    const { out: c, bound: s } = matmul64(a, b, m, k, n, false, false);
    expectWithin(got, c, s, 1e-6, 1e-5, 'matmul 300x7x250');
  });

  it('transpose matches float64 and the CPU backend', () => {
    const cases: [Shape, number[]][] = [
      [
        [2, 3, 4],
        [2, 0, 1],
      ],
      [
        [2, 3, 4],
        [1, 0, 2],
      ],
      [
        [2, 3, 4],
        [0, 1, 2],
      ],
      [
        [5, 1, 7],
        [2, 1, 0],
      ],
      [
        [300, 250],
        [1, 0],
      ],
      [
        [2, 3, 4, 5],
        [3, 1, 2, 0],
      ],
      [[6], [0]],
      [[], []],
    ];
    for (const [shape, perm] of cases) {
      const x = testData(sizeOf(shape), 61);
      const got = be.read(be.transpose(up(x), shape, perm));
      expectClose(
        got,
        transpose64(x, shape, perm),
        0,
        0,
        `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`,
      );
      expectClose(got, cpu.read(cpu.transpose(cpu.upload(x), shape, perm)), 0, 0, 'transpose vs cpu');
    }
  });

  it('gather along every axis matches the CPU backend', () => {
    const cases: [Shape, number, number[]][] = [
      [[5, 4], 0, [4, 0, 0, 2]],
      [[5, 4], 1, [3, 1]],
      [[2, 5, 3], 1, [0, 4, 4, 1, 2]],
      [[7], 0, [6, 5, 0]],
      [[70000, 2], 0, [69999, 0, 12345]],
      [[3, 70000], 1, [69999, 1]],
    ];
    for (const [shape, axis, idx] of cases) {
      const x = testData(sizeOf(shape), 71);
      const ib = new Float32Array(idx);
      const got = be.read(be.gather(up(x), shape, up(ib), idx.length, axis));
      const want = cpu.read(cpu.gather(cpu.upload(x), shape, cpu.upload(ib), idx.length, axis));
      expectClose(got, want, 0, 0, `gather ${JSON.stringify(shape)} axis ${axis}`);
    }
  });

  it('throws BackendError naming the limit and the size above maxKernelElements (or the tiled limit)', () => {
    const max = be.info.maxKernelElements!;
    const one = up(new Float32Array([1]));
    // ops that do not tile (tiles.test.ts tests the ones that do)
    expect(() => be.reduce('sum', one, [max + 1], [0])).toThrow(BackendError);
    expect(() => be.reduce('sum', one, [max + 1], [0])).toThrow(
      new RegExp(`${max + 1}.*maxKernelElements = ${max}`),
    );
    expect(() => be.transpose(one, [max + 1, 1], [1, 0])).toThrow(/maxKernelElements/);
    // maps and matmuls tile, up to 2^31 - 1 elements and 2^23 output rows
    expect(() => be.map(UNARY.neg, [one], [[1]], [2 ** 31], [])).toThrow(BackendError);
    expect(() => be.map(UNARY.neg, [one], [[1]], [2 ** 31], [])).toThrow(
      /2147483648 elements exceed .*2\^31 - 1/,
    );
    expect(() => be.matmul(one, one, 2 ** 23, 1, 2, false, false)).toThrow(/8388608 output rows exceed/);
  });

  it('rejects freed buffers and keeps working after many frees', () => {
    const x = up(testData(10, 1));
    be.free(x);
    be.free(x);
    expect(() => be.read(x)).toThrow(BackendError);
    for (let step = 0; step < 50; step++) {
      const a = up(testData(256, step));
      const b = be.map(SCALAR.affine, [a], [[256]], [256], [0.5, step]);
      const s = be.reduce('sum', b, [256], [0]);
      expect(be.read(s)[0]).toBeCloseTo(
        Array.from(be.read(a)).reduce((p, q) => p + 0.5 * q + step, 0),
        2,
      );
      for (const t of [a, b, s]) be.free(t);
    }
  });

  it('a kernel fed its own output (GL texture recycling) keeps every result intact', () => {
    const x0 = testData(70, 5);
    const affine = (v: number, steps: number) => {
      let r = v;
      for (let s = 0; s < steps; s++) r = Math.fround(Math.fround(2 * r) + 1);
      return r;
    };
    let x = up(x0);
    const kept: [BackendBuffer, number][] = [];
    for (let step = 0; step < 6; step++) {
      const y = be.map(SCALAR.affine, [x], [[70]], [70], [2, 1]); // the same kernel every step
      if (step % 2 === 0)
        kept.push([x, step]); // keep every other input alive, free the rest
      else be.free(x);
      x = y;
    }
    expectClose(
      be.read(x),
      Array.from(x0, (v) => affine(v, 6)),
      1e-5,
      1e-6,
      'six chained affine steps',
    );
    // Results kept from earlier steps were not overwritten by later runs of the same kernel.
    for (const [buf, steps] of kept) {
      expectClose(
        be.read(buf),
        Array.from(x0, (v) => affine(v, steps)),
        1e-5,
        1e-6,
        `after ${steps} steps`,
      );
      be.free(buf);
    }
    be.free(x);
    const n = 9;
    const a0 = testData(n * n, 3);
    const a = up(a0);
    const c = be.matmul(a, a, n, n, n, false, false);
    const c1 = be.read(c);
    const d = be.matmul(c, a, n, n, n, false, false); // the same kernel on its own output
    const { out: want, bound: s } = matmul64(c1, a0, n, n, n, false, false);
    expectWithin(be.read(d), want, s, 1e-6, 1e-5, 'matmul of its own output');
    expectClose(be.read(c), c1, 0, 0, 'first matmul result after the second run');
    for (const t of [a, c, d]) be.free(t);
  });

  it('a padded window keeps the sign of a zero pad when the same kernel ran with the other sign', () => {
    // Device.concat pads with -0; gpu.js skips re-uploading an argument that === its last value
    const x = up(new Float32Array([1, 2, 3]));
    const spec = (padValue: number) =>
      planWindow('window', [3], { outShape: [5], axes: [0], steps: [1], offsets: [-1], padValue });
    for (const pad of [0, -0, 0, -0]) {
      const got = be.read(be.window(x, spec(pad)));
      expect(
        Object.is(got[0], pad) && Object.is(got[4], pad),
        `pad ${Object.is(pad, -0) ? '-0' : '0'}: ${got}`,
      ).toBe(true);
      expect(Array.from(got.subarray(1, 4))).toEqual([1, 2, 3]);
    }
    be.free(x);
  });

  it('a scalar parameter of -0 after 0 (and the reverse) reaches a gpu.js kernel with its sign', () => {
    // affine p0 a + p1 at a = -0, p0 = 1: -0 + p1 is -0 only for p1 = -0
    const x = up(new Float32Array([-0, -0, -0]));
    be.directMap = false; // the gpu.js kernel (the direct shader sets its uniforms every draw)
    try {
      for (const p1 of [0, -0, 0, -0]) {
        const got = be.read(be.map(SCALAR.affine, [x], [[3]], [3], [1, p1]));
        expect(Object.is(got[0], p1), `p1 ${Object.is(p1, -0) ? '-0' : '0'}: ${got[0]}`).toBe(true);
      }
    } finally {
      be.directMap = true;
    }
    be.free(x);
  });

  it('measures matmul throughput at n = 512 (reported, not asserted)', () => {
    const n = 512;
    const a = up(testData(n * n, 1));
    const b = up(testData(n * n, 2));
    const w = be.matmul(a, b, n, n, n, false, false); // compile + warm up
    be.read(w);
    be.free(w);
    const reps = 3;
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      const c = be.matmul(a, b, n, n, n, false, false);
      be.read(c); // include the read-back so GL work is finished
      be.free(c);
    }
    const ms = (performance.now() - t0) / reps;
    const gflops = (2 * n ** 3) / (ms * 1e6);
    console.info(
      `[gpujs ${mode}] matmul ${n}: ${ms.toFixed(1)} ms, ${gflops.toFixed(2)} GFLOP/s (with read-back); ` +
        `kernels compiled ${be.stats.compiles}, first calls ${be.stats.compileMs.toFixed(0)} ms total, ` +
        `slowest ${be.stats.maxCompileMs.toFixed(0)} ms`,
    );
    expect(gflops).toBeGreaterThan(0);
    expect(be.stats.fallbacks).toEqual([]);
    be.free(a);
    be.free(b);
  });
});
