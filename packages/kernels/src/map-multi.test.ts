import { afterAll, describe, expect, it } from 'vitest';
import type { BackendBuffer, ElementwiseSpec, KernelBackend } from './backend.js';
import { CpuBackend } from './backends/cpu.js';
import { Device } from './device.js';
import { DisposedError, ShapeError, ValueError } from './errors.js';
import { backendsToTest, createDevice } from './select.js';
import type { Shape } from './shape.js';
import { defineKernel } from './spec/define.js';
import { float32Bits, lcgValues } from './testing/reference.js';

// Device.mapMulti: every output equals Device.map of its spec bit for bit, on every backend, for
// fused specs (shared stmts), specs the wasm JIT does not compile (Math.sin: JavaScript), specs with
// different stmts (one map each), broadcast layouts of rank 1 to 3 and empty arrays; cpu and wasm
// fuse shared stmts into one launch, gl too where every input has the output's length; bad calls
// are typed errors that leave nothing allocated.

/** Adam's update of one parameter as three outputs sharing the moment temporaries (a = g, b = m, c = v, d = p). */
const ADAM_STMTS = 'let t_m = Math.fround(p0 * b + p1 * a); let t_v = Math.fround(p2 * c + p3 * (a * a));';
const adamSpec = (name: string, expr: string): ElementwiseSpec =>
  defineKernel({ name: `test.adam.${name}`, arity: 4, params: 6, stmts: ADAM_STMTS, expr });
const ADAM = [
  adamSpec('m', 't_m'),
  adamSpec('v', 't_v'),
  adamSpec('p', 'd + p4 * (t_m / (Math.sqrt(t_v) / p5 + 1e-8))'),
];
const ADAM_PARAMS = [0.9, 0.1, 0.999, 0.001, -0.001 / 0.1, Math.sqrt(0.001)];

/** The same three without the shared temporaries: each recomputes what it needs (unfused reference). */
const ADAM_UNFUSED = [
  defineKernel({ name: 'test.adam1.m', arity: 4, params: 6, expr: 'p0 * b + p1 * a' }),
  defineKernel({ name: 'test.adam1.v', arity: 4, params: 6, expr: 'p2 * c + p3 * (a * a)' }),
];

describe.each(backendsToTest())('Device.mapMulti on %s', (name) => {
  const d = createDevice({ backend: name, threads: 1 });
  afterAll(() => d.destroy());
  // gl fuses same-length inputs (one draw into several render targets), as every test here but the broadcasting one uses
  const fuses = name === 'cpu' || name === 'wasm' || name === 'gl';

  it('writes Adam state and parameter in one pass, equal to one map per spec bit for bit', () => {
    for (const n of [1, 3, 4, 7, 64, 1001]) {
      const g = d.array(lcgValues(n, 1, 0.5), [n]);
      const m = d.array(lcgValues(n, 2, 0.1), [n]);
      const v = d.array(lcgValues(n, 3, 0.01).map(Math.abs), [n]);
      const p = d.array(lcgValues(n, 4), [n]);
      const before = d.memory().kernels;
      const outs = d.mapMulti(ADAM, [g, m, v, p], ADAM_PARAMS);
      expect(d.memory().kernels - before).toBe(fuses ? 1 : 3);
      expect(outs.map((o) => o.shape)).toEqual([[n], [n], [n]]);
      for (let k = 0; k < 3; k++) {
        const one = d.map(ADAM[k], [g, m, v, p], ADAM_PARAMS);
        expect(float32Bits(outs[k].read())).toEqual(float32Bits(one.read()));
        one.dispose();
      }
      // and the moments equal the kernels that never shared a temporary
      for (let k = 0; k < 2; k++) {
        const one = d.map(ADAM_UNFUSED[k], [g, m, v, p], ADAM_PARAMS);
        expect(float32Bits(outs[k].read())).toEqual(float32Bits(one.read()));
        one.dispose();
      }
      for (const x of [g, m, v, p, ...outs]) x.dispose();
    }
  });

  it('computes the documented values (float64 reference within float32 rounding)', () => {
    const g = d.array([0.5, -2, 0, 1e-3], [4]);
    const m = d.array([0.1, 0.2, -0.3, 0], [4]);
    const v = d.array([0.01, 0, 0.5, 1e-6], [4]);
    const p = d.array([1, -1, 2, 0], [4]);
    const [m2, v2, p2] = d.mapMulti(ADAM, [g, m, v, p], ADAM_PARAMS);
    const G = [0.5, -2, 0, 1e-3];
    const M = [0.1, 0.2, -0.3, 0];
    const V = [0.01, 0, 0.5, 1e-6];
    const P = [1, -1, 2, 0];
    const [b1, c1, b2, c2, s, s2] = ADAM_PARAMS;
    const wantM = G.map((gi, i) => b1 * M[i] + c1 * gi);
    const wantV = G.map((gi, i) => b2 * V[i] + c2 * gi * gi);
    const wantP = P.map((pi, i) => pi + s * (wantM[i] / (Math.sqrt(wantV[i]) / s2 + 1e-8)));
    const close = (got: Float32Array, want: number[]) =>
      Array.from(got).forEach((x, i) => {
        expect(Math.abs(x - want[i])).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]) + 1e-9);
      });
    close(m2.read(), wantM);
    close(v2.read(), wantV);
    close(p2.read(), wantP);
    for (const x of [g, m, v, p, m2, v2, p2]) x.dispose();
  });

  it('broadcasts like map (rank 1 to 3, scalars, size-1 axes) and handles empty arrays', () => {
    const specs = [
      defineKernel({
        name: 'test.bc.sum',
        arity: 3,
        params: 1,
        stmts: 'let t_s = a + b;',
        expr: 't_s * c + p0',
      }),
      defineKernel({
        name: 'test.bc.max',
        arity: 3,
        params: 1,
        stmts: 'let t_s = a + b;',
        expr: 'Math.max(t_s, c)',
      }),
    ];
    const cases: [Shape, Shape, Shape][] = [
      [[5, 6], [6], []],
      [
        [5, 1],
        [1, 6],
        [5, 6],
      ],
      [
        [2, 3, 4],
        [3, 1],
        [1, 1, 4],
      ],
      [[4, 2, 3, 5], [1, 2, 1, 5], [5]],
      [[0, 3], [3], [1]],
    ];
    let seed = 10;
    for (const [sa, sb, sc] of cases) {
      const mk = (s: Shape) =>
        d.array(
          lcgValues(
            s.reduce((x, y) => x * y, 1),
            seed++,
          ),
          s,
        );
      const [a, b, c] = [mk(sa), mk(sb), mk(sc)];
      const outs = d.mapMulti(specs, [a, b, c], [0.25]);
      for (let k = 0; k < specs.length; k++) {
        const one = d.map(specs[k], [a, b, c], [0.25]);
        expect(outs[k].shape).toEqual(one.shape);
        expect(float32Bits(outs[k].read())).toEqual(float32Bits(one.read()));
        one.dispose();
      }
      for (const x of [a, b, c, ...outs]) x.dispose();
    }
  });

  it('runs specs the WebAssembly JIT does not compile, and specs with different stmts, one map each', () => {
    const x = d.array(lcgValues(37, 5, 3), [37]);
    const y = d.array(lcgValues(37, 6, 3), [37]);
    const trig = [
      defineKernel({
        name: 'test.trig.s',
        arity: 2,
        params: 0,
        stmts: 'let t_u = a * b;',
        expr: 'Math.sin(t_u)',
      }),
      defineKernel({
        name: 'test.trig.c',
        arity: 2,
        params: 0,
        stmts: 'let t_u = a * b;',
        expr: 'Math.cos(t_u)',
      }),
    ];
    const mixed = [
      defineKernel({
        name: 'test.mixed.a',
        arity: 2,
        params: 0,
        stmts: 'let t_u = a - b;',
        expr: 't_u * t_u',
      }),
      defineKernel({ name: 'test.mixed.b', arity: 2, params: 0, expr: 'a / b' }),
    ];
    for (const specs of [trig, mixed]) {
      const before = d.memory().kernels;
      const outs = d.mapMulti(specs, [x, y]);
      const launches = d.memory().kernels - before;
      expect(launches).toBe(fuses && specs === trig ? 1 : 2);
      for (let k = 0; k < 2; k++) {
        const one = d.map(specs[k], [x, y]);
        expect(float32Bits(outs[k].read())).toEqual(float32Bits(one.read()));
        one.dispose();
      }
      for (const o of outs) o.dispose();
    }
    x.dispose();
    y.dispose();
  });

  it('refuses bad calls with typed errors and allocates nothing', () => {
    const a = d.array([1, 2, 3], [3]);
    const b = d.array([1, 2], [2]);
    const live = d.memory().arrays;
    const one = defineKernel({ name: 'test.e1', arity: 1, params: 0, expr: 'a' });
    const two = defineKernel({ name: 'test.e2', arity: 2, params: 0, expr: 'a + b' });
    const withParam = defineKernel({ name: 'test.e3', arity: 1, params: 1, expr: 'a * p0' });
    expect(() => d.mapMulti([], [a])).toThrow(ValueError);
    expect(() => d.mapMulti([], [a])).toThrow(/needs 1 to 8 kernel specs, got 0/);
    expect(() => d.mapMulti(Array<ElementwiseSpec>(9).fill(one), [a])).toThrow(/got 9/);
    expect(() => d.mapMulti([one, two], [a])).toThrow(ShapeError); // 'test.e2' expects 2 inputs
    expect(() => d.mapMulti([one, withParam], [a])).toThrow(/expects 1 scalar parameters, got 0/);
    expect(() => d.mapMulti([withParam, one], [a], [2])).toThrow(/expects 0 scalar parameters, got 1/);
    expect(() => d.mapMulti([two, two], [a, b])).toThrow(ShapeError);
    expect(() => d.mapMulti([one, one], [a], [], [2, 4])).toThrow(ShapeError);
    expect(() => d.mapMulti([withParam], [a], [Number.NaN])).toThrow(/parameter NaN is not a number/);
    const gone = d.array([1], [1]);
    gone.dispose();
    expect(() => d.mapMulti([one, one], [gone])).toThrow(DisposedError);
    expect(d.memory().arrays).toBe(live);
    a.dispose();
    b.dispose();
  });
});

describe('Device.mapMulti when a later spec fails', () => {
  it('frees the outputs written so far and rethrows (one map each)', () => {
    // a backend without mapMulti whose map fails on the spec named 'test.fail'
    class Failing extends CpuBackend {
      override map(
        spec: ElementwiseSpec,
        inputs: readonly BackendBuffer[],
        shapes: readonly Shape[],
        out: Shape,
        params: readonly number[],
      ): BackendBuffer {
        if (spec.name === 'test.fail') throw new Error('device lost');
        return super.map(spec, inputs, shapes, out, params);
      }
    }
    const backend: KernelBackend = new Failing();
    (backend as { mapMulti?: unknown }).mapMulti = undefined;
    const d = new Device(backend, 'test');
    const x = d.array([1, 2, 3], [3]);
    const ok = defineKernel({ name: 'test.ok', arity: 1, params: 0, expr: 'a + 1.0' });
    const bad = defineKernel({ name: 'test.fail', arity: 1, params: 0, expr: 'a' });
    const live = d.memory().arrays;
    expect(() => d.mapMulti([ok, ok, bad], [x])).toThrow('device lost');
    expect(d.memory().arrays).toBe(live);
    const [y] = d.mapMulti([ok], [x]);
    expect(Array.from(y.read())).toEqual([2, 3, 4]);
    d.destroy();
  });
});
