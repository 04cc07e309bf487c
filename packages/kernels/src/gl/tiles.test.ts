import { describe, expect, it } from 'vitest';
import type { BackendBuffer, ElementwiseSpec } from '../backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { planBroadcast } from '../codegen.js';
import { Device } from '../device.js';
import { BINARY, SCALAR, UNARY, WHERE } from '../elementwise.js';
import { BackendError } from '../errors.js';
import type { Shape } from '../shape.js';
import { broadcastShapes, sizeOf } from '../shape.js';
import { defineKernel } from '../spec/define.js';
import { matmul64, runKernelText as run, testData } from '../testing/reference.js';
import { tiledGlFixture } from '../testing/tiled-gl.js';
import { planWindow, sliceWindow } from '../window.js';
import type { GpuJsBackend } from './backend.js';
import { probeGpuJs } from './probe.js';
import { MATMUL_MAX_K } from './sources.js';
import {
  fillSource,
  placeSource,
  sliceSource,
  TILE_ELEMENTS,
  tiledMapProblem,
  tiledMapSource,
  tiledMapUniforms,
  tiledMatmulSource,
  tileRanges,
} from './tiles.js';

// Arrays above the gl backend's per-kernel limit, stored in tiles (issue 16). The sources are
// first run as JavaScript (as in sources.test.ts: the index arithmetic and the uniforms of every
// tile, on any machine); then, where headless-gl starts, the backend with small tiles (so every
// path runs on small arrays) against the CPU backend and float64 products, and once at the real
// limit (2^23 elements and more). GL needs an X server: xvfb-run -a -s "-screen 0 1280x1024x24
// +extension GLX" npx vitest run src/gl/tiles.test.ts

const cpu = new CpuBackend();
const cpuMap = (spec: ElementwiseSpec, xs: Float32Array[], shapes: Shape[], params: number[]) =>
  cpu.read(
    cpu.map(
      spec,
      xs.map((x) => cpu.upload(x)),
      shapes,
      broadcastShapes('test', ...shapes),
      params,
    ),
  );

describe('tile sources, run as JavaScript', () => {
  it('tileRanges covers [0, n) in tiles of `tile` (the last shorter)', () => {
    expect(tileRanges(10, 4)).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(tileRanges(8, 4)).toEqual([
      [0, 4],
      [4, 8],
    ]);
    expect(TILE_ELEMENTS).toBe(2 ** 22);
  });

  it('a tiled map reads broadcast inputs at the right element in every tile', () => {
    // per-channel [C, 1, 1], row [N, 1, 1, W], bias [W], scalar [] over [N, C, H, W]: outer strides
    // above and below the tile size, tiles not aligned with any row
    const out: Shape = [3, 5, 7, 11];
    const n = sizeOf(out);
    const shapes: Shape[] = [out, [5, 1, 1], [3, 1, 1, 11], [11], []];
    const spec: ElementwiseSpec = {
      name: 'test.sum5',
      arity: 5,
      params: 1,
      expr: 'a + 10.0 * b + 100.0 * c + 1000.0 * d + p0 * e',
    };
    const xs = shapes.map((s, k) => testData(sizeOf(s), 11 + k));
    const want = cpuMap(spec, xs, shapes, [0.5]);
    for (const tile of [64, 100, 256, 1024]) {
      const aligned = [true, false, false, false, false];
      const plan = planBroadcast(shapes, out);
      expect(tiledMapProblem(plan, aligned, tile)).toBeNull();
      const src = tiledMapSource(spec, plan, aligned, tile);
      const got = new Float32Array(n);
      for (const [s, e] of tileRanges(n, tile)) {
        const args = [xs[0].subarray(s, e), ...xs.slice(1), 0.5, ...tiledMapUniforms(plan, aligned, s, tile)];
        got.set(run(src, e - s, args), s);
      }
      expect(Array.from(got), `tile ${tile}`).toEqual(Array.from(want));
    }
  });

  it('tiledMapProblem names a broadcast dimension too long for exact float32 coordinates', () => {
    const plan = planBroadcast([[2 ** 23], [3, 2 ** 23]], [3, 2 ** 23]);
    expect(tiledMapProblem(plan, [false, true], 2 ** 22)).toMatch(
      /input 0 is broadcast along a dimension of 8388608/,
    );
    expect(tiledMapProblem(plan, [false, true], 2 ** 23)).toMatch(/exceed 2\^22/);
  });

  it('the tiled matmul passes add up to the product, for every transpose and inner split', () => {
    const [m, k, n] = [7, 10, 9];
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const a = testData(m * k, 1);
      const b = testData(k * n, 2);
      const want = matmul64(a, b, m, k, n, tA, tB).out;
      const aView = tA ? { outer: 1, inner: m } : { outer: k, inner: 1 };
      const bView = tB ? { outer: k, inner: 1 } : { outer: 1, inner: n };
      // output tiles of 20 (rows cut mid-way), the inner range in two passes [0, 6) and [6, 10)
      const got = new Float32Array(m * n);
      for (const [s, e] of tileRanges(m * n, 20)) {
        const q = Math.floor(s / n);
        const r = s - q * n;
        const first = run(tiledMatmulSource(n, 6, aView, bView, false), e - s, [
          a,
          b,
          q,
          r,
          0,
          m,
          0,
          n,
          0,
          0,
        ]);
        const second = run(tiledMatmulSource(n, 4, aView, bView, true), e - s, [
          first,
          a,
          b,
          q,
          r,
          0,
          m,
          0,
          n,
          6 * aView.inner,
          6 * bView.inner,
        ]);
        got.set(second, s);
      }
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    }
  });

  it('sliceSource copies across a tile boundary', () => {
    const t0 = new Float32Array([0, 1, 2, 3]);
    const t1 = new Float32Array([4, 5, 6, 7]);
    expect(Array.from(run(sliceSource(true), 4, [t0, t1, 2, 2]))).toEqual([2, 3, 4, 5]);
    expect(Array.from(run(sliceSource(false), 2, [t1, 1]))).toEqual([5, 6]);
  });

  it('placeSource puts x at [lo, hi) and the pad elsewhere; a -0 pad has kernels of its own', () => {
    const x = new Float32Array([7, 8, 9]);
    expect(Array.from(run(placeSource(Number.NaN), 6, [x, 2, 5, Number.NaN]))).toEqual([
      NaN,
      NaN,
      7,
      8,
      9,
      NaN,
    ]);
    expect(Object.is(run(placeSource(-0), 2, [x, 1, 2, -0])[0], -0)).toBe(true);
    expect(Object.is(run(fillSource(-0), 1, [-0])[0], -0)).toBe(true);
    // gpu.js would not re-upload -0 after 0 into the same kernel: different texts, different kernels
    expect(fillSource(-0)).not.toBe(fillSource(0));
    expect(placeSource(-0)).not.toBe(placeSource(0));
    expect(placeSource(1)).toBe(placeSource(0));
  });
});

const gl = probeGpuJs('headlessgl');
const required = (process.env.GRADKIT_REQUIRE_BACKENDS ?? '').split(',').includes('gl');

describe.skipIf(!gl.ok && !required)('GpuJsBackend: tiled arrays (headless-gl)', () => {
  let be: GpuJsBackend;
  const { up, keep, small } = tiledGlFixture((b) => {
    be = b;
  });

  it('defaults: tiles above maxKernelElements, 2^22 elements each, arrays up to 2^31 - 1', () => {
    expect(be.tileAbove).toBe(be.info.maxKernelElements);
    expect(be.tileElements).toBe(Math.min(2 ** 22, 2 ** Math.floor(Math.log2(be.info.maxKernelElements!))));
    expect(be.info.maxElements).toBe(2 ** 31 - 1);
  });

  it('upload, read and readAsync of a tiled array return every value (NaN, -0, infinities)', async () => {
    small();
    const x = testData(2500, 3);
    x[0] = Number.NaN;
    x[256] = -0;
    x[1999] = Number.POSITIVE_INFINITY;
    x[2499] = Number.NEGATIVE_INFINITY;
    const b = up(x) as unknown as { tiles: unknown[] | null };
    expect(b.tiles).toHaveLength(10);
    expect(be.read(b as unknown as BackendBuffer)).toEqual(x);
    expect(await be.readAsync(b as unknown as BackendBuffer)).toEqual(x);
    expect(Object.is(be.read(b as unknown as BackendBuffer)[256], -0)).toBe(true);
  });

  it('maps over tiled arrays equal the CPU backend bit for bit (same-shape and broadcast inputs)', () => {
    small();
    const cases: { spec: ElementwiseSpec; shapes: Shape[]; params: number[] }[] = [
      {
        spec: BINARY.add,
        shapes: [
          [50, 61],
          [50, 61],
        ],
        params: [],
      }, // both tiled, aligned
      { spec: BINARY.mul, shapes: [[50, 61], [61]], params: [] }, // bias along rows
      {
        spec: BINARY.sub,
        shapes: [
          [50, 1],
          [50, 61],
        ],
        params: [],
      }, // a column, tiles cut rows
      {
        spec: BINARY.div,
        shapes: [
          [4, 6, 9, 13],
          [6, 1, 1],
        ],
        params: [],
      }, // per channel
      { spec: SCALAR.affine, shapes: [[3001]], params: [0.5, -2] },
      { spec: UNARY.exp, shapes: [[2999]], params: [] },
      { spec: UNARY.tanh, shapes: [[1200]], params: [] }, // a spec gpu.js computes itself
      { spec: WHERE, shapes: [[40, 1], [40, 33], [33]], params: [] },
      { spec: BINARY.add, shapes: [[], [2000]], params: [] }, // a scalar
    ];
    for (const { spec, shapes, params } of cases) {
      const xs = shapes.map((s, k) => {
        const v = testData(sizeOf(s), 5 + k);
        if (spec === WHERE && k === 0) for (let i = 0; i < v.length; i++) v[i] = v[i] > 0 ? 1 : 0;
        if (spec === BINARY.div && k === 1) for (let i = 0; i < v.length; i++) v[i] += v[i] < 0 ? -0.5 : 0.5;
        return v;
      });
      const out = broadcastShapes('test', ...shapes);
      const got = be.read(keep(be.map(spec, xs.map(up), shapes, out, params)));
      const want = cpuMap(spec, xs, shapes, params);
      const what = `${spec.name} ${JSON.stringify(shapes)}`;
      expect(got.length, what).toBe(want.length);
      // exp and tanh: the backend's float32 GLSL (./glsl-math.ts), not bit-identical to the CPU's
      // Math; everything else exact
      const tol = spec === UNARY.exp || spec === UNARY.tanh ? 2e-6 : 0;
      for (let i = 0; i < want.length; i++) {
        if (Math.abs(got[i] - want[i]) > tol * Math.max(1, Math.abs(want[i])))
          expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
      }
    }
  });

  it('a tiled map equals the untiled map of the same inputs', () => {
    const shapes: Shape[] = [[37, 53], [53]];
    const xs = shapes.map((s, k) => testData(sizeOf(s), 9 + k));
    const untiled = be.read(keep(be.map(BINARY.add, xs.map(up), shapes, [37, 53], [])));
    small();
    const tiled = be.read(keep(be.map(BINARY.add, xs.map(up), shapes, [37, 53], [])));
    expect(tiled).toEqual(untiled);
  });

  it('matmul with tiled operands, a tiled output or both matches float64, every transpose', () => {
    small();
    // [m, k, n]: A tiled (m k > 1000), B tiled, output tiled (m n > 1000), all three
    const shapes: [number, number, number][] = [
      [60, 30, 7],
      [6, 40, 50],
      [70, 5, 30],
      [45, 33, 41],
    ];
    for (const [m, k, n] of shapes) {
      for (const [tA, tB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const a = testData(m * k, m + k);
        const b = testData(k * n, k + n);
        const got = be.read(keep(be.matmul(up(a), up(b), m, k, n, tA, tB)));
        const { out, bound } = matmul64(a, b, m, k, n, tA, tB);
        const what = `matmul ${m}x${k}x${n}${tA ? ' tA' : ''}${tB ? ' tB' : ''}`;
        expect(got.length, what).toBe(m * n);
        for (let i = 0; i < out.length; i++) {
          if (!(Math.abs(got[i] - out[i]) <= 1e-6 + 1e-5 * bound[i]))
            expect.fail(`${what}[${i}]: got ${got[i]}, want ${out[i]}`);
        }
      }
    }
  });

  it('matmul over an inner size above MATMUL_MAX_K with tiled operands adds the inner passes', () => {
    // B [k, 1] in tiles of 9000 rows: its first piece runs as two inner passes (8192 + 808)
    be.tileAbove = 9000;
    be.tileElements = 9000;
    const [m, k, n] = [3, MATMUL_MAX_K + 1308, 1];
    const a = testData(m * k, 21);
    const b = testData(k * n, 22);
    const got = be.read(keep(be.matmul(up(a), up(b), m, k, n, true, false)));
    const { out, bound } = matmul64(a, b, m, k, n, true, false);
    for (let i = 0; i < out.length; i++)
      expect(Math.abs(got[i] - out[i])).toBeLessThanOrEqual(1e-6 + 1e-5 * bound[i]);
  });

  it('reductions of tiled arrays match the CPU backend (every op, leading, trailing and inner axes, NaN)', () => {
    small();
    const cases: { shape: Shape; axes: number[] }[] = [
      { shape: [50, 61], axes: [0] }, // column sums: chunks of 4 rows, partial results combined
      { shape: [50, 61], axes: [1] }, // row sums: chunk results placed one after the other
      { shape: [50, 61], axes: [0, 1] },
      { shape: [6, 5, 3, 13], axes: [0, 2] },
      { shape: [6, 5, 3, 13], axes: [1, 3] },
      { shape: [6, 5, 3, 13], axes: [3] },
    ];
    const ops = ['sum', 'max', 'min', 'prod', 'logsumexp', 'argmax', 'argmin'] as const;
    for (const { shape, axes } of cases) {
      const n = sizeOf(shape);
      const x = testData(n, n + axes.length);
      x[77] = Number.NaN; // one NaN in the second tile
      const near1 = Float32Array.from(x, (v) => 1 + v / 300);
      for (const op of ops) {
        // argmax and argmin take one axis
        if ((op === 'argmax' || op === 'argmin') && axes.length !== 1) continue;
        const values = op === 'prod' ? near1 : x;
        const got = be.read(keep(be.reduce(op, up(values), shape, axes)));
        const want = cpu.read(cpu.reduce(op, cpu.upload(values), shape, axes));
        const what = `${op} ${JSON.stringify(shape)} over [${axes}]`;
        expect(got.length, what).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          const ok =
            (Number.isNaN(want[i]) && Number.isNaN(got[i])) ||
            Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i]));
          if (!ok) expect.fail(`${what}[${i}]: got ${got[i]}, cpu ${want[i]}`);
        }
      }
    }
  });

  it('slices of whole first-axis rows of a tiled array (one texture or tiled) equal the CPU backend', () => {
    small();
    const shape: Shape = [100, 30];
    const x = testData(3000, 41);
    const xb = up(x);
    // rows [7, 40): 990 values from 5 tiles into one texture; [3, 90): 2610 values, tiled; all;
    // one row; and a 3-D array's rows
    for (const [r0, r1] of [
      [7, 40],
      [3, 90],
      [0, 100],
      [99, 100],
    ]) {
      const plan = planWindow('slice', shape, sliceWindow(shape, [r0], [r1]));
      const got = be.read(keep(be.window(xb, plan)));
      expect(Array.from(got), `rows [${r0}, ${r1})`).toEqual(Array.from(x.subarray(r0 * 30, r1 * 30)));
    }
    const shape3: Shape = [20, 9, 13];
    const y = testData(20 * 9 * 13, 42);
    const plan3 = planWindow('slice', shape3, sliceWindow(shape3, [5], [17]));
    expect(Array.from(be.read(keep(be.window(up(y), plan3))))).toEqual(
      Array.from(y.subarray(5 * 117, 17 * 117)),
    );
    // other windows of a tiled array (a column range, a step of 2) read by passes over pieces
    const cols = planWindow('slice', shape, sliceWindow(shape, [0, 2], [100, 5]));
    expect(Array.from(be.read(keep(be.window(xb, cols))))).toEqual(
      Array.from(cpu.read(cpu.window(cpu.upload(x), cols))),
    );
    const step = planWindow('slice', shape, sliceWindow(shape, [0], [100], [2]));
    expect(Array.from(be.read(keep(be.window(xb, step))))).toEqual(
      Array.from(cpu.read(cpu.window(cpu.upload(x), step))),
    );
  });

  it('concatenation along the first axis into a tiled array, and the adjoint of a row slice, equal the CPU backend', () => {
    small();
    const g = new Device(be, 'test');
    const c = new Device(new CpuBackend(), 'test');
    // three untiled parts of 390, 990 and 450 values into a tiled [61, 30] array (pad -0, added)
    const parts = [
      [13, 30],
      [33, 30],
      [15, 30],
    ].map((s, k) => ({ shape: s, values: testData(s[0] * s[1], 50 + k) }));
    const cat = (d: Device) => {
      const xs = parts.map((p) => d.array(p.values, p.shape));
      const y = d.concat(xs, 0);
      const v = d.read(y);
      for (const t of [...xs, y]) t.dispose();
      return v;
    };
    const got = cat(g);
    expect(got).toEqual(cat(c));
    expect(got.length).toBe(61 * 30);
    // the gradient of rows [7, 40) of a [100, 30] array: dy placed there, zeros elsewhere (tiled)
    const shape: Shape = [100, 30];
    const plan = planWindow('slice', shape, sliceWindow(shape, [7], [40]));
    const dy = testData(33 * 30, 60);
    const dx = be.read(keep(be.windowScatterAdd(up(dy), plan)));
    const want = cpu.read(cpu.windowScatterAdd(cpu.upload(dy), plan));
    const bad = Array.from(dx).findIndex((v, i) => !Object.is(v, want[i]));
    expect(bad, `first difference at ${bad}: ${dx[bad]} vs cpu ${want[bad]}`).toBe(-1);
    // and a window placing an untiled array with a NaN pad into a tiled output
    const place = planWindow('window', [20, 30], {
      outShape: [50, 30],
      axes: [0, 1],
      steps: [1, 1],
      offsets: [-25, 0],
      padValue: Number.NaN,
    });
    const x = testData(600, 61);
    const placed = be.read(keep(be.window(up(x), place)));
    expect(Array.from(placed)).toEqual(Array.from(cpu.read(cpu.window(cpu.upload(x), place))));
    // concatenation along axis 1 into an output above tileAbove (windows that are no row shifts)
    const cat1 = (d: Device) => {
      const xs = [d.array(testData(600, 1), [20, 30]), d.array(testData(600, 2), [20, 30])];
      const y = d.concat(xs, 1);
      const v = d.read(y);
      for (const t of [...xs, y]) t.dispose();
      return v;
    };
    expect(cat1(g)).toEqual(cat1(c));
  });

  it('transposes of tiled arrays that are 2-D transposes (or copies) equal the CPU backend', () => {
    small();
    const cases: [Shape, number[]][] = [
      [
        [50, 61],
        [1, 0],
      ],
      [
        [61, 50],
        [1, 0],
      ],
      [
        [10, 13, 9],
        [2, 0, 1],
      ], // [117, 9] transposed
      [
        [10, 13, 9],
        [1, 2, 0],
      ], // [10, 117] transposed
      [
        [50, 61],
        [0, 1],
      ], // a copy
      [
        [5, 240, 1],
        [1, 0, 2],
      ], // [5, 240] transposed (a size-1 axis dropped)
    ];
    for (const [shape, perm] of cases) {
      const x = testData(sizeOf(shape), sizeOf(shape) + perm[0]);
      const got = be.read(keep(be.transpose(up(x), shape, perm)));
      const want = cpu.read(cpu.transpose(cpu.upload(x), shape, perm));
      expect(Array.from(got), `${JSON.stringify(shape)} [${perm}]`).toEqual(Array.from(want));
    }
    // a side longer than a tile: passes over pieces of single elements (exact below 2^23)
    const long = testData(2 * 600, 1);
    expect(Array.from(be.read(keep(be.transpose(up(long), [2, 600], [1, 0]))))).toEqual(
      Array.from(cpu.read(cpu.transpose(cpu.upload(long), [2, 600], [1, 0]))),
    );
  });

  it('ops that do not tile refuse a tiled array with a BackendError naming the limit', () => {
    small();
    const x = up(testData(2000, 1));
    // reductions: a first-axis row longer than a tile, a large output
    expect(() => be.reduce('sum', x, [2, 1000], [0])).toThrow(BackendError);
    expect(() => be.reduce('sum', x, [2, 1000], [0])).toThrow(/a row of axis 0 holds 1000 elements/);
    expect(() => be.reduce('sum', x, [1, 2000], [0])).toThrow(
      /output of 2000 elements exceeds tileAbove = 1000/,
    );
    // a tiled input broadcast to a bigger output
    expect(() =>
      be.map(
        BINARY.add,
        [x, up(testData(4000, 2))],
        [
          [1, 2000],
          [2, 2000],
        ],
        [2, 2000],
        [],
      ),
    ).toThrow(/input 0 of 2000 elements is tiled but broadcast/);
    // an output row longer than a tile
    expect(() => be.matmul(up(testData(4, 1)), up(testData(2 * 600, 2)), 2, 2, 600, false, false)).toThrow(
      /output row of 600 elements exceeds tileElements = 256/,
    );
    // a tiled operand whose stored rows are longer than a tile
    expect(() => be.matmul(x, up(testData(400, 3)), 2, 1000, 1, false, false)).toThrow(
      /A is tiled and one of its stored rows has 1000 elements/,
    );
  });

  it('checks tileAbove and tileElements', () => {
    be.tileAbove = 0;
    expect(() => be.upload(new Float32Array(3))).toThrow(/tileAbove must be an integer in \[1, \d+\], got 0/);
    be.tileAbove = 1000;
    be.tileElements = 2000;
    expect(() => be.upload(new Float32Array(3))).toThrow(/tileElements must be .* = 1000\], got 2000/);
  });

  it('at the real limit: 2^23 + 3 elements upload, map with a bias and read back; a matmul output above 2^23', () => {
    const cols = 1031;
    const rows = Math.ceil((2 ** 23 + 3) / cols);
    const n = rows * cols;
    expect(n).toBeGreaterThan(be.info.maxKernelElements!);
    const x = testData(n, 7);
    const bias = testData(cols, 8);
    const xb = up(x);
    expect((xb as unknown as { tiles: unknown[] }).tiles.length).toBe(Math.ceil(n / be.tileElements));
    const got = be.read(keep(be.map(BINARY.add, [xb, up(bias)], [[rows, cols], [cols]], [rows, cols], [])));
    for (let i = 0; i < n; i += 1) {
      const want = Math.fround(x[i] + bias[i % cols]);
      if (got[i] !== want) expect.fail(`[${i}]: got ${got[i]}, want ${want}`);
    }
    // [4100, 8] x [8, 2048]: 8,396,800 outputs
    const [m, k, nn] = [4100, 8, 2048];
    const a = testData(m * k, 9);
    const b = testData(k * nn, 10);
    const c = be.read(keep(be.matmul(up(a), up(b), m, k, nn, false, false)));
    expect(c.length).toBe(m * nn);
    for (const i of [0, 1, 2047, 2048, 2 ** 22 - 1, 2 ** 22, 2 ** 22 + 1, 2 ** 23 - 1, 2 ** 23, m * nn - 1]) {
      const row = Math.floor(i / nn);
      const col = i % nn;
      let s = 0;
      let bound = 0;
      for (let p = 0; p < k; p++) {
        s += a[row * k + p] * b[p * nn + col];
        bound += Math.abs(a[row * k + p] * b[p * nn + col]);
      }
      expect(Math.abs(c[i] - s), `[${i}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * bound);
    }
  });

  it('through a Device: a linear layer step with a weight above the per-kernel limit (forward, gradients, SGD update, a penalty, column sums, a row slice, the transpose) matches cpu', () => {
    // W [4100, 2050] = 8,405,000 elements > 2^23: y = x W^T, dW = dy^T x, dx = dy W, W' = W - lr dW
    const [batch, out, inp] = [4, 4100, 2050];
    expect(out * inp).toBeGreaterThan(be.info.maxKernelElements!);
    const w = testData(out * inp, 31, -0.05, 0.05);
    const x = testData(batch * inp, 32);
    const dy = testData(batch * out, 33);
    const SGD = defineKernel({ name: 'test.sgd', arity: 2, params: 1, expr: 'a - p0 * b' });
    const step = (d: Device) => {
      const W = d.array(w, [out, inp]);
      const X = d.array(x, [batch, inp]);
      const DY = d.array(dy, [batch, out]);
      const y = d.matmul(X, W, { transB: true });
      const dW = d.matmul(DY, X, { transA: true });
      const dx = d.matmul(DY, W);
      const W2 = d.map(SGD, [W, dW], [0.1]);
      const res = { y: d.read(y), dx: d.read(dx), w: d.read(W2) };
      // a squared-Frobenius penalty and column sums of the weight: reductions over tiles
      const sq = d.map(BINARY.mul, [W2, W2]);
      const frob = d.sum(sq);
      const cols = d.sum(W2, 0);
      // a batch of rows sliced out of it (1000 x 2050 values from tiles 1 and 2)
      const rows = d.window(W2, sliceWindow([out, inp], [2000], [3000]));
      // and its transpose [2050, 4100] (3 input pieces into 3 output tiles)
      const wt = d.transpose(W2);
      const sums = { frob: d.read(frob), cols: d.read(cols), rows: d.read(rows), wt: d.read(wt) };
      wt.dispose();
      if (d.backend === be) {
      }
      // a permutation that is no 2-D transpose: [4100, 1025, 2] -> [1025, 4100, 2]
      const w3 = d.reshape(W, [out, inp / 2, 2]);
      const p3 = d.transpose(w3, [1, 0, 2]);
      const perm3 = d.read(p3);
      for (const t of [W, X, DY, y, dW, dx, W2, sq, frob, cols, rows, w3, p3]) t.dispose();
      return { ...res, ...sums, perm3 };
    };
    const g = step(new Device(be, 'test'));
    const c = step(new Device(new CpuBackend(), 'test'));
    const within = (got: Float32Array, want: Float32Array, atol: number, rtol: number, what: string) => {
      expect(got.length, what).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i])))
          expect.fail(`${what}[${i}]: gl ${got[i]}, cpu ${want[i]}`);
      }
    };
    // sums of 2050 (y) and 4100 (dx) products of values up to 3 x 0.05: float32 summation orders
    within(g.y, c.y, 1e-4, 1e-4, 'y');
    within(g.dx, c.dx, 1e-4, 1e-4, 'dx');
    // dW has 4 terms: the update differs from cpu by at most an ulp of dW times 0.1
    within(g.w, c.w, 1e-6, 1e-6, "W'");
    // 8.4M squares of values up to 0.06 (about 8,400 in all) and 4100-term column sums, in
    // float32 summed in different orders
    within(g.frob, c.frob, 0, 1e-4, 'sum of squares');
    within(g.cols, c.cols, 1e-5, 1e-4, 'column sums');
    within(g.rows, g.w.subarray(2000 * inp, 3000 * inp), 0, 0, 'rows [2000, 3000)');
    expect(g.perm3.length).toBe(c.perm3.length);
    const bad3 = g.perm3.findIndex((v, i) => !Object.is(v, c.perm3[i]));
    expect(bad3, `[1, 0, 2] permutation: first difference at ${bad3}`).toBe(-1);
    for (let j = 0; j < inp; j++) {
      for (let i = 0; i < out; i++) {
        if (g.wt[j * out + i] !== g.w[i * inp + j])
          expect.fail(`W'^T[${j}, ${i}]: ${g.wt[j * out + i]} vs ${g.w[i * inp + j]}`);
      }
    }
  });
});
