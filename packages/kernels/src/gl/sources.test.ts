import { describe, expect, it } from 'vitest';
import type { ElementwiseSpec, ReduceOp } from '../backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { planBroadcast, planReduce } from '../codegen.js';
import { BINARY, UNARY } from '../elementwise.js';
import type { Shape } from '../shape.js';
import { sizeOf } from '../shape.js';
import { runKernelText as run, testData } from '../testing/reference.js';
import type { StageOp } from './sources.js';
import {
  gatherSource,
  LOGSUMEXP_FINISH_SOURCE,
  MATMUL_MAX_K,
  mapSource,
  matmulSource,
  REDUCE_SINGLE_STAGE,
  stageSource,
  stageSplit,
  transposeSource,
} from './sources.js';

// The gl backend's kernel sources, run without a GPU: gpu.js kernel text is a JavaScript subset,
// so each source is evaluated here as a JavaScript function once per output position (this.thread.x)
// and compared with the CPU backend. This checks the index arithmetic, broadcasting, transposes,
// split-k and the multi-stage reductions (NaN handling included) on any machine; the GPU's own
// float32 arithmetic is checked by backend.test.ts where a GL context starts.

const cpu = new CpuBackend();
const onCpu = (f: (b: CpuBackend) => ReturnType<CpuBackend['upload']>) => cpu.read(f(cpu));

describe('gl kernel sources, evaluated as JavaScript', () => {
  const layouts: [Shape[], Shape, string][] = [
    [
      [
        [6, 5],
        [6, 5],
      ],
      [6, 5],
      'same shape',
    ],
    [[[6, 5], [5]], [6, 5], 'row broadcast'],
    [
      [
        [6, 5],
        [6, 1],
      ],
      [6, 5],
      'column broadcast',
    ],
    [
      [
        [2, 3, 4],
        [3, 1],
      ],
      [2, 3, 4],
      'middle broadcast',
    ],
    [[[1], [4, 3]], [4, 3], 'broadcast first operand'],
  ];
  it.each(layouts)('map: %j -> %j (%s)', (shapes, outShape) => {
    const spec: ElementwiseSpec = BINARY.squaredDifference;
    const xs = shapes.map((s, k) => testData(sizeOf(s), 10 + k));
    const got = run(mapSource(spec, planBroadcast(shapes, outShape)), sizeOf(outShape), xs);
    const want = onCpu((b) =>
      b.map(
        spec,
        xs.map((x) => b.upload(x)),
        shapes,
        outShape,
        [],
      ),
    );
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('map with statements and parameters (gelu, clamp-like spec)', () => {
    const x = testData(50, 3);
    const got = run(mapSource(UNARY.gelu, planBroadcast([[50]], [50])), 50, [x]);
    const want = onCpu((b) => b.map(UNARY.gelu, [b.upload(x)], [[50]], [50], []));
    for (let i = 0; i < 50; i++) expect(got[i]).toBeCloseTo(want[i], 6);
  });

  it.each([
    [5, 7, 3, false, false],
    [5, 7, 3, true, false],
    [5, 7, 3, false, true],
    [4, 9, 1, true, true],
    [1, 13, 6, false, false],
  ] as const)('matmul %i x %i x %i (transA %s, transB %s)', (m, k, n, tA, tB) => {
    const a = testData(m * k, 1);
    const b = testData(k * n, 2);
    const { source, slices } = matmulSource(m, k, n, tA, tB);
    expect(slices).toBe(1);
    const got = run(source, m * n, [a, b]);
    const want = onCpu((c) => c.matmul(c.upload(a), c.upload(b), m, k, n, tA, tB));
    for (let i = 0; i < m * n; i++) expect(got[i]).toBeCloseTo(want[i], 4);
  });

  it('matmul above MATMUL_MAX_K splits k into slices whose sum is the product', () => {
    const m = 2;
    const n = 3;
    const k = MATMUL_MAX_K + 37;
    const a = testData(m * k, 4, -1, 1);
    const b = testData(k * n, 5, -1, 1);
    const { source, slices } = matmulSource(m, k, n, false, true);
    expect(slices).toBe(2);
    const parts = run(source, slices * m * n, [a, b]);
    const want = onCpu((c) => c.matmul(c.upload(a), c.upload(b), m, k, n, false, true));
    for (let i = 0; i < m * n; i++) expect(parts[i] + parts[m * n + i]).toBeCloseTo(want[i], 2);
  });

  it.each([
    [
      [3, 4, 5],
      [2, 0, 1],
    ],
    [
      [6, 7],
      [1, 0],
    ],
    [
      [2, 1, 3, 4],
      [3, 1, 0, 2],
    ],
  ] as const)('transpose %j by %j', (shape, perm) => {
    const x = testData(sizeOf(shape), 6);
    const got = run(transposeSource(shape, perm), sizeOf(shape), [x]);
    const want = onCpu((c) => c.transpose(c.upload(x), shape, perm));
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it.each([0, 1, 2])('gather along axis %i', (axis) => {
    const shape = [3, 4, 5];
    const x = testData(60, 7);
    const idx = new Float32Array([shape[axis] - 1, 0, 1, 0]);
    const n = (60 / shape[axis]) * idx.length;
    const got = run(gatherSource(shape, idx.length, axis), n, [x, idx]);
    const want = onCpu((c) => c.gather(c.upload(x), shape, c.upload(idx), idx.length, axis));
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  /** The backend's staged reduction, with every stage's source evaluated here. */
  function reduceStaged(op: ReduceOp, x: Float32Array, shape: Shape, axes: number[]): Float32Array {
    const plan = planReduce(shape, axes);
    const n = plan.outSize;
    const r = plan.reduceSize;
    const layout = plan;
    const stages = (sop: Exclude<StageOp, 'sumexp'>): Float32Array => {
      let count = r;
      let partial: Float32Array | null = null;
      for (let first = true; ; first = false) {
        const { chunks, chunk } = stageSplit(count);
        const last = chunks === 1;
        const isArg = sop === 'argmax' || sop === 'argmin';
        let next: Float32Array;
        if (first) next = run(stageSource(sop, layout, false, count, chunks, chunk, last), n * chunks, [x]);
        else if (isArg) {
          next = run(stageSource(sop, layout, true, count, chunks, chunk, last), n * chunks, [x, partial!]);
        } else {
          const l2 = { keptDims: [n], keptStrides: [count], redDims: [count], redStrides: [1] };
          next = run(stageSource(sop, l2, false, count, chunks, chunk, last), n * chunks, [partial!]);
        }
        partial = next;
        if (last) return partial;
        count = chunks;
      }
    };
    if (op !== 'logsumexp') return stages(op);
    const m = stages('max');
    const { chunks, chunk } = stageSplit(r);
    let s = run(stageSource('sumexp', layout, false, r, chunks, chunk, chunks === 1), n * chunks, [x, m]);
    if (chunks > 1) {
      const l2 = { keptDims: [n], keptStrides: [chunks], redDims: [chunks], redStrides: [1] };
      s = run(stageSource('sum', l2, false, chunks, 1, chunks, true), n, [s]);
    }
    return run(LOGSUMEXP_FINISH_SOURCE, n, [m, s]);
  }

  it.each(['sum', 'max', 'min', 'prod', 'argmax', 'argmin', 'logsumexp'] as const)(
    'reduce %s over short and multi-stage rows, with NaN and infinities, as the CPU backend',
    (op) => {
      const long = REDUCE_SINGLE_STAGE * 3 + 17; // three stages for arg ops
      for (const [shape, axes] of [
        [[4, 6, 5], [1]],
        [
          [4, 6, 5],
          [0, 2],
        ],
        [[3, long], [1]],
      ] as [Shape, number[]][]) {
        const x = testData(sizeOf(shape), 8, op === 'prod' ? 0.9 : -3, op === 'prod' ? 1.1 : 3);
        if (shape[1] === long) {
          x[long + 2500] = Number.NaN; // row 1: a NaN in a late chunk
          x[long + 2900] = Number.NaN;
          x[2 * long + 5] = Number.POSITIVE_INFINITY; // row 2: an infinity early
          x[2 * long + 3000] = Number.NEGATIVE_INFINITY;
        }
        const got = reduceStaged(op, x, shape, axes);
        const want = onCpu((c) => c.reduce(op, c.upload(x), shape, axes));
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          if (Number.isNaN(want[i]) || !Number.isFinite(want[i]) || op.startsWith('arg')) {
            expect(
              Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])),
              `${op}[${i}]`,
            ).toBe(true);
          } else expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want[i])));
        }
      }
    },
  );
});
