import { afterAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../errors.js';
import { testData } from '../../testing/reference.js';
import { CpuBackend } from '../cpu.js';
import { GEMM_BLOCKING, MAX_MODULE_BYTES, WASM_MODULES } from './module.generated.js';
import { threadSupport } from './threads.js';
import { probeWasm, WasmBackend, type WasmBuffer } from './wasm.js';

// gradkit's WebAssembly backend: the SIMD GEMM against float64 references for every operand
// layout and edge size, bit-identical results for any thread count, the buffer pool, and the
// generated module being in sync with its generator. Element-wise ops, reductions, transpose and
// gather are shared with the CPU backend and covered by device.test.ts on every backend.
//
// Matmul tolerance (float32 accumulation in a fixed order): |got - ref| <= 1e-6 + k * 1.2e-7 * sum_p |a_ip b_pj|.

const probe = probeWasm();
const threaded = threadSupport().ok;

/** op(X)[i, p] for row-major X stored rows x cols (or its transpose). */
const at = (x: Float32Array, trans: boolean, rows: number, cols: number, i: number, p: number) =>
  trans ? x[p * rows + i] : x[i * cols + p];

function reference(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
): { ref: Float64Array; mag: Float64Array } {
  const ref = new Float64Array(m * n);
  const mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let g = 0;
      for (let p = 0; p < k; p++) {
        const v = at(a, tA, m, k, i, p) * at(b, tB, k, n, p, j);
        s += v;
        g += Math.abs(v);
      }
      ref[i * n + j] = s;
      mag[i * n + j] = g;
    }
  return { ref, mag };
}

describe.runIf(probe.ok)('WasmBackend', () => {
  const single = new WasmBackend({ threads: 1 });
  // every large product split (the measured policy would keep a losing shape on one thread)
  const multi = new WasmBackend({ threads: 2, split: 'always' });
  afterAll(() => {
    single.destroy();
    multi.destroy();
  });

  it('the generated module matches its generator, and stays small enough to compile synchronously in browsers', async () => {
    // @ts-expect-error: a build script without type declarations
    const { generatedSource } = await import('../../../scripts/build-wasm.mjs');
    const { readFileSync } = await import('node:fs');
    const committed = readFileSync(new URL('./module.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await generatedSource());
    // Chromium refuses synchronous compilation of modules above 4 KB on its main thread.
    expect(MAX_MODULE_BYTES).toBe(4096);
    expect(WASM_MODULES.length).toBeGreaterThanOrEqual(2);
    for (const m of WASM_MODULES) {
      expect(atob(m.plain).length, m.name).toBe(m.plainBytes);
      expect(atob(m.shared).length, m.name).toBe(m.sharedBytes);
      expect(m.plainBytes, m.name).toBeLessThanOrEqual(4096);
      expect(m.sharedBytes, m.name).toBeLessThanOrEqual(4096);
    }
    // the names the backend calls, each exported by exactly one ordinary module
    const names = WASM_MODULES.filter((m) => m.variantOf === null).flatMap((m) => m.exports);
    expect(new Set(names).size).toBe(names.length);
    for (const f of [
      'gemm',
      'gemm_workspace',
      'sum_lead',
      'row_max',
      'row_min',
      'row_sum',
      'row_lse_parts',
      'sce_grad',
    ])
      expect(names).toContain(f);
    expect(GEMM_BLOCKING.NR % 4).toBe(0);
  });

  it('the build refuses a module over 4,096 bytes, two modules exporting one name, and a variant with other exports', async () => {
    // @ts-expect-error: a build script without type declarations
    const { assembleModules } = await import('../../../scripts/build-wasm.mjs');
    const fn = (name: string, body = '') => `(func (export "${name}") ${body})`;
    // 600 distinct 8-byte functions with their export entries: well over 4 KB
    const big = Array.from({ length: 600 }, (_, i) => fn(`f${i}`, '(drop (i32.const 1))')).join('\n');
    await expect(assembleModules([{ name: 'big', wat: () => big }])).rejects.toThrow(
      /wasm module 'big' is \d+ bytes, more than 4096/,
    );
    await expect(
      assembleModules([
        { name: 'a', wat: () => fn('f') },
        { name: 'b', wat: () => fn('f') },
      ]),
    ).rejects.toThrow("wasm modules 'a' and 'b' both export 'f'");
    await expect(
      assembleModules([
        { name: 'a', wat: () => fn('f') },
        { name: 'a2', variantOf: 'a', wat: () => fn('g') },
      ]),
    ).rejects.toThrow("wasm module 'a2' must export what 'a' exports (f)");
    const ok = await assembleModules([
      { name: 'a', wat: () => fn('f') },
      { name: 'b', wat: () => fn('g') },
    ]);
    expect(ok.map((m: { name: string; exports: string[] }) => [m.name, m.exports])).toEqual([
      ['a', ['f']],
      ['b', ['g']],
    ]);
  });

  it('reports what it runs on', () => {
    expect(single.info.name).toBe('wasm');
    expect(single.info.gpuMode).toBe('wasm-simd');
    expect(single.info.renderer).toMatch(/SIMD128.*1 thread \(1 requested\)/);
    expect(single.info.maxTextureSize).toBeNull();
    if (threaded) expect(multi.info.renderer).toMatch(/2 threads \(1 workers on shared memory\)/);
  });

  const sizes = [1, 3, 4, 5, 8, 9, 17, 64, 65];
  const layouts: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];

  it.each(layouts)('matmul transA=%s transB=%s matches float64 on every edge size', (tA, tB) => {
    let worst = 0;
    let cases = 0;
    for (const m of sizes)
      for (const n of sizes)
        for (const k of [1, 7, 8, 255, 256, 257, 300]) {
          if (m * n * k > 400_000) continue;
          const a = testData(m * k, m * 131 + k);
          const b = testData(k * n, n * 71 + k + 5);
          const got = single.read(single.matmul(single.upload(a), single.upload(b), m, k, n, tA, tB));
          const { ref, mag } = reference(a, b, m, k, n, tA, tB);
          for (let t = 0; t < m * n; t++) {
            const tol = 1e-6 + k * 1.2e-7 * mag[t];
            const err = Math.abs(got[t] - ref[t]);
            if (!(err <= tol))
              expect.fail(`m=${m} k=${k} n=${n} element ${t}: ${got[t]} vs ${ref[t]} (tol ${tol})`);
            worst = Math.max(worst, err / tol);
          }
          cases++;
        }
    expect(cases).toBeGreaterThan(400);
    console.info(
      `[wasm] gemm transA=${tA} transB=${tB}: ${cases} shapes, worst error ${(worst * 100).toFixed(1)}% of tolerance`,
    );
  });

  it('k = 0 gives zeros and empty products give empty buffers', () => {
    const e = single.upload(new Float32Array(0));
    expect(Array.from(single.read(single.matmul(e, e, 2, 0, 3, false, false)))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(
      single.read(single.matmul(e, single.upload(new Float32Array(3)), 0, 1, 3, false, false)).length,
    ).toBe(0);
  });

  it('propagates NaN and infinities like IEEE float32 products', () => {
    const a = single.upload(Float32Array.from([Number.NaN, 1, 2, 3]));
    const b = single.upload(Float32Array.from([1, 1, Number.POSITIVE_INFINITY, 0]));
    const got = Array.from(single.read(single.matmul(a, b, 2, 2, 2, false, false)));
    // [NaN 1; 2 3] x [1 1; inf 0] = [NaN NaN; inf 2]
    expect(got[0]).toBeNaN();
    expect(got[1]).toBeNaN();
    expect(got[2]).toBe(Number.POSITIVE_INFINITY);
    expect(got[3]).toBe(2);
  });

  it.runIf(threaded)('threaded products are bit-identical to one thread, split by rows or by columns', () => {
    expect(multi.waitForWorkers(10_000)).toBe(true);
    expect(multi.activeThreads()).toBe(2);
    for (const [m, k, n] of [
      [301, 257, 129],
      [37, 300, 515],
      [512, 512, 512],
      [128, 784, 256],
    ])
      for (const [tA, tB] of layouts) {
        const a = testData(m * k, m + k);
        const b = testData(k * n, n + 3 * k);
        const one = single.read(single.matmul(single.upload(a), single.upload(b), m, k, n, tA, tB));
        const two = multi.read(multi.matmul(multi.upload(a), multi.upload(b), m, k, n, tA, tB));
        expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
      }
  });

  it('agrees with the plain-JS backend within float32 rounding', () => {
    const cpu = new CpuBackend();
    const [m, k, n] = [70, 333, 45];
    const a = testData(m * k, 9);
    const b = testData(k * n, 10);
    const w = single.read(single.matmul(single.upload(a), single.upload(b), m, k, n, false, true));
    const c = cpu.read(cpu.matmul(cpu.upload(a), cpu.upload(b), m, k, n, false, true));
    for (let i = 0; i < w.length; i++) expect(Math.abs(w[i] - c[i])).toBeLessThan(1e-3);
  });

  it('pools buffers: a repeated step reuses memory and the heap stops growing', () => {
    const be = new WasmBackend({ threads: 1 });
    const x = be.upload(testData(128 * 300, 1));
    const w = be.upload(testData(300 * 200, 2));
    const step = () => {
      const h = be.matmul(x, w, 128, 300, 200, false, false);
      const s = be.reduce('sum', h, [128, 200], [0]);
      be.free(h);
      be.free(s);
    };
    step();
    const after1 = be.memoryStats();
    for (let i = 0; i < 50; i++) step();
    const after50 = be.memoryStats();
    expect(after50.heapBytes).toBe(after1.heapBytes);
    expect(after50.liveBytes).toBe(after1.liveBytes);
    expect(after50.liveBytes).toBe(
      Math.ceil((128 * 300 * 4) / 64) * 64 + Math.ceil((300 * 200 * 4) / 64) * 64,
    );
    be.destroy();
  });

  it('values survive the memory growing underneath them (views are taken afresh)', () => {
    const be = new WasmBackend({ threads: 1 });
    const small = be.upload(Float32Array.from([1, 2, 3]));
    const before = be.memoryStats().heapBytes;
    const big = be.upload(new Float32Array(4 * 1024 * 1024)); // 16 MiB: forces growth
    expect(be.memoryStats().heapBytes).toBeGreaterThan(before);
    expect(Array.from(be.read(small))).toEqual([1, 2, 3]);
    const sum = be.reduce('sum', small, [3], [0]);
    expect(Array.from(be.read(sum))).toEqual([6]);
    be.free(big);
    be.destroy();
  });

  it('freeing twice is harmless and a destroyed backend refuses new work', () => {
    const be = new WasmBackend({ threads: 1 });
    const b = be.upload(Float32Array.from([1, 2])) as WasmBuffer;
    be.free(b);
    be.free(b);
    expect(be.memoryStats().liveBytes).toBe(0);
    be.destroy();
    expect(() => be.upload(Float32Array.from([1]))).toThrow(BackendError);
  });

  it('rejects a bad thread count with a BackendError naming it', () => {
    expect(() => new WasmBackend({ threads: 0 })).toThrow(/threads must be a positive integer, got 0/);
    const old = process.env.GRADKIT_THREADS;
    process.env.GRADKIT_THREADS = 'many';
    try {
      expect(() => new WasmBackend()).toThrow(/GRADKIT_THREADS must be a positive integer, got 'many'/);
    } finally {
      if (old === undefined) delete process.env.GRADKIT_THREADS;
      else process.env.GRADKIT_THREADS = old;
    }
  });

  it('measures GEMM throughput at n = 512 for each layout (reported, not asserted)', () => {
    const n = 512;
    const a = single.upload(testData(n * n, 1));
    const b = single.upload(testData(n * n, 2));
    const line: string[] = [];
    for (const [be, label] of [
      [single, '1 thread'],
      [multi, `${multi.activeThreads()} threads`],
    ] as const) {
      const a2 = be === single ? a : be.upload(testData(n * n, 1));
      const b2 = be === single ? b : be.upload(testData(n * n, 2));
      for (const [tA, tB] of layouts.slice(0, 3)) {
        be.free(be.matmul(a2, b2, n, n, n, tA, tB));
        const t0 = performance.now();
        for (let r = 0; r < 3; r++) be.free(be.matmul(a2, b2, n, n, n, tA, tB));
        const ms = (performance.now() - t0) / 3;
        line.push(`${label} ${tA ? 'At' : 'A'}*${tB ? 'Bt' : 'B'} ${((2 * n ** 3) / ms / 1e6).toFixed(1)}`);
      }
    }
    console.info(`[wasm] GEMM n=512 GFLOP/s: ${line.join(', ')}`);
  });
});

describe('probeWasm', () => {
  it('is available wherever WebAssembly SIMD runs (Node 20 here), or says why not', () => {
    if (probe.ok) expect(() => new WasmBackend({ threads: 1 }).destroy()).not.toThrow();
    else expect(probe.reason).toMatch(/WebAssembly/);
    expect(probe.ok).toBe(
      typeof WebAssembly === 'object' &&
        WASM_MODULES.filter((m) => m.variantOf === null).every((m) =>
          WebAssembly.validate(Uint8Array.from(atob(m.plain), (c) => c.charCodeAt(0))),
        ),
    );
  });
});

describe.runIf(probe.ok)('WasmBackend sums over leading axes', () => {
  it('match the plain-JS backend bit for bit (float64 sums in row order), any width', () => {
    const wasm = new WasmBackend({ threads: 1 });
    const cpu = new CpuBackend();
    for (const [shape, axes] of [
      [[7, 9], [0]],
      [[128, 256], [0]],
      [
        [3, 4, 5],
        [0, 1],
      ],
      [[1, 13], [0]],
      [[1000, 3], [0]],
    ] as [number[], number[]][]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = testData(n, n + 1, -1e3, 1e3);
      const cols = n / shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
      if (n > cols) {
        // a huge pair in one column: any other order or precision of summation would round differently
        v[0] = 3e7;
        v[cols] = -3e7;
      }
      const w = wasm.read(wasm.reduce('sum', wasm.upload(v), shape, axes));
      const c = cpu.read(cpu.reduce('sum', cpu.upload(v), shape, axes));
      expect(Buffer.from(w.buffer).equals(Buffer.from(c.buffer)), `${shape} ${axes}`).toBe(true);
    }
    const e = wasm.upload(new Float32Array(0));
    expect(wasm.read(wasm.reduce('sum', e, [0, 4], [0])).length).toBe(4);
    wasm.destroy();
  });
});
