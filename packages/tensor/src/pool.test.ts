import {
  type BadCall,
  expectClose,
  expectGradcheck,
  expectRejectedCleanly,
  loadFixture,
  testBackends,
  useBackend,
} from '@gradkit/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { tensor } from './creation.js';
import { ShapeError, ValueError } from './errors.js';
import { noGrad } from './grad-mode.js';
import type { AdaptiveSize, AvgPool2dOptions, MaxPool2dOptions } from './pool.js';
import { _setPoolChunkElements, adaptiveAvgPool2d, avgPool2d, maxPool2d } from './pool.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';

// Tolerances. Max pooling selects values: forward and gradients (sums of at most a few weights on
// a 1/64 grid) are exact, compared within 1e-6. Average pooling divides by the window size
// (float32 rounding of a sum over <= 9 values and one division, and gl's float32 division):
// 1e-5 absolute and relative against PyTorch 1.13's float64 results; the adaptive matrices hold
// 1/size rounded to float32, also within 1e-5. Finite differences: test-utils GRADCHECK.
const MAX_TOL = { atol: 1e-6, rtol: 1e-6 };
const AVG_TOL = { atol: 1e-5, rtol: 1e-5 };

interface Case {
  name: string;
  op: 'conv2d' | 'maxPool2d' | 'avgPool2d' | 'adaptiveAvgPool2d';
  args: Record<string, unknown>;
  inputs: Ref[];
  weight: number[];
  out: Ref;
  grads: number[][];
}
const FIXTURE = loadFixture<{ cases: Case[] }>(new URL('../fixtures/conv.json', import.meta.url));
const CASES = FIXTURE.cases.filter((c) => c.op !== 'conv2d');

function run(c: Case, x: Tensor): Tensor {
  switch (c.op) {
    case 'maxPool2d':
      return maxPool2d(x, c.args as unknown as MaxPool2dOptions);
    case 'avgPool2d':
      return avgPool2d(x, c.args as unknown as AvgPool2dOptions);
    default:
      return adaptiveAvgPool2d(x, c.args.outputSize as AdaptiveSize);
  }
}

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const byName = (name: string): Case => {
  const c = CASES.find((k) => k.name === name);
  if (!c) throw new Error(`no fixture case '${name}'`);
  return c;
};

describe.each(testBackends)('pooling on %s', (backend) => {
  useBackend(backend);

  it.each(CASES.map((c) => [c.name, c] as const))('PyTorch fixture: %s', (_, c) =>
    scope(() => {
      const tol = c.op === 'maxPool2d' ? MAX_TOL : AVG_TOL;
      const x = t(c.inputs[0], true);
      const y = run(c, x);
      expect([...y.shape]).toEqual(c.out.shape);
      expectClose(y, c.out.data, tol, 'forward');
      y.mul(tensor(c.weight, c.out.shape)).sum().backward();
      expectClose(x.grad!, c.grads[0], tol, 'dx');
    }),
  );

  it('max-pool ties: the whole window gradient goes to the first maximum', () =>
    scope(() => {
      // one 2x2 window of equal values, and a 3x3 window whose maximum 2 appears three times
      const x = tensor([5, 5, 5, 5], [1, 1, 2, 2], { requiresGrad: true });
      maxPool2d(x, { kernelSize: 2 }).sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([1, 0, 0, 0]);
      const z = tensor([0, 2, 1, 2, 0, 2, 1, 1, 1], [1, 1, 3, 3], { requiresGrad: true });
      maxPool2d(z, { kernelSize: 3 })
        .mul(tensor([7], [1, 1, 1, 1]))
        .sum()
        .backward();
      expect(Array.from(z.grad!.dataSync())).toEqual([0, 7, 0, 0, 0, 0, 0, 0, 0]);
    }));

  it.each([
    'max 3x3 stride 2 padding 1',
    'max dilation 2',
    'avg ceilMode clipped divisor',
    'avg padding, countIncludePad false',
    'adaptive uneven 5x7 -> 3x4',
    'adaptive global',
  ])('gradcheck: %s', (name) =>
    scope(() => {
      const c = byName(name);
      const w = tensor(c.weight, c.out.shape);
      // max pooling needs a unique maximum per window, apart by more than 2 eps = 0.02 (the
      // fixture's 1/64 grid is not): a permutation of 0.05 steps
      const n = c.inputs[0].data.length;
      const x =
        c.op === 'maxPool2d'
          ? tensor(
              Array.from({ length: n }, (_, i) => ((i * 37) % n) * 0.05 - 1),
              c.inputs[0].shape,
              { requiresGrad: true },
            )
          : t(c.inputs[0], true);
      expect(c.op !== 'maxPool2d' || n % 37 !== 0).toBe(true);
      expectGradcheck((z) => run(c, z).mul(w), [x]);
    }),
  );

  afterEach(() => _setPoolChunkElements(null));

  it('batch chunks (a window read above the per-kernel limit) give the same values and gradients', () => {
    for (const name of ['max 2x2', 'avg 2x2']) {
      scope(() => {
        const c = byName(name);
        // room for one sample's window read only: N = 2 runs as two chunks
        _setPoolChunkElements(1);
        const x = t(c.inputs[0], true);
        const y = run(c, x);
        expect(y.gradFn).toBe('concat');
        const tol = c.op === 'maxPool2d' ? MAX_TOL : AVG_TOL;
        expectClose(y, c.out.data, tol, `${name} forward`);
        y.mul(tensor(c.weight, c.out.shape)).sum().backward();
        expectClose(x.grad!, c.grads[0], tol, `${name} dx`);
      });
    }
    // a batch of 5 in chunks of 2 samples (3 chunks, the last shorter), padding and overlapping
    // windows with ties: the same bits as one call
    const shape = [5, 3, 7, 6];
    const n = 5 * 3 * 7 * 6;
    const values = Array.from({ length: n }, (_, i) => Math.round(((i * 37) % 101) / 10) - 4);
    const w = Array.from({ length: 5 * 3 * 4 * 3 }, (_, i) => ((i * 13) % 7) - 3);
    const pools: ((x: Tensor) => Tensor)[] = [
      (x) => maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
      (x) => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }),
    ];
    for (const pool of pools) {
      const pass = (chunk: number | null) =>
        scope(() => {
          _setPoolChunkElements(chunk);
          const x = tensor(values, shape, { requiresGrad: true });
          const y = pool(x);
          expect(y.shape).toEqual([5, 3, 4, 3]);
          y.mul(tensor(w, y.shape)).sum().backward();
          return { y: Array.from(y.dataSync()), dx: Array.from(x.grad!.dataSync()), fn: y.gradFn };
        });
      const whole = pass(null);
      const m0 = memory();
      const chunked = pass(2 * 3 * 9 * 4 * 3);
      const m1 = memory();
      expect(chunked.fn).toBe('concat');
      expect(chunked.y).toEqual(whole.y);
      expect(chunked.dx).toEqual(whole.dx);
      expect([m1.tensors, m1.arrays, m1.buffers]).toEqual([m0.tensors, m0.arrays, m0.buffers]);
    }
  });

  it.skipIf(backend !== 'gl')(
    'a tiled activation (small tiles on gl): max pooling forward and backward in batch chunks',
    () => {
      // the gl backend's tiles lowered to arrays over 1000 elements in tiles of 256 (at the real
      // limit this is an activation above 2^23, as [3, 16, 256, 700]: 43 s on llvmpipe)
      const be = tensor([0]).device.backend as unknown as { tileAbove: number; tileElements: number };
      const saved = [be.tileAbove, be.tileElements];
      try {
        be.tileAbove = 1000;
        be.tileElements = 256;
        _setPoolChunkElements(1000);
        scope(() => {
          const [N, C, H, W] = [5, 3, 12, 14];
          const n = N * C * H * W;
          const v = new Float32Array(n);
          for (let i = 0; i < n; i++) v[i] = ((i * 7919) % 1013) % 9; // ties in many windows
          const x = tensor(v, [N, C, H, W], { requiresGrad: true });
          const y = maxPool2d(x, { kernelSize: 2 });
          expect(y.gradFn).toBe('concat');
          y.sum().backward();
          const got = y.dataSync();
          const dx = x.grad!.dataSync();
          const [OH, OW] = [H / 2, W / 2];
          const want = new Float32Array(n);
          for (let p = 0; p < N * C; p++) {
            for (let i = 0; i < OH; i++) {
              for (let j = 0; j < OW; j++) {
                let best = Number.NEGATIVE_INFINITY;
                let at = -1;
                for (const [u, w] of [
                  [0, 0],
                  [0, 1],
                  [1, 0],
                  [1, 1],
                ]) {
                  const k = (p * H + 2 * i + u) * W + 2 * j + w;
                  if (v[k] > best) {
                    best = v[k];
                    at = k;
                  }
                }
                const o = (p * OH + i) * OW + j;
                if (got[o] !== best) expect.fail(`y[${o}] = ${got[o]}, want ${best}`);
                want[at] = 1; // the window's gradient goes to its first maximum
              }
            }
          }
          expect(Array.from(dx)).toEqual(Array.from(want));
        });
      } finally {
        [be.tileAbove, be.tileElements] = saved;
      }
    },
  );

  it('rejects bad arguments with typed errors naming the op, allocating nothing', () =>
    scope(() => {
      const x = tensor(new Array(2 * 5 * 5).fill(1), [1, 2, 5, 5]);
      const x3 = tensor(new Array(2 * 5 * 5).fill(1), [2, 5, 5]);
      const bad: BadCall[] = [
        [
          () => maxPool2d(x, { kernelSize: 2, padding: 2 }),
          ValueError,
          /maxPool2d: padding \[2, 2\] must be at most half the kernel size \[2, 2\]/,
        ],
        [
          () => maxPool2d(x, { kernelSize: 6 }),
          ShapeError,
          /maxPool2d: input \[1,2,5,5\] is too small for kernel \[6, 6\]/,
        ],
        [
          () => maxPool2d(x3, { kernelSize: 2 }),
          ShapeError,
          /maxPool2d: x must be 4-D \[N, C, H, W\], got \[2,5,5\]/,
        ],
        [
          () => maxPool2d(x, {} as MaxPool2dOptions),
          ValueError,
          /maxPool2d: kernelSize must be given, got undefined/,
        ],
        [
          () => maxPool2d(x, { kernelSize: [2, 0] }),
          ValueError,
          /maxPool2d: kernelSize must be an integer >= 1 or a pair \[h, w\] of them, got \[2,0\]/,
        ],
        [
          () => maxPool2d(x, { kernelSize: 2, ceil_mode: true } as MaxPool2dOptions),
          ValueError,
          /maxPool2d: unknown option 'ceil_mode'/,
        ],
        [
          () => avgPool2d(x, { kernelSize: 2, dilation: 2 } as AvgPool2dOptions),
          ValueError,
          /avgPool2d: unknown option 'dilation'/,
        ],
        [
          () => avgPool2d(x, { kernelSize: 2, divisorOverride: 0 }),
          ValueError,
          /avgPool2d: divisorOverride must be a non-zero integer, got 0/,
        ],
        [
          () => avgPool2d(x, { kernelSize: 2, countIncludePad: 1 as unknown as boolean }),
          ValueError,
          /avgPool2d: countIncludePad must be a boolean, got 1/,
        ],
        [
          () => adaptiveAvgPool2d(x, [2, 0]),
          ValueError,
          /adaptiveAvgPool2d: outputSize must be an integer >= 1 or a pair \[oh, ow\] of them \(null keeps the size\), got \[2,0\]/,
        ],
        [() => adaptiveAvgPool2d(x3, 1), ShapeError, /adaptiveAvgPool2d: x must be 4-D/],
      ];
      expectRejectedCleanly(bad);
    }));

  it('memory: scoped forward + backward of every pool leaves the live tensors and buffers as they were', () => {
    const cases = [
      'max ceilMode partial window',
      'avg padding, countIncludePad false',
      'adaptive uneven 5x7 -> 3x4',
    ];
    const m0 = memory();
    for (let i = 0; i < 3; i++) {
      scope(() => {
        for (const name of cases) {
          const c = byName(name);
          const x = t(c.inputs[0], true);
          run(c, x).mul(tensor(c.weight, c.out.shape)).sum().backward();
          noGrad(() => run(c, x));
        }
      });
    }
    const m1 = memory();
    expect(m1.tensors).toBe(m0.tensors);
    expect(m1.arrays).toBe(m0.arrays);
    expect(m1.buffers).toBe(m0.buffers);
  });
});
