import { describe, expect, it } from 'vitest';
import type { BackendBuffer } from '../backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { BackendError } from '../errors.js';
import type { Shape } from '../shape.js';
import { sizeOf } from '../shape.js';
import { runKernelText as run, testData } from '../testing/reference.js';
import { tiledGlFixture } from '../testing/tiled-gl.js';
import type { WindowSpec } from '../window.js';
import { planWindow } from '../window.js';
import type { GpuJsBackend } from './backend.js';
import { probeGpuJs } from './probe.js';
import {
  permutationRead,
  readSplit,
  tiledReadProblem,
  tiledReadRows,
  tiledReadSource,
  tiledReadUniforms,
  tileRanges,
} from './tiles.js';

// The tiled ops of issue 16 beyond maps, matmul, reductions and row slices: permutations, windows
// and gathers as reads by coordinates, argmax/argmin along the first axis, scatter-add into a tiled
// table. First the sources run as JavaScript; then, where headless-gl starts, the backend with
// small tiles against the CPU backend. GL needs an X server: xvfb-run -a -s "-screen 0
// 1280x1024x24 +extension GLX" npx vitest run src/gl/tiled-ops.test.ts

const cpu = new CpuBackend();
const same = (got: Float32Array, want: Float32Array, what: string) => {
  expect(got.length, what).toBe(want.length);
  const bad = Array.from(got).findIndex((v, i) => !Object.is(v, want[i]));
  if (bad >= 0) expect.fail(`${what}: first difference at ${bad}: ${got[bad]} vs cpu ${want[bad]}`);
};

describe('tiled reads, run as JavaScript', () => {
  it('a permutation read tile by tile over pieces of whole input rows equals the cpu transpose', () => {
    const shape: Shape = [6, 7, 5, 9];
    const x = testData(sizeOf(shape), 5);
    const n = x.length;
    for (const perm of [
      [2, 0, 3, 1],
      [3, 2, 1, 0],
      [0, 2, 1, 3],
    ]) {
      const want = cpu.read(cpu.transpose(cpu.upload(x), shape, perm));
      for (const tile of [64, 256, 1000]) {
        const read = permutationRead(shape, perm);
        const sp = readSplit(read, true, tile);
        expect(tiledReadProblem(read, sp, tile, 9)).toBeNull();
        const per = Math.floor(tile / sp.rowLen);
        const got = new Float32Array(n);
        for (const [s, e] of tileRanges(n, tile)) {
          const rows = tiledReadRows(read, sp.split, s, e)!;
          let acc: Float32Array | null = null;
          for (let lo = 0; lo < sp.rows; lo += per) {
            const hi = Math.min(sp.rows, lo + per);
            if (hi <= rows[0] || lo > rows[1]) continue;
            const piece = x.subarray(lo * sp.rowLen, hi * sp.rowLen);
            const src = tiledReadSource(read, sp.split, tile, acc !== null, 0);
            const args = [...(acc ? [acc] : []), piece, lo, hi, 0, ...tiledReadUniforms(read, s, tile)];
            acc = run(src, e - s, args);
          }
          got.set(acc!, s);
        }
        same(got, want, `[${perm}] tile ${tile}`);
      }
    }
  });

  it('tiledReadProblem names what would leave the float32-exact range', () => {
    const read = permutationRead([2 ** 24, 2, 2], [1, 0, 2]);
    const sp = readSplit(read, true, 2 ** 22);
    expect(sp).toEqual({ split: 1, rowLen: 4, rows: 2 ** 24 });
    expect(tiledReadProblem(read, sp, 2 ** 22, 2 ** 24)).toMatch(
      /16777216 rows of 4 elements: 2\^23 or more/,
    );
  });
});

const gl = probeGpuJs('headlessgl');
const required = (process.env.GRADKIT_REQUIRE_BACKENDS ?? '').split(',').includes('gl');

describe.skipIf(!gl.ok && !required)(
  'GpuJsBackend: tiled permutations, windows, gathers (headless-gl)',
  () => {
    let be: GpuJsBackend;
    const { up, keep, small, reset } = tiledGlFixture((b) => {
      be = b;
    });
    const xbOf = (n: number) => up(testData(n, n));
    const tiles = (b: BackendBuffer) => (b as unknown as { tiles: unknown[] | null }).tiles?.length ?? 0;

    it('permutations of tiled arrays equal the CPU backend bit for bit (NaN, -0)', () => {
      small();
      const cases: [Shape, number[]][] = [
        [
          [6, 7, 5, 9],
          [2, 0, 3, 1],
        ],
        [
          [6, 7, 5, 9],
          [3, 2, 1, 0],
        ],
        [
          [6, 7, 5, 9],
          [0, 2, 1, 3],
        ], // a batch of transposes
        [
          [4, 300, 2],
          [1, 0, 2],
        ], // rows of 600 elements: longer than a tile
        [
          [3, 1, 700],
          [2, 1, 0],
        ],
      ];
      for (const [shape, perm] of cases) {
        const x = testData(sizeOf(shape), sizeOf(shape) + perm[0]);
        x[3] = Number.NaN;
        x[300] = -0;
        const xb = up(x);
        expect(tiles(xb)).toBeGreaterThan(1);
        const got = be.read(keep(be.transpose(xb, shape, perm)));
        same(got, cpu.read(cpu.transpose(cpu.upload(x), shape, perm)), `${JSON.stringify(shape)} [${perm}]`);
      }
    });

    it('windows of tiled arrays (pooling patches with padding, reversed steps) and tiled window outputs equal the CPU backend', () => {
      small();
      // 3x3 pooling patches, stride 2, padding 1 (pad -inf) of a tiled [2, 3, 20, 20]: [2, 3, 3, 3, 10, 10]
      const xShape: Shape = [2, 3, 20, 20];
      const x = testData(sizeOf(xShape), 71);
      x[5] = Number.NaN;
      const pool: WindowSpec = {
        outShape: [2, 3, 3, 3, 10, 10],
        axes: [0, 1, 2, 3, 2, 3],
        steps: [1, 1, 1, 1, 2, 2],
        offsets: [0, 0, -1, -1],
        padValue: Number.NEGATIVE_INFINITY,
      };
      // a reversed, strided column walk with a -0 pad; a broadcast of an untiled row into a tiled output
      const rev: WindowSpec = {
        outShape: [2, 3, 20, 12],
        axes: [0, 1, 2, 3],
        steps: [1, 1, 1, -2],
        offsets: [0, 0, 0, 21],
        padValue: -0,
      };
      const cases: [Shape, WindowSpec, Float32Array][] = [
        [xShape, pool, x],
        [xShape, rev, x],
        [[40], { outShape: [50, 40], axes: [-1, 0], steps: [0, 1], offsets: [0] }, testData(40, 72)],
      ];
      for (const [shape, spec, values] of cases) {
        const plan = planWindow('window', shape, spec);
        const got = keep(be.window(up(values), plan));
        expect(tiles(got), JSON.stringify(spec.outShape)).toBeGreaterThan(1);
        same(be.read(got), cpu.read(cpu.window(cpu.upload(values), plan)), JSON.stringify(spec.outShape));
      }
    });

    it('window scatter-adds (adjoints) from or into tiled arrays match the CPU backend (and, with dy untiled, the untiled gl kernel bit for bit)', () => {
      const cases: { name: string; inShape: Shape; spec: WindowSpec }[] = [
        {
          name: 'pooling patches, padding',
          inShape: [2, 3, 20, 20],
          spec: {
            outShape: [2, 3, 3, 3, 10, 10],
            axes: [0, 1, 2, 3, 2, 3],
            steps: [1, 1, 1, 1, 2, 2],
            offsets: [0, 0, -1, -1],
            padValue: Number.NEGATIVE_INFINITY,
          },
        },
        {
          name: 'every other column',
          inShape: [40, 30],
          spec: { outShape: [40, 15], axes: [0, 1], steps: [1, 2], offsets: [0, 0] },
        },
        {
          name: 'reversed, strided, padded columns',
          inShape: [2, 3, 20, 20],
          spec: {
            outShape: [2, 3, 20, 12],
            axes: [0, 1, 2, 3],
            steps: [1, 1, 1, -2],
            offsets: [0, 0, 0, 21],
            padValue: 0,
          },
        },
        {
          name: 'a broadcast row (50 positions)',
          inShape: [40],
          spec: { outShape: [50, 40], axes: [-1, 0], steps: [0, 1], offsets: [0] },
        },
        {
          name: 'a broadcast row (1500 positions, chunked)',
          inShape: [3],
          spec: { outShape: [1500, 3], axes: [-1, 0], steps: [0, 1], offsets: [0] },
        },
      ];
      for (const { name, inShape, spec } of cases) {
        const plan = planWindow('windowScatterAdd', inShape, spec);
        const dy = testData(sizeOf(plan.outShape), sizeOf(inShape));
        dy[11] = Number.NaN;
        const scatter = () => be.read(keep(be.windowScatterAdd(up(dy), plan)));
        const untiled = scatter();
        small();
        const got = scatter();
        const want = cpu.read(cpu.windowScatterAdd(cpu.upload(dy), plan));
        expect(got.length, name).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          const ok =
            (Number.isNaN(want[i]) && Number.isNaN(got[i])) ||
            Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i]));
          if (!ok) expect.fail(`${name}[${i}]: got ${got[i]}, cpu ${want[i]}`);
        }
        if (dy.length <= 1000) same(got, untiled, `${name}: tiled vs untiled gl`);
        reset();
      }
    });

    it('gathers from a tiled table, into a tiled output, or both, equal the CPU backend', () => {
      small();
      const table = testData(300 * 7, 81);
      table[7 * 150 + 3] = Number.NaN;
      const ix = (...v: number[]) => new Float32Array(v);
      const many = Float32Array.from({ length: 200 }, (_, i) => (i * 37) % 300);
      const manyMore = Float32Array.from({ length: 1500 }, (_, i) => (i * 41) % 300);
      const cases: [Shape, Float32Array, Float32Array, number][] = [
        [[300, 7], table, ix(5, 299, 0, 5, 150), 0], // embedding rows from a tiled table
        [[300, 7], table, many, 0], // a tiled output
        [[30, 70], table, ix(69, 0, 3, 3), 1], // columns of a tiled table
        [[50, 7], table.subarray(0, 350), many.map((v) => v % 50), 0], // untiled table, tiled output
        [[300, 7], table, manyMore, 0], // tiled indices: each output tile's range copied
        [[1, 300, 7], table, manyMore, 1], // the same, with a leading axis of 1
        [[20], table.subarray(0, 20), manyMore.map((v) => v % 20), 0], // one index per output element
        [[2, 20], table.subarray(0, 40), manyMore.map((v) => v % 20), 1], // tiled indices read per tile
        [[3, 100, 7], table, manyMore.map((v) => v % 100), 1], // tiled table and indices, axis 1
      ];
      for (const [shape, values, indices, axis] of cases) {
        const got = be.read(keep(be.gather(up(values), shape, up(indices), indices.length, axis)));
        const want = cpu.read(
          cpu.gather(cpu.upload(values), shape, cpu.upload(indices), indices.length, axis),
        );
        same(got, want, `${JSON.stringify(shape)} axis ${axis}, ${indices.length} indices`);
      }
    });

    it('argmax and argmin along the first axis of tiled arrays equal the CPU backend (ties across chunks, NaN, infinities)', () => {
      small();
      const [rows, cols] = [300, 7];
      const x = testData(rows * cols, 91);
      const set = (r: number, c: number, v: number) => {
        x[r * cols + c] = v;
      };
      for (let r = 0; r < rows; r++) {
        set(r, 1, 1.5); // all tied: row 0
        set(r, 2, 0);
        set(r, 4, Number.NEGATIVE_INFINITY); // all -inf: row 0
        set(r, 5, Number.POSITIVE_INFINITY); // all +inf: row 0
        set(r, 6, Number.NEGATIVE_INFINITY);
      }
      // ties in different chunks: the first row wins
      set(40, 2, 9);
      set(200, 2, 9);
      set(250, 2, -9);
      set(100, 2, -9);
      // NaN in two chunks after a larger value: the first NaN wins both
      set(10, 3, 9);
      set(150, 3, Number.NaN);
      set(280, 3, Number.NaN);
      set(290, 6, 3);
      // a 3-D array with many ties (values rounded to integers), NaN in the first chunk of one column
      const y = testData(40 * 5 * 11, 92).map(Math.round);
      y[2 * 55 + 7] = Number.NaN;
      for (const [shape, values] of [
        [[rows, cols], x],
        [[40, 5, 11], y],
      ] as [Shape, Float32Array][]) {
        const xb = up(values);
        expect(tiles(xb)).toBeGreaterThan(1);
        for (const op of ['argmax', 'argmin'] as const) {
          const got = be.read(keep(be.reduce(op, xb, shape, [0])));
          const want = cpu.read(cpu.reduce(op, cpu.upload(values), shape, [0]));
          same(got, want, `${op} ${JSON.stringify(shape)}`);
        }
      }
      const want = (op: 'argmax' | 'argmin') =>
        Array.from(cpu.read(cpu.reduce(op, cpu.upload(x), [rows, cols], [0])));
      expect(want('argmax').slice(1)).toEqual([0, 40, 150, 0, 0, 290]);
      expect(want('argmin').slice(1)).toEqual([0, 100, 150, 0, 0, 0]);
    });

    it('reductions whose first-axis rows are longer than a tile merge leading axes of the same kind', () => {
      small();
      const cases: { shape: Shape; axes: number[]; ops: ('sum' | 'max' | 'argmax' | 'logsumexp')[] }[] = [
        { shape: [5, 4, 12, 14], axes: [0, 1, 2, 3], ops: ['sum', 'max', 'logsumexp'] }, // rows of one
        { shape: [4, 10, 50], axes: [0, 1], ops: ['sum', 'max'] }, // [40, 50] over [0]
        { shape: [4, 10, 50], axes: [2], ops: ['sum', 'argmax'] }, // [40, 50] over [1]
      ];
      for (const { shape, axes, ops } of cases) {
        const x = testData(sizeOf(shape), sizeOf(shape) + axes.length);
        const xb = up(x);
        for (const op of ops) {
          const got = be.read(keep(be.reduce(op, xb, shape, axes)));
          const want = cpu.read(cpu.reduce(op, cpu.upload(x), shape, axes));
          const what = `${op} ${JSON.stringify(shape)} over [${axes}]`;
          expect(got.length, what).toBe(want.length);
          for (let i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i]))))
              expect.fail(`${what}[${i}]: got ${got[i]}, cpu ${want[i]}`);
          }
        }
      }
      // a kept axis after a reduced first axis cannot merge: still refused
      expect(() => be.reduce('sum', xbOf(2000), [2, 1000], [0])).toThrow(
        /a row of axis 0 holds 1000 elements/,
      );
    });

    it('scatter-add into a tiled table, of tiled updates, or both, matches the CPU backend (and, with untiled updates, the untiled gl kernel bit for bit)', () => {
      const near = (got: Float32Array, want: Float32Array, what: string) => {
        expect(got.length, what).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          const ok =
            (Number.isNaN(want[i]) && Number.isNaN(got[i])) ||
            Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i]));
          if (!ok) expect.fail(`${what}[${i}]: got ${got[i]}, cpu ${want[i]}`);
        }
      };
      const many = Float32Array.from({ length: 1500 }, (_, i) => (i * 37) % 300);
      many[7] = -1; // outside the table: contributes nothing
      many[8] = 300;
      const u = (n: number, seed: number) => {
        const v = testData(n, seed);
        v[40] = Number.NaN;
        return v;
      };
      const cases: { shape: Shape; upd: Float32Array; ix: Float32Array; axis: number }[] = [
        { shape: [300, 7], upd: u(5 * 7, 1), ix: new Float32Array([5, 299, 0, 5, 150]), axis: 0 },
        { shape: [300, 7], upd: u(1500 * 7, 2), ix: many, axis: 0 }, // tiled updates, 39 chunks
        { shape: [30, 70], upd: u(30 * 4, 3), ix: new Float32Array([69, 0, 3, 3]), axis: 1 },
        { shape: [50, 3], upd: u(1500 * 3, 4), ix: many.map((v) => v % 50), axis: 0 }, // untiled table
        { shape: [300, 7], upd: new Float32Array(0), ix: new Float32Array(0), axis: 0 },
        // tiled updates along a later axis: pieces of update rows that cut across the leading axis
        { shape: [4, 300], upd: u(4 * 400, 5), ix: many.subarray(0, 400), axis: 1 },
        // and with tiled indices (1500 > 1000) too: [2, 1500, 3] updates into [2, 300, 3]
        { shape: [2, 300, 3], upd: u(2 * 1500 * 3, 6), ix: many, axis: 1 },
      ];
      for (const { shape, upd, ix, axis } of cases) {
        const what = `${JSON.stringify(shape)} axis ${axis}, ${ix.length} indices`;
        const scatter = () => be.read(keep(be.scatterAdd(up(upd), shape, up(ix), ix.length, axis)));
        const untiled = scatter();
        small();
        const got = scatter();
        const want = cpu.read(cpu.scatterAdd(cpu.upload(upd), shape, cpu.upload(ix), ix.length, axis));
        near(got, want, what);
        // with the updates in one texture, the passes add the untiled kernel's chunk sums in its order
        if (upd.length <= 1000) same(got, untiled, `${what}: tiled vs untiled gl`);
        reset();
      }
    });

    it('at the real limit: an embedding table above 2^23 elements gathered, its gradient scatter-added, argmax and argmin over its rows', () => {
      // [8200, 1024] = 8,396,800 elements: 3 tiles of 2^22
      const [rows, dim] = [8200, 1024];
      expect(rows * dim).toBeGreaterThan(be.info.maxKernelElements!);
      const table = testData(rows * dim, 101);
      const ix = Float32Array.from({ length: 64 }, (_, i) => (i * 2731) % rows);
      ix[5] = ix[6] = 8199; // a repeated index in the last tile
      const g = testData(64 * dim, 102);
      const t = up(table);
      expect(tiles(t)).toBe(3);
      const ib = up(ix);
      same(
        be.read(keep(be.gather(t, [rows, dim], ib, 64, 0))),
        cpu.read(cpu.gather(cpu.upload(table), [rows, dim], cpu.upload(ix), 64, 0)),
        'gather',
      );
      const dt = keep(be.scatterAdd(up(g), [rows, dim], ib, 64, 0));
      expect(tiles(dt)).toBe(3);
      const got = be.read(dt);
      const want = cpu.read(cpu.scatterAdd(cpu.upload(g), [rows, dim], cpu.upload(ix), 64, 0));
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i]))))
          expect.fail(`scatterAdd[${i}]: got ${got[i]}, cpu ${want[i]}`);
      }
      for (const op of ['argmax', 'argmin'] as const) {
        same(
          be.read(keep(be.reduce(op, t, [rows, dim], [0]))),
          cpu.read(cpu.reduce(op, cpu.upload(table), [rows, dim], [0])),
          op,
        );
      }
    });

    it('the tiled paths free every texture they make (passes, pieces, partial results)', () => {
      small();
      // count the buffers kernels return and those freed (maps' direct draws are not counted)
      const made = new Set<unknown>();
      const inner = be as unknown as Record<string, (...a: unknown[]) => unknown>;
      const run = inner.run;
      const free = inner.free;
      inner.run = (...a: unknown[]) => {
        const out = run.apply(be, a);
        made.add(out);
        return out;
      };
      inner.free = (b: unknown) => {
        made.delete(b);
        for (const t of (b as { tiles: unknown[] | null }).tiles ?? []) made.delete(t);
        return free.call(be, b);
      };
      try {
        const x = be.upload(testData(2400, 1));
        const ix = be.upload(Float32Array.from({ length: 1500 }, (_, i) => i % 300));
        const t7 = be.upload(testData(2100, 2));
        const upd = be.upload(testData(1500 * 7, 3));
        const pool = planWindow('window', [2, 3, 20, 20], {
          outShape: [2, 3, 3, 3, 10, 10],
          axes: [0, 1, 2, 3, 2, 3],
          steps: [1, 1, 1, 1, 2, 2],
          offsets: [0, 0, -1, -1],
          padValue: Number.NEGATIVE_INFINITY,
        });
        const w = be.window(x, pool);
        const outs = [
          w,
          be.windowScatterAdd(w, pool),
          be.transpose(x, [2, 3, 20, 20], [3, 1, 0, 2]),
          be.gather(t7, [300, 7], ix, 1500, 0),
          be.scatterAdd(upd, [300, 7], ix, 1500, 0),
          be.reduce('argmax', t7, [300, 7], [0]),
          be.reduce('sum', x, [2, 3, 20, 20], [0, 1, 2, 3]),
        ];
        expect(made.size).toBeGreaterThan(0);
        for (const b of [...outs, x, ix, t7, upd]) be.free(b);
        expect(made.size).toBe(0);
      } finally {
        // back to the class's methods
        delete inner.run;
        delete inner.free;
      }
    });

    it('what still does not tile refuses with a BackendError naming the limit', () => {
      small();
      // an array tiled by 256 elements after tileElements grew: its pieces would span three tiles
      const old = up(testData(2000, 5));
      be.tileElements = 512;
      expect(() => be.transpose(old, [40, 50], [1, 0])).toThrow(BackendError);
      expect(() => be.transpose(old, [40, 50], [1, 0])).toThrow(
        /tiled by 256 elements \(tileElements is now 512: it changed/,
      );
      // a permutation whose rows would number 2^23 or more (single elements: the last axis is
      // longer than a tile) in an array of 2^23 elements
      be.tileAbove = 2 ** 20;
      be.tileElements = 2 ** 16;
      const big = up(new Float32Array(2 ** 23));
      expect(() => be.transpose(big, [2, 2 ** 22], [1, 0])).toThrow(
        /cannot run in tiles on headlessgl: 8388608 rows of 1 elements: 2\^23 or more/,
      );
    });
  },
);
