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
import type { Conv2dOptions } from './conv.js';
import { _setConvChunkElements, conv2d } from './conv.js';
import { tensor } from './creation.js';
import { ShapeError, ValueError } from './errors.js';
import { noGrad } from './grad-mode.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';

// Tolerances. Fixture inputs lie on a 1/64 grid in [-2, 2), so every product has at most 12
// fractional bits and every conv sum here is exact in float32 (|sum| < 2^12); forward values and
// gradients are compared with PyTorch 1.13's float64 results within 1e-5 (room for a backend that
// reorders or fuses). Finite differences: the repo's gradcheck tolerance (test-utils GRADCHECK).
const TOL = { atol: 1e-5, rtol: 1e-5 };

interface Case {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: (Ref | null)[];
  weight: number[];
  out: Ref;
  grads: (number[] | null)[];
}
const FIXTURE = loadFixture<{ cases: Case[] }>(new URL('../fixtures/conv.json', import.meta.url));
const CASES = FIXTURE.cases.filter((c) => c.op === 'conv2d');

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const optionsOf = (c: Case): Conv2dOptions => c.args as Conv2dOptions;
const byName = (name: string): Case => {
  const c = CASES.find((k) => k.name === name);
  if (!c) throw new Error(`no fixture case '${name}'`);
  return c;
};

describe.each(testBackends)('conv2d on %s', (backend) => {
  useBackend(backend);
  afterEach(() => _setConvChunkElements(null));

  it('covers the fixture grid', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
    const groups = new Set(CASES.map((c) => c.args.groups));
    expect(groups.has(1) && groups.has(2) && groups.has(3)).toBe(true);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('PyTorch fixture: %s', (_, c) =>
    scope(() => {
      const [x, w, b] = c.inputs.map((r) => (r ? t(r, true) : null));
      const y = conv2d(x!, w!, b, optionsOf(c));
      expect([...y.shape]).toEqual(c.out.shape);
      expectClose(y, c.out.data, TOL, 'forward');
      y.mul(tensor(c.weight, c.out.shape)).sum().backward();
      expectClose(x!.grad!, c.grads[0]!, TOL, 'dx');
      expectClose(w!.grad!, c.grads[1]!, TOL, 'dweight');
      if (b) expectClose(b.grad!, c.grads[2]!, TOL, 'dbias');
    }),
  );

  it.each([
    'conv tuple stride/padding/dilation',
    'conv per-side padding, stride 2',
    'conv depthwise multiplier 2, stride 2',
    'conv groups 2',
  ])('gradcheck for input, weight and bias: %s', (name) =>
    scope(() => {
      const c = byName(name);
      const w = tensor(c.weight, c.out.shape);
      const inputs = c.inputs.filter((r): r is Ref => r !== null).map((r) => t(r, true));
      expectGradcheck((x, k, b) => conv2d(x, k, b ?? null, optionsOf(c)).mul(w), inputs);
    }),
  );

  it('only the gradients asked for: bias alone, input alone', () =>
    scope(() => {
      for (const name of ['conv 3x3 bias', 'conv depthwise']) {
        const c = byName(name);
        const [xr, wr, br] = c.inputs as Ref[];
        const x = t(xr);
        const w = t(wr);
        const b = t(br, true);
        conv2d(x, w, b, optionsOf(c)).mul(tensor(c.weight, c.out.shape)).sum().backward();
        expectClose(b.grad!, c.grads[2]!, TOL, `${name} dbias`);
        const x2 = t(xr, true);
        conv2d(x2, w, b, optionsOf(c)).mul(tensor(c.weight, c.out.shape)).sum().backward();
        expectClose(x2.grad!, c.grads[0]!, TOL, `${name} dx`);
        expect(w.grad).toBeNull();
      }
    }));

  it('batch chunks (an intermediate above the per-array limit) give the same values and gradients', () =>
    scope(() => {
      for (const name of ['conv 3x3 bias', 'conv depthwise']) {
        const c = byName(name);
        // room for one sample's largest intermediate only: N = 2 runs as two chunks
        _setConvChunkElements(1);
        const [x, w, b] = c.inputs.map((r) => t(r!, true));
        const y = conv2d(x, w, b, optionsOf(c));
        expect(y.gradFn).toBe('concat');
        expectClose(y, c.out.data, TOL, `${name} forward`);
        y.mul(tensor(c.weight, c.out.shape)).sum().backward();
        expectClose(x.grad!, c.grads[0]!, TOL, `${name} dx`);
        expectClose(w.grad!, c.grads[1]!, TOL, `${name} dweight`);
        expectClose(b.grad!, c.grads[2]!, TOL, `${name} dbias`);
        _setConvChunkElements(null);
      }
    }));

  it.skipIf(backend !== 'gl')(
    'a tiled activation (small tiles on gl): forward and gradients in batch chunks equal the untiled run',
    () => {
      // values on the 1/64 grid in [-2, 2): every sum below is exact in float32, so the chunked,
      // tiled run must give the untiled run's bits
      const grid = (n: number, k: number) =>
        Array.from({ length: n }, (_, i) => (((i * k) % 256) - 128) / 64);
      const [N, C, H, W] = [5, 3, 12, 14];
      const pass = (small: boolean) =>
        scope(() => {
          const be = tensor([0]).device.backend as unknown as { tileAbove: number; tileElements: number };
          const saved = [be.tileAbove, be.tileElements];
          try {
            if (small) {
              // arrays over 1000 elements in tiles of 256; one sample's im2col (3 * 9 * 168) per chunk
              be.tileAbove = 1000;
              be.tileElements = 256;
              _setConvChunkElements(1000);
            }
            const x = tensor(grid(N * C * H * W, 37), [N, C, H, W], { requiresGrad: true });
            const w = tensor(grid(4 * C * 9, 11), [4, C, 3, 3], { requiresGrad: true });
            const b = tensor(grid(4, 5), [4], { requiresGrad: true });
            const y = conv2d(x, w, b, { padding: 1 });
            if (small) expect(y.gradFn).toBe('concat');
            y.mul(tensor(grid(N * 4 * H * W, 29), y.shape))
              .sum()
              .backward();
            return [y, x.grad!, w.grad!, b.grad!].map((v) => Array.from(v.dataSync()));
          } finally {
            [be.tileAbove, be.tileElements] = saved;
            _setConvChunkElements(null);
          }
        });
      const whole = pass(false);
      const tiled = pass(true);
      ['y', 'dx', 'dw', 'db'].forEach((name, k) => {
        expect(tiled[k], name).toEqual(whole[k]);
      });
    },
  );

  it('padding forms: same/valid/per-side agree with the explicit numbers', () =>
    scope(() => {
      const c = byName('conv same, even kernel 2x4');
      const [x, w, b] = c.inputs.map((r) => t(r!));
      // kernel 2x4, dilation 1: 'same' pads [0, 1, 1, 2] (extra on the bottom and right)
      const same = conv2d(x, w, b, { padding: 'same' });
      expect(same.shape).toEqual(x.shape.slice(0, 1).concat([2], x.shape.slice(2)));
      expect(Array.from(same.dataSync())).toEqual(
        Array.from(conv2d(x, w, b, { padding: [0, 1, 1, 2] }).dataSync()),
      );
      expect(Array.from(conv2d(x, w, b, { padding: 'valid' }).dataSync())).toEqual(
        Array.from(conv2d(x, w, b, { padding: 0 }).dataSync()),
      );
      expect(Array.from(conv2d(x, w, b, { padding: [1, 2] }).dataSync())).toEqual(
        Array.from(conv2d(x, w, b, { padding: [1, 1, 2, 2] }).dataSync()),
      );
    }));

  it('rejects bad arguments with typed errors naming conv2d, allocating nothing', () =>
    scope(() => {
      const x = tensor(new Array(2 * 4 * 5 * 5).fill(0.5), [2, 4, 5, 5]);
      const w = tensor(new Array(6 * 2 * 3 * 3).fill(0.25), [6, 2, 3, 3]);
      const x3 = x.reshape([2, 4, 25]);
      const b2 = tensor([1, 2]);
      const bad: BadCall[] = [
        [
          () => conv2d(x, w),
          ShapeError,
          /conv2d: x \[2,4,5,5\] has 4 channels but weight \[6,2,3,3\] expects 2/,
        ],
        [() => conv2d(x, w, null, { groups: 4 }), ShapeError, /expects 2 x groups 4 = 8/],
        [
          () => conv2d(x, w, null, { groups: 0 }),
          ValueError,
          /conv2d: groups must be an integer >= 1, got 0/,
        ],
        [
          () => conv2d(x3, w, null, { groups: 2 }),
          ShapeError,
          /conv2d: x must be 4-D \[N, C, H, W\], got \[2,4,25\]/,
        ],
        [
          () => conv2d(x, w, b2, { groups: 2 }),
          ShapeError,
          /conv2d: bias must have shape \[6\] \(weight \[6,2,3,3\]\), got \[2\]/,
        ],
        [
          () => conv2d(x, w, null, { groups: 2, stride: 2, padding: 'same' }),
          ValueError,
          /conv2d: padding 'same' requires stride 1 \(as PyTorch\), got stride \[2, 2\]/,
        ],
        [
          () => conv2d(x, w, null, { groups: 2, padding: [1, 2, 3] as unknown as number }),
          ValueError,
          /conv2d: padding must be an integer >= 0, \[ph, pw\], \[top, bottom, left, right\], 'same' or 'valid', got \[1,2,3\]/,
        ],
        [
          () => conv2d(x, w, null, { groups: 2, padding: -1 }),
          ValueError,
          /conv2d: padding must be an integer >= 0/,
        ],
        [
          () => conv2d(x, w, null, { groups: 2, stride: [1, 0] }),
          ValueError,
          /conv2d: stride must be an integer >= 1 or a pair \[h, w\] of them, got \[1,0\]/,
        ],
        [
          () => conv2d(x, w, null, { groups: 2, dilation: 3 }),
          ShapeError,
          /conv2d: the height 5 padded to 5 is smaller than the dilated kernel \(7\)/,
        ],
        [
          () => conv2d(x, w, null, { groups: 2, strides: 2 } as Conv2dOptions),
          ValueError,
          /conv2d: unknown option 'strides'/,
        ],
        [() => conv2d(x, [1] as unknown as Tensor), ValueError, /conv2d: weight must be a Tensor/],
      ];
      expectRejectedCleanly(bad);
    }));

  it('memory: a scoped forward + backward leaves the live tensors and buffers as they were', () => {
    const c = byName('conv 3x3 bias');
    const d = byName('conv depthwise');
    const m0 = memory();
    for (let i = 0; i < 3; i++) {
      scope(() => {
        for (const k of [c, d]) {
          const [x, w, b] = k.inputs.map((r) => t(r!, true));
          conv2d(x, w, b, optionsOf(k)).mul(tensor(k.weight, k.out.shape)).sum().backward();
          // not recorded: the patches kept for the weight gradient are freed at once
          noGrad(() => conv2d(x, w, b, optionsOf(k)));
        }
      });
    }
    const m1 = memory();
    expect(m1.tensors).toBe(m0.tensors);
    expect(m1.arrays).toBe(m0.arrays);
    expect(m1.buffers).toBe(m0.buffers);
  });
});
