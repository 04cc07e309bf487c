import { describe, expect, it } from 'vitest';
import { indexExpr, offsetExpr, offsetTable, planBroadcast, planReduce } from './codegen.js';
import { broadcastTo64 } from './testing/reference.js';

// The index expressions are what the GPU evaluates; here they are evaluated in float32-rounded
// JavaScript to check them against explicit multi-index arithmetic.
const f32 = Math.fround;
function evalIndex(expr: string, i: number): number {
  // Evaluate with every intermediate rounded to float32, as a GPU would.
  const src = expr.replace(/Math\.floor/g, 'F');
  const fn = new Function('i', 'F', `return ${src};`) as (i: number, F: (x: number) => number) => number;
  return fn(f32(i), (x) => Math.floor(f32(x)));
}

describe('broadcast plans', () => {
  it('merges contiguous dimensions', () => {
    expect(
      planBroadcast(
        [
          [8, 16],
          [8, 16],
        ],
        [8, 16],
      ).dims,
    ).toEqual([128]);
    expect(planBroadcast([[8, 16], [16]], [8, 16])).toEqual({
      dims: [8, 16],
      strides: [
        [16, 1],
        [0, 1],
      ],
    });
    expect(
      planBroadcast(
        [
          [2, 3, 4],
          [3, 1],
        ],
        [2, 3, 4],
      ).dims,
    ).toEqual([2, 3, 4]);
    expect(planBroadcast([[], []], []).dims).toEqual([1]);
  });

  it.each([
    [
      [2, 3, 4],
      [3, 1],
    ],
    [
      [5, 1],
      [1, 6],
    ],
    [[4, 3], []],
    [
      [2, 1, 3],
      [4, 1],
    ],
    [
      [7, 5, 3],
      [7, 1, 3],
    ],
  ])('index expressions for %j with %j equal NumPy broadcasting', (sa, sb) => {
    const out = sa.map((_, k) => k);
    const rank = Math.max(sa.length, sb.length);
    const shape: number[] = [];
    for (let k = 0; k < rank; k++)
      shape.push(Math.max(sa[sa.length - rank + k] ?? 1, sb[sb.length - rank + k] ?? 1));
    const plan = planBroadcast([sa, sb], shape);
    const n = shape.reduce((p, x) => p * x, 1);
    for (const [input, s] of [
      [0, sa],
      [1, sb],
    ] as const) {
      const size = s.reduce((p, x) => p * x, 1);
      const want = broadcastTo64(
        Array.from({ length: size }, (_, k) => k),
        s,
        shape,
      );
      const expr = indexExpr(plan, input);
      for (let i = 0; i < n; i++) expect(evalIndex(expr, i)).toBe(want[i]);
    }
    expect(out.length).toBe(sa.length);
  });

  it('stays exact in float32 up to 2^23 elements (i + 0.5 must be representable)', () => {
    // 3 x 2796202 = 8388606 elements, just under 2^23
    const plan = planBroadcast(
      [
        [3, 2796202],
        [3, 1],
      ],
      [3, 2796202],
    );
    const expr = indexExpr(plan, 1);
    for (const i of [0, 2796201, 2796202, 5592403, 5592404, 8388605]) {
      expect(evalIndex(expr, i)).toBe(Math.floor(i / 2796202));
    }
  });
});

describe('reduce plans', () => {
  it('collapses kept and reduced dimensions and tabulates offsets', () => {
    const p = planReduce([2, 3, 4, 5], [1, 2]);
    expect(p.outSize).toBe(10);
    expect(p.reduceSize).toBe(12);
    expect(p.redDims).toEqual([12]);
    expect(p.redStrides).toEqual([5]);
    expect(p.keptDims).toEqual([2, 5]);
    expect(Array.from(offsetTable(p.keptDims, p.keptStrides))).toEqual([0, 1, 2, 3, 4, 60, 61, 62, 63, 64]);
    const e = offsetExpr(p.keptDims, p.keptStrides, 'i');
    for (let o = 0; o < 10; o++) expect(evalIndex(e, o)).toBe(offsetTable(p.keptDims, p.keptStrides)[o]);
  });
});
