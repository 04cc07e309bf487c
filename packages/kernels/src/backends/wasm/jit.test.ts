import { afterAll, describe, expect, it } from 'vitest';
import type { ElementwiseSpec } from '../../backend.js';
import { planBroadcast } from '../../codegen.js';
import { ACTIVATION_GRAD, BINARY, SCALAR, UNARY, WHERE } from '../../elementwise.js';
import { ValueError } from '../../errors.js';
import { broadcastShapes } from '../../shape.js';
import { defineKernel } from '../../spec/define.js';
import { testData } from '../../testing/reference.js';
import { CpuBackend } from '../cpu.js';
import { compileElementwise } from './jit.js';
import { probeWasm, WasmBackend } from './wasm.js';

// The element-wise JIT: every spec of the shared table runs on the WebAssembly backend (compiled
// to SIMD where the JIT can, JavaScript otherwise) and is compared with the plain-JS backend on the
// same float32 inputs, special values included. The JIT rounds to float32 after every operation
// where JavaScript rounds once at the end, so values may differ by a few float32 ulps:
//   |wasm - cpu| <= 1e-6 + 4e-6 |cpu|, and NaN exactly where the CPU backend has NaN.

const SPECIAL = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  -0,
  1,
  -1,
  0.5,
  -2.5,
  3e38,
  -3e38,
  1e-40,
];

function inputs(n: number, seed: number): Float32Array {
  const x = testData(n, seed, -4, 4);
  SPECIAL.forEach((v, i) => {
    if (i * 7 < n) x[i * 7] = v;
  });
  return x;
}

function agree(w: Float32Array, c: Float32Array, label: string): void {
  for (let i = 0; i < c.length; i++) {
    const ok = Number.isNaN(c[i])
      ? Number.isNaN(w[i])
      : w[i] === c[i] || Math.abs(w[i] - c[i]) <= 1e-6 + 4e-6 * Math.abs(c[i]);
    if (!ok) expect.fail(`${label} element ${i}: wasm ${w[i]} vs cpu ${c[i]}`);
  }
}

describe.runIf(probeWasm().ok)('element-wise JIT', () => {
  const wasm = new WasmBackend({ threads: 1 });
  const cpu = new CpuBackend();
  afterAll(() => wasm.destroy());

  const run = (spec: ElementwiseSpec, shapes: number[][], params: number[], seed: number) => {
    const out = broadcastShapes('test', ...shapes);
    const xs = shapes.map((s, k) =>
      inputs(
        s.reduce((a, b) => a * b, 1),
        seed + k,
      ),
    );
    // equal operands on every fifth element, so comparisons meet their equality case in both the
    // vector steps and the scalar tail
    for (let k = 1; k < xs.length; k++)
      if (xs[k].length === xs[0].length) for (let i = 0; i < xs[0].length; i += 5) xs[k][i] = xs[0][i];
    const w = wasm.read(
      wasm.map(
        spec,
        xs.map((x) => wasm.upload(x)),
        shapes,
        out,
        params,
      ),
    );
    const c = cpu.read(
      cpu.map(
        spec,
        xs.map((x) => cpu.upload(x)),
        shapes,
        out,
        params,
      ),
    );
    return { w, c };
  };

  const table: [string, ElementwiseSpec, number[]][] = [
    ...Object.values(UNARY).map((s): [string, ElementwiseSpec, number[]] => [s.name, s, []]),
    ...Object.values(SCALAR).map((s): [string, ElementwiseSpec, number[]] => [
      s.name,
      s,
      s.params === 2 ? [-0.5, 2] : [1.5],
    ]),
    ...Object.values(BINARY).map((s): [string, ElementwiseSpec, number[]] => [s.name, s, []]),
    ...Object.values(ACTIVATION_GRAD).map((s): [string, ElementwiseSpec, number[]] => [
      s.name,
      s,
      s.params ? [0.1] : [],
    ]),
    ['where', WHERE, []],
  ];

  it.each(table)(
    '%s agrees with the CPU backend on full, row-broadcast and odd-length layouts',
    (name, spec, params) => {
      const layouts: number[][][] =
        spec.arity === 1
          ? [[[37, 13]], [[1000]]]
          : spec.arity === 2
            ? [
                [
                  [37, 13],
                  [37, 13],
                ],
                [[37, 13], [13]],
                [
                  [37, 13],
                  [37, 1],
                ],
                [[1], [1003]],
              ]
            : [
                [
                  [9, 6],
                  [9, 6],
                  [9, 6],
                ],
                [[9, 6], [6], [9, 1]],
              ];
      for (const shapes of layouts) {
        const { w, c } = run(spec, shapes, params, 17);
        agree(w, c, `${name} ${JSON.stringify(shapes)}`);
      }
    },
  );

  it('compiles the arithmetic and exp-based specs to WebAssembly and leaves sin, pow, log(1 + x) to JavaScript', () => {
    const compiled = (s: ElementwiseSpec) => {
      const bytes = compileElementwise(s, planBroadcast(Array(s.arity).fill([8, 8]), [8, 8]), false);
      if (bytes) new WebAssembly.Module(bytes); // valid for the engine, not only produced
      return bytes !== null;
    };
    const yes = [UNARY.relu, UNARY.abs, UNARY.sign, UNARY.sqrt, UNARY.isFinite, SCALAR.clamp, SCALAR.affine];
    yes.push(BINARY.add, BINARY.maximum, BINARY.equal, ACTIVATION_GRAD.reluGrad, WHERE);
    yes.push(UNARY.exp, UNARY.tanh, UNARY.sigmoid, UNARY.gelu, ACTIVATION_GRAD.eluGrad);
    yes.push(UNARY.geluTanh, ACTIVATION_GRAD.geluTanhGrad, UNARY.log);
    for (const s of yes) expect(compiled(s), s.name).toBe(true);
    for (const s of [UNARY.softplus, UNARY.sin, SCALAR.powScalar, BINARY.pow])
      expect(compiled(s), s.name).toBe(false);
    const all = [
      ...Object.values(UNARY),
      ...Object.values(SCALAR),
      ...Object.values(BINARY),
      ...Object.values(ACTIVATION_GRAD),
    ];
    console.info(
      `[wasm jit] ${all.filter(compiled).length} of ${all.length} table specs compile to WebAssembly SIMD`,
    );
  });

  it('exp is within 2 float32 ulps of Math.exp, +Infinity above ln(FLT_MAX), NaN for NaN', () => {
    const n = 200_001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -87 + (176 * i) / (n - 1); // [-87, 89]
    const got = wasm.read(wasm.map(UNARY.exp, [wasm.upload(x)], [[n]], [n], []));
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.fround(Math.exp(x[i]));
      if (want === Number.POSITIVE_INFINITY) {
        expect(got[i]).toBe(Number.POSITIVE_INFINITY);
        continue;
      }
      if (want < 1.1754944e-38) {
        // below FLT_MIN: flushed to zero, as on GPUs (JavaScript gives a denormal)
        expect(got[i]).toBeLessThan(1.2e-38);
        continue;
      }
      const ulp = 2 ** (Math.floor(Math.log2(want)) - 23);
      worst = Math.max(worst, Math.abs(got[i] - want) / ulp);
    }
    expect(worst).toBeLessThanOrEqual(2);
    const special = [Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0, -0, -1000, 1000];
    const s2 = Array.from(
      wasm.read(wasm.map(UNARY.exp, [wasm.upload(Float32Array.from(special))], [[7]], [7], [])),
    );
    expect(s2[0]).toBeNaN();
    expect(s2.slice(1)).toEqual([0, Number.POSITIVE_INFINITY, 1, 1, 0, Number.POSITIVE_INFINITY]);
    expect(wasm.jitStats().wasm).toBeGreaterThan(0);
    console.info(`[wasm jit] exp on [-87, 89]: worst ${worst.toFixed(2)} ulp`);
  });

  it('compiles statements, logical operators, nested ternaries, Math.sign/min/max and constants', () => {
    const spec = defineKernel({
      name: 'mixed',
      arity: 2,
      params: 2,
      stmts: 'let t_s = Math.sign(a - b); const t_m = Math.max(Math.max(a, b), p0) * Math.PI;',
      expr: '!(a > b) && !(b > a) || a != a ? t_m : (t_s != 0.0 ? Math.min(Math.min(t_m, p1), b) : -t_s) + Math.fround(0.1)',
    });
    expect(compileElementwise(spec, planBroadcast([[5], [5]], [5]), true)).not.toBeNull();
    const { w, c } = run(
      spec,
      [
        [11, 5],
        [11, 5],
      ],
      [0.25, -1],
      3,
    );
    agree(w, c, 'mixed');
  });

  it('declines what it cannot compile instead of guessing, and rejects what is not a kernel', () => {
    const plan = planBroadcast([[4]], [4]);
    const spec = (expr: string, stmts?: string): ElementwiseSpec => ({
      name: 'x',
      arity: 1,
      params: 0,
      expr,
      stmts,
    });
    // valid kernels without an f32x4 instruction: JavaScript runs them
    expect(compileElementwise(spec('Math.log(1.0 + a)'), plan, false)).toBeNull();
    expect(compileElementwise(spec('Math.sin(a) + 1.0'), plan, false)).toBeNull();
    expect(compileElementwise(spec('t_p', 'let t_p = Math.pow(a, 2.0);'), plan, false)).toBeNull();
    // not kernels at all: the shared parser's errors, not a silent fallback
    expect(() => compileElementwise(spec('a % 2.0'), plan, false)).toThrow(/kernel 'x': operator '%'/);
    expect(() => compileElementwise(spec('a > 0.0'), plan, false)).toThrow(ValueError);
    expect(() => compileElementwise(spec('(a > 0.0) * 2.0'), plan, false)).toThrow(ValueError);
    expect(() => compileElementwise(spec('t_x', 'if (a > 0.0) { t_x = a; }'), plan, false)).toThrow(
      ValueError,
    );
    expect(() => compileElementwise(spec('q + a'), plan, false)).toThrow(
      /unknown identifier 'q' at column 1 of expr/,
    );
    // three collapsed dimensions (an input broadcast in the middle) run as JavaScript
    const rank3 = planBroadcast(
      [
        [3, 1, 5],
        [3, 4, 5],
      ],
      [3, 4, 5],
    );
    expect(compileElementwise(BINARY.add, rank3, false)).toBeNull();
  });

  it('a layout the JIT declines still gives the right values (JavaScript fallback)', () => {
    const { w, c } = run(
      BINARY.mul,
      [
        [3, 1, 5],
        [3, 4, 5],
      ],
      [],
      5,
    );
    agree(w, c, 'rank-3 fallback');
    expect(wasm.jitStats().javascript).toBeGreaterThan(0);
    expect(wasm.jitStats().wasm).toBeGreaterThan(20);
  });
});
