import { afterAll, describe, expect, it } from 'vitest';
import type { LinearGradKernel, LinearGradOptions, LinearGrads } from './device.js';
import { DeviceArray } from './device.js';
import { ACTIVATION_GRAD, UNARY } from './elementwise.js';
import { DisposedError, ShapeError, ValueError } from './errors.js';
import { GpuJsBackend } from './gl/backend.js';
import { profileGl } from './gl/profile-device.js';
import { backendsToTest, createDevice } from './select.js';
import { defineKernel } from './spec/define.js';
import { float32Bits, lcgValues } from './testing/reference.js';

// Device.linearGrad (issue 16): the backward pass of a dense layer, dx = dz W, dw = dz^T x,
// db = sum over the rows of dz, with dz an array or an element-wise kernel (an activation's
// backward). On every backend each result equals map + matmul + matmul + sum(dz, 0) bit for bit
// (the gl backend computes dz inside its pack passes and sums the packed columns); checked
// against float64 and against finite differences of the layer; bad calls are typed errors that
// launch nothing.

/** A kernel calling `Math.round` (gl runs it with its own GLSL, ./gl/glsl-math.ts, fused like a built-in). */
const ROUND_GRAD = defineKernel({ name: 'test.roundGrad', arity: 2, params: 0, expr: 'Math.round(a) * b' });

describe.each(backendsToTest())('Device.linearGrad on %s', (name) => {
  const d = createDevice({ backend: name, threads: 1 });
  afterAll(() => d.destroy());
  const gl = d.backend instanceof GpuJsBackend ? d.backend : null;

  /** The composed reference: the kernels linearGrad replaces, in their order. */
  function composed(dz: DeviceArray | LinearGradKernel, opts: LinearGradOptions) {
    const g = dz instanceof DeviceArray ? dz : d.map(dz.spec, dz.inputs, dz.params ?? []);
    const db = opts.bias ? d.sum(g, 0) : null;
    const dx = opts.weight ? d.matmul(g, opts.weight) : null;
    const dw = opts.x ? d.matmul(g, opts.x, { transA: true }) : null;
    const out = { dx: dx?.read() ?? null, dw: dw?.read() ?? null, db: db?.read() ?? null };
    for (const t of [db, dx, dw]) t?.dispose();
    if (g !== dz) g.dispose();
    return out;
  }

  /** linearGrad against `composed`, bit for bit, and its shapes; returns the launches it took. */
  function expectSame(dz: DeviceArray | LinearGradKernel, opts: LinearGradOptions, what: string): number {
    const want = composed(dz, opts);
    const before = d.memory();
    const got = d.linearGrad(dz, opts);
    const launches = d.memory().kernels - before.kernels;
    const [m, n] = dz instanceof DeviceArray ? dz.shape : dz.inputs[0].shape;
    const k = opts.x?.shape[1] ?? opts.weight?.shape[1] ?? 0;
    const parts = [
      ['dx', got.dx, want.dx, [m, k]],
      ['dw', got.dw, want.dw, [n, k]],
      ['db', got.db, want.db, [n]],
    ] as const;
    for (const [part, g, w, shape] of parts) {
      if (w === null) {
        expect(g, `${what}: ${part}`).toBeNull();
        continue;
      }
      expect(g, `${what}: ${part}`).not.toBeNull();
      expect(g!.shape, `${what}: ${part} shape`).toEqual(shape);
      expect(float32Bits(g!.read()), `${what}: ${part}`).toEqual(float32Bits(w));
      g!.dispose();
    }
    // nothing left behind: only the results were made
    expect(d.memory().arrays).toBe(before.arrays);
    return launches;
  }

  it('the example: relu backward of a 2 x 3 layer, exact small integers', () => {
    const x = d.array([1, 2, 3, 4], [2, 2]);
    const w = d.array([1, 0, 0, -1, 1, 1], [3, 2]);
    const y = d.array([1, 0, 3, 3, 0, 7], [2, 3]);
    const dy = d.array([1, 1, 1, 2, 2, 2], [2, 3]);
    const { dx, dw, db } = d.linearGrad(
      { spec: ACTIVATION_GRAD.reluGrad, inputs: [y, dy] },
      { x, weight: w, bias: true },
    );
    expect(Array.from(dx!.read())).toEqual([2, 1, 4, 2]);
    expect(Array.from(dw!.read())).toEqual([7, 10, 0, 0, 7, 10]);
    expect(Array.from(db!.read())).toEqual([3, 0, 3]);
    for (const t of [x, w, y, dy, dx!, dw!, db!]) t.dispose();
  });

  // [m, n, k]: sizes that are not multiples of 4, ones, a batch of 128, more than 1024 rows (gl
  // composes: its reduction would run in stages)
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [5, 7, 9],
    [12, 6, 3],
    [33, 17, 65],
    [128, 40, 30],
    [1030, 3, 5],
  ];
  const kernels = [
    { spec: ACTIVATION_GRAD.reluGrad, params: [] as number[], fromOutput: (v: number) => Math.max(v, 0) },
    { spec: ACTIVATION_GRAD.sigmoidGrad, params: [], fromOutput: (v: number) => 1 / (1 + Math.exp(-v)) },
    { spec: ACTIVATION_GRAD.tanhGrad, params: [], fromOutput: Math.tanh },
    { spec: ACTIVATION_GRAD.leakyReluGrad, params: [0.1], fromOutput: (v: number) => (v > 0 ? v : 0.1 * v) },
    { spec: ACTIVATION_GRAD.geluGrad, params: [], fromOutput: (v: number) => v },
  ];

  it.each(shapes)(
    'm=%i n=%i k=%i: every kernel and every subset of outputs equal the composed kernels bit for bit',
    (m, n, k) => {
      const x = d.array(lcgValues(m * k, m + 1), [m, k]);
      const w = d.array(lcgValues(n * k, n + 2), [n, k]);
      const dy = d.array(lcgValues(m * n, k + 3), [m, n]);
      const calls = gl?.linearGradCalls ?? 0;
      // the layer's output: f of a pre-activation with zeros and negatives among them
      const pre = lcgValues(m * n, m + n + k).map((v, i) => (i % 7 === 0 ? 0 : v));
      for (const { spec, params, fromOutput } of kernels) {
        const y = d.array(pre.map(fromOutput), [m, n]);
        const dz = { spec, inputs: [y, dy], params };
        const subsets: LinearGradOptions[] = [
          { x, weight: w, bias: true },
          { x, bias: true },
          { weight: w, bias: true },
          { x, weight: w },
          { bias: true },
        ];
        for (const opts of subsets)
          expectSame(dz, opts, `${spec.name} ${m}x${n}x${k} ${Object.keys(opts).join('+')}`);
        y.dispose();
      }
      // dz given as an array (identity activation), and a kernel that gl cannot compile itself
      expectSame(dy, { x, weight: w, bias: true }, `dz array ${m}x${n}x${k}`);
      const y = d.array(pre, [m, n]);
      expectSame({ spec: ROUND_GRAD, inputs: [y, dy] }, { x, weight: w, bias: true }, 'round');
      // on gl the fused passes ran: four kernels (at least) times the four subsets with x or the
      // weight, and the dz array; none above 1024 rows
      if (gl) {
        if (m > 1024) expect(gl.linearGradCalls - calls).toBe(0);
        else expect(gl.linearGradCalls - calls).toBeGreaterThanOrEqual(17);
      }
      for (const t of [x, w, dy, y]) t.dispose();
    },
  );

  it('float64 reference: dz = sigmoid backward, dx, dw, db within float32 rounding', () => {
    const [m, n, k] = [9, 6, 11];
    const xv = lcgValues(m * k, 41);
    const wv = lcgValues(n * k, 42);
    const yv = lcgValues(m * n, 43).map((v) => 1 / (1 + Math.exp(-v)));
    const dyv = lcgValues(m * n, 44);
    const f32 = (a: number[]) => Array.from(Float32Array.from(a));
    const [X, W, Y, DY] = [f32(xv), f32(wv), f32(yv), f32(dyv)];
    const dz = Y.map((y, i) => DY[i] * y * (1 - y));
    const dx64: number[] = [];
    for (let i = 0; i < m; i++)
      for (let c = 0; c < k; c++)
        dx64.push(dz.slice(i * n, i * n + n).reduce((s, z, j) => s + z * W[j * k + c], 0));
    const dw64: number[] = [];
    for (let j = 0; j < n; j++)
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += dz[i * n + j] * X[i * k + c];
        dw64.push(s);
      }
    const db64 = Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += dz[i * n + j];
      return s;
    });
    const arrs = [d.array(X, [m, k]), d.array(W, [n, k]), d.array(Y, [m, n]), d.array(DY, [m, n])];
    const [x, w, y, dy] = arrs;
    const got = d.linearGrad(
      { spec: ACTIVATION_GRAD.sigmoidGrad, inputs: [y, dy] },
      { x, weight: w, bias: true },
    );
    const close = (a: Float32Array, b: number[], what: string) => {
      expect(a.length).toBe(b.length);
      for (let i = 0; i < b.length; i++)
        expect(Math.abs(a[i] - b[i]), `${what}[${i}]`).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(b[i]));
    };
    close(got.dx!.read(), dx64, 'dx');
    close(got.dw!.read(), dw64, 'dw');
    close(got.db!.read(), db64, 'db');
    for (const t of [...arrs, got.dx!, got.dw!, got.db!]) t.dispose();
  });

  it('finite differences: the gradients of L = sum(g * tanh(x W^T + b)) in x, W and b', () => {
    const [m, n, k] = [4, 3, 5];
    const xv = lcgValues(m * k, 51, 0.5);
    const wv = lcgValues(n * k, 52, 0.5);
    const bv = lcgValues(n, 53, 0.5);
    const gv = lcgValues(m * n, 54);
    const loss = (X: number[], Wt: number[], B: number[]) => {
      let s = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let z = B[j];
          for (let c = 0; c < k; c++) z += X[i * k + c] * Wt[j * k + c];
          s += gv[i * n + j] * Math.tanh(z);
        }
      return s;
    };
    const y = Array.from({ length: m * n }, (_, f) => {
      const [i, j] = [Math.floor(f / n), f % n];
      let z = bv[j];
      for (let c = 0; c < k; c++) z += xv[i * k + c] * wv[j * k + c];
      return Math.tanh(z);
    });
    const arrs = [d.array(xv, [m, k]), d.array(wv, [n, k]), d.array(y, [m, n]), d.array(gv, [m, n])];
    const got = d.linearGrad(
      { spec: ACTIVATION_GRAD.tanhGrad, inputs: [arrs[2], arrs[3]] },
      { x: arrs[0], weight: arrs[1], bias: true },
    );
    const h = 1e-4;
    const fd = (vals: number[], at: (v: number[]) => number) =>
      vals.map((_, i) => {
        const up = [...vals];
        const dn = [...vals];
        up[i] += h;
        dn[i] -= h;
        return (at(up) - at(dn)) / (2 * h);
      });
    const checks = [
      [got.dx!, fd(xv, (v) => loss(v, wv, bv)), 'dx'],
      [got.dw!, fd(wv, (v) => loss(xv, v, bv)), 'dw'],
      [got.db!, fd(bv, (v) => loss(xv, wv, v)), 'db'],
    ] as const;
    for (const [arr, want, what] of checks) {
      const g = arr.read();
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(g[i] - want[i]), `${what}[${i}]: ${g[i]} vs ${want[i]}`).toBeLessThanOrEqual(
          1e-4 + 1e-3 * Math.abs(want[i]),
        );
      arr.dispose();
    }
    for (const t of arrs) t.dispose();
  });

  it('empty sizes and nothing asked for: zeros of the right shapes, or nulls without a launch', () => {
    const x = d.array([], [0, 3]);
    const w = d.array(lcgValues(6, 1), [2, 3]);
    const dz = d.array([], [0, 2]);
    const got = d.linearGrad(dz, { x, weight: w, bias: true });
    expect(got.dx!.shape).toEqual([0, 3]);
    expect(Array.from(got.dw!.read())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(got.db!.read())).toEqual([0, 0]);
    for (const t of [got.dx!, got.dw!, got.db!]) t.dispose();
    const before = d.memory();
    expect(d.linearGrad(dz)).toEqual({ dx: null, dw: null, db: null });
    expect(d.memory()).toEqual(before);
    for (const t of [x, w, dz]) t.dispose();
  });

  it('bad calls: typed errors naming linearGrad, nothing launched or allocated', () => {
    const x = d.array(lcgValues(12, 1), [4, 3]);
    const w = d.array(lcgValues(6, 2), [2, 3]);
    const y = d.array(lcgValues(8, 3), [4, 2]);
    const dy = d.array(lcgValues(8, 4), [4, 2]);
    const before = d.memory();
    const relu = (inputs: DeviceArray[]) => ({ spec: ACTIVATION_GRAD.reluGrad, inputs });
    const bad: [() => unknown, new (...a: never[]) => Error, RegExp][] = [
      [() => d.linearGrad(d.reshape(dy, [8]), { x }), ShapeError, /linearGrad.*2-D/],
      [() => d.linearGrad(relu([y, d.reshape(dy, [2, 4])]), { x }), ShapeError, /reluGrad/],
      [() => d.linearGrad(relu([y]), { x }), ShapeError, /expects 2 inputs/],
      [() => d.linearGrad(dy, { x: w }), ShapeError, /x must be \[4, k\]/],
      [() => d.linearGrad(dy, { x, weight: d.reshape(x, [3, 4]) }), ShapeError, /weight must be \[2, 3\]/],
      [() => d.linearGrad(dy, { weight: x }), ShapeError, /weight must be \[2, k\]/],
      [() => d.linearGrad(relu([y, dy]), { bias: 1 as unknown as boolean }), ValueError, /bias must be/],
      [
        () =>
          d.linearGrad({ spec: ACTIVATION_GRAD.leakyReluGrad, inputs: [y, dy], params: [Number.NaN] }, { x }),
        ValueError,
        /parameter NaN/,
      ],
      [
        () => d.linearGrad({ spec: ACTIVATION_GRAD.leakyReluGrad, inputs: [y, dy] }, { x }),
        ValueError,
        /1 scalar/,
      ],
      [() => d.linearGrad(null as unknown as DeviceArray, { x }), ValueError, /linearGrad.*dz must be/],
      [() => d.linearGrad(dy, null as unknown as LinearGradOptions), ValueError, /options must be/],
      [
        () => d.linearGrad({ spec: UNARY.relu, inputs: 'y' as unknown as DeviceArray[] }, { x }),
        ValueError,
        /must be arrays/,
      ],
    ];
    for (const [call, type, message] of bad) {
      const views = d.memory().arrays;
      expect(call).toThrow(type);
      expect(call).toThrow(message);
      // the reshaped views made for a case are the only arrays added; no kernel ran
      expect(d.memory().kernels).toBe(before.kernels);
      expect(d.memory().buffers).toBe(before.buffers);
      expect(d.memory().arrays).toBeGreaterThanOrEqual(views);
    }
    const gone = d.array([1, 2], [1, 2]);
    gone.dispose();
    expect(() => d.linearGrad(gone, { x: d.reshape(x, [4, 3]) })).toThrow(DisposedError);
    for (const t of [x, w, y, dy]) t.dispose();
  });

  it.runIf(gl !== null)(
    'gl: dz computed in the pack passes (no map launch), columns summed from the packed dz; falls back where it must',
    () => {
      const be = gl!;
      const [m, n, k] = [128, 20, 30];
      const x = d.array(lcgValues(m * k, 1), [m, k]);
      const w = d.array(lcgValues(n * k, 2), [n, k]);
      const y = d.array(
        lcgValues(m * n, 3).map((v) => Math.max(v, 0)),
        [m, n],
      );
      const dy = d.array(lcgValues(m * n, 4), [m, n]);
      const dz = { spec: ACTIVATION_GRAD.reluGrad, inputs: [y, dy] };
      const opts = { x, weight: w, bias: true };
      const warm = d.linearGrad(dz, opts);
      for (const t of Object.values(warm)) t?.dispose();
      const calls = be.linearGradCalls;
      const noReuse = (): {
        profile: { launches: number; kernels: readonly { name: string }[] };
        result: LinearGrads;
      } => {
        be.packReuse = false;
        try {
          return profileGl(d, () => d.linearGrad(dz, opts));
        } finally {
          be.packReuse = true;
        }
      };
      const fused = noReuse();
      expect(be.linearGradCalls).toBe(calls + 1);
      const names = fused.profile.kernels.map((kp) => kp.name).sort();
      // dz packed for dz W and (transposed) for dz^T x by the prologue, W and x packed, two
      // products and their unpacks, the packed column sums: 9 draws (10 composed: the map)
      expect(fused.profile.launches).toBe(9);
      expect(names).toEqual(
        [
          `matmul(${m}x${n}x${k})`,
          `matmul(${n}x${m}x${k}, transA)`,
          `pack(${m}x${k})`,
          `pack(${m}x${n}, reluGrad)`,
          `pack(${n}x${k})`,
          `pack(${n}x${m}, trans, reluGrad)`,
          'reduce(sum, packed, reluGrad)',
          `unpack(${m}x${k})`,
          `unpack(${n}x${k})`,
        ].sort(),
      );
      for (const t of Object.values(fused.result)) t?.dispose();
      // with x kept packed (the forward's left operand), one pack less
      const held = d.linearGrad(dz, opts);
      for (const t of Object.values(held)) t?.dispose();
      const reused = profileGl(d, () => d.linearGrad(dz, opts));
      expect(reused.profile.launches).toBe(7); // x and w packed already
      for (const t of Object.values(reused.result)) t?.dispose();
      // off switches: composed, the same bits
      for (const flag of ['fusedLinearGrad', 'packedMatmul', 'directMap'] as const) {
        be[flag] = false;
        try {
          const before = be.linearGradCalls;
          expectSame(dz, opts, `${flag} off`);
          expect(be.linearGradCalls).toBe(before);
        } finally {
          be[flag] = true;
        }
      }
      be.blockedMatmul = false;
      try {
        const before = be.linearGradCalls;
        expectSame(dz, opts, 'one render target');
        expect(be.linearGradCalls).toBe(before + 1);
      } finally {
        be.blockedMatmul = true;
      }
      // Math.round runs the backend's own GLSL (./gl/glsl-math.ts) in the pack passes as well
      const before = be.linearGradCalls;
      expectSame({ spec: ROUND_GRAD, inputs: [y, dy] }, opts, 'round');
      expect(be.linearGradCalls).toBe(before + 1);
      const view = d.reshape(dy, [m, n]);
      expectSame(view, { bias: true }, 'bias only');
      view.dispose();
      expect(be.linearGradCalls).toBe(before + 1);
      for (const t of [x, w, y, dy]) t.dispose();
    },
  );
});
