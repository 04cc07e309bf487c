import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { createDevice } from '../../select.js';
import { testData } from '../../testing/reference.js';
import { WASM_MODULES } from './module.generated.js';
import { threadSupport } from './threads.js';
import { WasmBackend, type WasmBuffer } from './wasm.js';

// The relaxed-SIMD GEMM (module 'gemm_relaxed', f32x4.relaxed_madd). Where this engine validates
// relaxed SIMD (Node 21+), the checks run here; on Node 20 this file runs itself again in a child
// `node --experimental-wasm-relaxed-simd` (vitest on this one file, the flag also set in its
// worker) and passes when the child passes; where neither works, it says why and skips.
//
// Tolerance against the SIMD128 GEMM (multiply, then add): both accumulate the same products in
// the same order in float32, each within k u sum_p |a_ip b_pj| (u = 2^-24) of the exact value, so
// |relaxed - simd128| <= 2 k u sum_p |a_ip b_pj| + 1e-30 (the same bound as wasm.test.ts's
// against float64, taken twice).

const inChild = process.env.GRADKIT_RELAXED_CHILD === '1';
const FLAG = '--experimental-wasm-relaxed-simd';
// vitest's worker in the child does not inherit the child's node flags: turn the feature on here,
// before anything compiles (the child runs this file alone, so no other file sees the flag)
if (inChild) setFlagsFromString(FLAG);
const relaxedSource = WASM_MODULES.find((m) => m.variantOf === 'gemm');
const bytesOf = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const here = relaxedSource !== undefined && WebAssembly.validate(bytesOf(relaxedSource.plain));

/** op(X)[i, p] for row-major X stored rows x cols (or its transpose). */
const at = (x: Float32Array, trans: boolean, rows: number, cols: number, i: number, p: number) =>
  trans ? x[p * rows + i] : x[i * cols + p];

function product(
  be: WasmBackend,
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
) {
  const pa = be.upload(a);
  const pb = be.upload(b);
  const c = be.matmul(pa, pb, m, k, n, tA, tB) as WasmBuffer;
  const out = be.read(c);
  for (const x of [pa, pb, c]) be.free(x);
  return out;
}

describe('relaxed-SIMD GEMM', () => {
  it('is built as a variant of the gemm module with the same exports', () => {
    expect(relaxedSource).toBeDefined();
    const base = WASM_MODULES.find((m) => m.name === 'gemm')!;
    expect(relaxedSource!.features).toEqual(['relaxed_simd']);
    expect([...relaxedSource!.exports].sort()).toEqual([...base.exports].sort());
    expect(relaxedSource!.plainBytes).toBeLessThanOrEqual(4096);
    // an engine without relaxed SIMD still starts the backend, on the SIMD128 GEMM
    if (!here) {
      const be = new WasmBackend({ threads: 1 });
      expect(be.gemmKernel).toBe('simd128');
      expect(be.info.renderer).toMatch(/multiply then add: no relaxed SIMD in this engine/);
      be.destroy();
      // asking for it is not an error: the SIMD128 GEMM runs, and the renderer says why
      const d = createDevice({ backend: 'wasm', threads: 1, relaxedSimd: true });
      expect((d.backend as WasmBackend).gemmKernel).toBe('simd128');
      expect(d.info().renderer).toMatch(/no relaxed SIMD in this engine/);
      d.destroy();
    }
    // a value that is not a boolean is refused by name, whatever the engine
    expect(() => createDevice({ backend: 'wasm', relaxedSimd: 'false' as unknown as boolean })).toThrow(
      'createDevice: relaxedSimd must be true or false, got "false"',
    );
  });

  it.runIf(!here && !inChild)(`runs its checks in a child node ${FLAG} (Node 20), or says why not`, (ctx) => {
    const probe = spawnSync(
      process.execPath,
      [
        FLAG,
        '-e',
        `process.exit(WebAssembly.validate(Buffer.from('${relaxedSource!.plain}', 'base64')) ? 0 : 3)`,
      ],
      {
        encoding: 'utf8',
      },
    );
    if (probe.status !== 0) {
      console.info(
        `[wasm relaxed] skipped: this node does not run relaxed SIMD with ${FLAG} (${probe.stderr.trim() || `exit ${probe.status}`})`,
      );
      ctx.skip();
      return;
    }
    const vitest = fileURLToPath(new URL('vitest.mjs', import.meta.resolve('vitest/package.json')));
    const r = spawnSync(process.execPath, [FLAG, vitest, 'run', fileURLToPath(import.meta.url)], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      env: { ...process.env, GRADKIT_RELAXED_CHILD: '1', GRADKIT_TEST_REPORT_DIR: '', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 240_000,
    });
    const out = `${r.stdout}\n${r.stderr}`.replace(
      new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'),
      '',
    );
    const summary = out.split('\n').filter((l) => /Tests\s+\d|\[wasm relaxed\]/.test(l));
    console.info(`[wasm relaxed] child with ${FLAG}:\n${summary.join('\n')}`);
    expect(r.status, out.slice(-4000)).toBe(0);
    // every check of 'relaxed-SIMD GEMM on this engine' ran there (the two Node 20 tests skip)
    const counts = /Tests\s+(\d+) passed \| (\d+) skipped/.exec(out);
    expect(counts, out.slice(-4000)).not.toBeNull();
    expect(Number(counts![1])).toBe(8);
    expect(Number(counts![2])).toBe(2);
  });

  it.runIf(inChild && !here)('the child got the flag', () => {
    expect.fail(
      `GRADKIT_RELAXED_CHILD is set but relaxed SIMD does not validate: vitest's worker lacks ${FLAG}`,
    );
  });
});

describe.runIf(here)('relaxed-SIMD GEMM on this engine', () => {
  const relaxed = new WasmBackend({ threads: 1 });
  const plain = new WasmBackend({ threads: 1, relaxedSimd: false });
  const relaxed2 = new WasmBackend({ threads: 2 });
  afterAll(() => {
    for (const b of [relaxed, plain, relaxed2]) b.destroy();
  });

  it('is chosen at start-up, and says so', () => {
    expect(relaxed.gemmKernel).toBe('relaxed-simd');
    expect(relaxed.info.renderer).toMatch(
      /SIMD128 GEMM \(4x8 micro-kernel, fused multiply-add by relaxed SIMD f32x4\.relaxed_madd\)/,
    );
    expect(plain.gemmKernel).toBe('simd128');
    expect(plain.info.renderer).toMatch(/multiply then add: relaxed SIMD off by option/);
    if (threadSupport().ok) expect(relaxed2.gemmKernel).toBe('relaxed-simd');
    // and through createDevice, as a user chooses it
    for (const [opt, kernel] of [
      [undefined, 'relaxed-simd'],
      [true, 'relaxed-simd'],
      [false, 'simd128'],
    ] as const) {
      const d = createDevice({
        backend: 'wasm',
        threads: 1,
        ...(opt !== undefined ? { relaxedSimd: opt } : {}),
      });
      expect((d.backend as WasmBackend).gemmKernel, `relaxedSimd: ${opt}`).toBe(kernel);
      expect(d.info().renderer).toMatch(kernel === 'simd128' ? /multiply then add/ : /relaxed_madd/);
      d.destroy();
    }
  });

  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 8],
    [5, 9, 17],
    [17, 300, 13],
    [64, 257, 65],
    [130, 520, 70],
  ];
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
  ] as [boolean, boolean][])
    it(`A${tA ? '^T' : ''} B${tB ? '^T' : ''}: within the accumulation bound of the SIMD128 GEMM, and of float64`, () => {
      let fused = 0; // elements where the two kernels differ: the FMA is really used when > 0
      for (const [m, k, n] of sizes) {
        const a = testData(m * k, m + k, -2, 2);
        const b = testData(k * n, k + n + 1, -2, 2);
        const r = product(relaxed, a, b, m, k, n, tA, tB);
        const p = product(plain, a, b, m, k, n, tA, tB);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let exact = 0;
            let mag = 0;
            for (let q = 0; q < k; q++) {
              const v = at(a, tA, m, k, i, q) * at(b, tB, k, n, q, j);
              exact += v;
              mag += Math.abs(v);
            }
            const bound = k * 2 ** -24 * mag + 1e-30;
            const g = r[i * n + j];
            expect(Math.abs(g - exact), `[${m},${k},${n}] (${i},${j}) vs float64`).toBeLessThanOrEqual(bound);
            expect(Math.abs(g - p[i * n + j]), `[${m},${k},${n}] (${i},${j}) vs simd128`).toBeLessThanOrEqual(
              2 * bound,
            );
            if (g !== p[i * n + j]) fused++;
          }
      }
      console.info(`[wasm relaxed] ${fused} elements differ from the SIMD128 GEMM (fused rounding)`);
    });

  it('is deterministic: the same bits on every call and for 1 and 2 threads (row and column slabs)', () => {
    relaxed2.waitForWorkers();
    for (const [m, k, n] of [
      [256, 128, 64],
      [64, 128, 256],
    ]) {
      const a = testData(m * k, 3, -1, 1);
      const b = testData(k * n, 4, -1, 1);
      const one = product(relaxed, a, b, m, k, n, false, false);
      const again = product(relaxed, a, b, m, k, n, false, false);
      const two = product(relaxed2, a, b, m, k, n, false, false);
      expect(Buffer.from(again.buffer).equals(Buffer.from(one.buffer))).toBe(true);
      expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    }
  });

  it('propagates NaN and infinities as the SIMD128 GEMM does', () => {
    const [m, k, n] = [5, 6, 9];
    const a = testData(m * k, 11, -1, 1);
    const b = testData(k * n, 12, -1, 1);
    a[0] = Number.NaN; // row 0 of C: NaN
    a[k + 2] = Number.POSITIVE_INFINITY; // row 1: +-Inf, or NaN where b[2, j] is 0
    b[2 * n + 3] = 0;
    a[2 * k + 1] = 3e38; // row 2: overflow to +-Infinity in float32
    a[2 * k + 2] = 3e38;
    b[n + 4] = 2;
    b[2 * n + 4] = 2;
    const r = product(relaxed, a, b, m, k, n, false, false);
    const p = product(plain, a, b, m, k, n, false, false);
    for (let j = 0; j < n; j++) expect(r[j], `C[0, ${j}]`).toBeNaN();
    expect(r[n + 3], 'Inf * 0').toBeNaN();
    for (let j = 0; j < n; j++)
      if (!Number.isFinite(p[j]) || !Number.isFinite(p[n + j]))
        expect([r[j], r[n + j]], `column ${j}`).toEqual([p[j], p[n + j]]);
    expect(r[2 * n + 4]).toBe(Number.POSITIVE_INFINITY);
    expect(p[2 * n + 4]).toBe(Number.POSITIVE_INFINITY);
  });

  it('measures GEMM n = 512 on one thread against the SIMD128 GEMM (reported, not asserted)', () => {
    const n = 512;
    const a = relaxed.upload(testData(n * n, 1, -1, 1));
    const b = relaxed.upload(testData(n * n, 2, -1, 1));
    const pa = plain.upload(testData(n * n, 1, -1, 1));
    const pb = plain.upload(testData(n * n, 2, -1, 1));
    const cpu = (f: () => void) => {
      const t = process.cpuUsage();
      f();
      const u = process.cpuUsage(t);
      return (u.user + u.system) / 1000;
    };
    const best = { relaxed: Infinity, simd128: Infinity };
    for (let r = 0; r < 5; r++) {
      best.relaxed = Math.min(
        best.relaxed,
        cpu(() => relaxed.free(relaxed.matmul(a, b, n, n, n, false, false))),
      );
      best.simd128 = Math.min(
        best.simd128,
        cpu(() => plain.free(plain.matmul(pa, pb, n, n, n, false, false))),
      );
    }
    console.info(
      `[wasm relaxed] GEMM n=512, 1 thread, min CPU ms of 5: relaxed ${best.relaxed.toFixed(2)}, simd128 ${best.simd128.toFixed(2)} (ratio ${(best.simd128 / best.relaxed).toFixed(2)})`,
    );
    for (const x of [a, b]) relaxed.free(x);
    for (const x of [pa, pb]) plain.free(x);
  });
});
