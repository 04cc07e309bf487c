import type { Tensor } from '@gradkit/tensor';
import {
  memory,
  noGrad,
  Rng,
  randn,
  ShapeError,
  scope,
  softmaxCrossEntropy,
  tensor,
  ValueError,
  zeros,
} from '@gradkit/tensor';
import { expectClose, expectGradcheck, loadFixture, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { Conv2d } from './conv2d.js';
import { Flatten } from './flatten.js';
import type { LayerSpec } from './model-spec.js';
import { buildModel, describeModel, resolveInitSpec } from './model-spec.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './pooling.js';

// The spatial layers against PyTorch 1.13 (fixtures/spatial.json, float64 references from float32
// inputs; fixtures/generate.py): outputs within 1e-5 + 1e-4 |want|, gradients of x, weight and
// bias within 1e-4 + 1e-4 |want|. The ops themselves are tested in @gradkit/tensor; these tests
// check that the layers pass their options through, own PyTorch-shaped parameters initialized as
// PyTorch does, build from model descriptions, and train with flat memory.

const OUTPUT = { atol: 1e-5, rtol: 1e-4 } as const;
const GRAD = { atol: 1e-4, rtol: 1e-4 } as const;

interface Pass {
  xShape: number[];
  x: number[];
  yShape: number[];
  y: number[];
  dy: number[];
  dx: number[];
  dweight?: number[];
  dbias?: number[];
}
interface ConvCase extends Pass {
  name: string;
  in: number;
  out: number;
  kernelSize: number | [number, number];
  options: {
    stride?: number;
    padding?: number | 'same' | 'valid';
    dilation?: [number, number];
    groups?: number;
    bias?: boolean;
  };
  weight: number[];
  weightShape: number[];
  bias: number[] | null;
}
interface PoolCase extends Pass {
  name: string;
  kind: 'MaxPool2d' | 'AvgPool2d' | 'AdaptiveAvgPool2d';
  args: [number | [number, number]];
  options: Record<string, number | boolean>;
}
interface Fixture {
  torch: string;
  conv2d: ConvCase[];
  pool: PoolCase[];
  flattenNchwShape: number[];
  conv2dInit: {
    in: number;
    out: number;
    kernelSize: [number, number];
    groups: number;
    fanIn: number;
    fanOut: number;
    bound: number;
  }[];
}
const FIXTURE = loadFixture<Fixture>(new URL('../fixtures/spatial.json', import.meta.url));

function pool(c: PoolCase) {
  const [a] = c.args;
  if (c.kind === 'MaxPool2d') return new MaxPool2d(a, c.options);
  if (c.kind === 'AvgPool2d') return new AvgPool2d(a, c.options);
  return new AdaptiveAvgPool2d(a);
}

describe.each(testBackends)('spatial layers on %s', (backend) => {
  useBackend(backend);

  describe(`against PyTorch ${FIXTURE.torch}`, () => {
    for (const c of FIXTURE.conv2d) {
      it(c.name, () =>
        scope(() => {
          const conv = new Conv2d(c.in, c.out, c.kernelSize, c.options);
          expect(conv.weight.shape).toEqual(c.weightShape);
          expect(conv.bias === null).toBe(c.bias === null);
          noGrad(() => {
            conv.weight.assign(tensor(c.weight, c.weightShape));
            if (c.bias) conv.bias!.assign(tensor(c.bias));
          });
          const x = tensor(c.x, c.xShape, { requiresGrad: true });
          const y = conv.forward(x);
          expect(y.shape).toEqual(c.yShape);
          y.backward(tensor(c.dy, c.yShape));
          expectClose(y, c.y, OUTPUT, 'y');
          expectClose(x.grad!, c.dx, GRAD, 'dx');
          expectClose(conv.weight.grad!, c.dweight!, GRAD, 'dweight');
          if (c.bias) expectClose(conv.bias!.grad!, c.dbias!, GRAD, 'dbias');
          conv.dispose();
        }),
      );
    }
    for (const c of FIXTURE.pool) {
      it(c.name, () =>
        scope(() => {
          const x = tensor(c.x, c.xShape, { requiresGrad: true });
          const y = pool(c).forward(x);
          expect(y.shape).toEqual(c.yShape);
          y.backward(tensor(c.dy, c.yShape));
          expectClose(y, c.y, OUTPUT, 'y');
          expectClose(x.grad!, c.dx, GRAD, 'dx');
        }),
      );
    }
    it("Flatten's defaults (startDim 1, endDim -1) flatten [N, C, H, W] to [N, C H W], as nn.Flatten", () =>
      scope(() => {
        const x = randn([2, 3, 4, 5], { rng: new Rng(1) });
        const y = new Flatten().forward(x);
        expect(y.shape).toEqual(FIXTURE.flattenNchwShape);
        expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync())); // row-major: a view
        expect(new Flatten(2).forward(x).shape).toEqual([2, 3, 20]);
        expect(new Flatten(0, 1).forward(x).shape).toEqual([6, 4, 5]);
      }));
  });

  it("default init is PyTorch's: U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = in / groups * kh * kw", () =>
    scope(() => {
      for (const c of FIXTURE.conv2dInit) {
        const conv = new Conv2d(c.in, c.out, c.kernelSize, { groups: c.groups, rng: new Rng(3) });
        const w = conv.weight.dataSync();
        const b = conv.bias!.dataSync();
        const maxAbs = (v: Float32Array) => v.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
        expect(maxAbs(w)).toBeLessThanOrEqual(Math.fround(c.bound));
        expect(maxAbs(b)).toBeLessThanOrEqual(Math.fround(c.bound));
        // U(-B, B): variance B^2 / 3; with n draws the sample variance is within 5 se (se = B^2 sqrt(4 / (45 n)))
        const n = w.length;
        const variance = w.reduce((s, e) => s + e * e, 0) / n;
        const b2 = c.bound ** 2;
        expect(Math.abs(variance - b2 / 3)).toBeLessThan(5 * b2 * Math.sqrt(4 / (45 * n)));
        expect(maxAbs(w)).toBeGreaterThan(0.9 * c.bound); // the bound is the fanIn one, not a smaller one
        conv.dispose();
      }
    }));

  it('a custom initializer gets the weight shape and the fans; an @gradkit/init spec computes the same fans', () =>
    scope(() => {
      const seen: unknown[] = [];
      const conv = new Conv2d(4, 6, [3, 2], {
        groups: 2,
        weightInit: (shape, { fanIn, fanOut }) => {
          seen.push({ shape, fanIn, fanOut });
          return zeros(shape);
        },
        biasInit: (shape, { fanIn }) => {
          seen.push({ shape, fanIn });
          return zeros(shape);
        },
      });
      const { fanIn, fanOut } = FIXTURE.conv2dInit[0]; // Conv2d(4, 6, (3, 2), groups=2) in PyTorch
      expect(seen).toEqual([
        { shape: [6, 2, 3, 2], fanIn, fanOut },
        { shape: [6], fanIn },
      ]);
      conv.dispose();
      // He normal (relu) from a spec: std sqrt(2 / fanIn) with fanIn = 16 * 5 * 5 = 400
      const he = new Conv2d(16, 32, 5, {
        weightInit: resolveInitSpec({ name: 'kaimingNormal', nonlinearity: 'relu' }, 'w'),
      });
      const w = he.weight.dataSync();
      const variance = w.reduce((s, e) => s + e * e, 0) / w.length;
      const want = 2 / 400;
      expect(Math.abs(variance - want)).toBeLessThan(5 * want * Math.sqrt(2 / w.length));
      he.dispose();
    }));

  it('gradcheck: Conv2d (stride 2, padding 1, groups 2) through its input (weight and bias: the fixtures)', () =>
    scope(() => {
      const conv = new Conv2d(2, 2, 2, { stride: 2, padding: 1, groups: 2, rng: new Rng(4) });
      const x = randn([1, 2, 3, 3], { rng: new Rng(5), requiresGrad: true });
      expectGradcheck((xi) => conv.forward(xi), [x]);
      conv.dispose();
    }));

  it('model descriptions build a small CNN, round-trip it, and it trains with flat memory', () => {
    const layers: LayerSpec[] = [
      { type: 'conv2d', in: 1, out: 4, kernelSize: 3, padding: 1 },
      { type: 'relu' },
      { type: 'maxPool2d', kernelSize: 2 },
      {
        type: 'conv2d',
        in: 4,
        out: 4,
        kernelSize: [3, 3],
        groups: 4,
        padding: 'same',
        bias: false,
        weightInit: 'kaimingUniform',
      },
      { type: 'avgPool2d', kernelSize: 2, stride: 1, padding: 1, countIncludePad: false },
      { type: 'adaptiveAvgPool2d', outputSize: [2, 2] },
      { type: 'flatten' },
      { type: 'linear', in: 16, out: 3 },
    ];
    const model = buildModel(layers, { rng: new Rng(8) });
    expect(describeModel(model).layers).toEqual(layers);
    expect(model.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      '0.weight 4x1x3x3',
      '0.bias 4',
      '3.weight 4x1x3x3',
      '7.weight 3x16',
      '7.bias 3',
    ]);
    const x = randn([4, 1, 6, 6], { rng: new Rng(9) });
    const labels = [0, 1, 2, 1];
    const step = () =>
      scope(() => {
        const loss = softmaxCrossEntropy(model.forward(x) as Tensor, labels);
        loss.backward();
        noGrad(() => {
          for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.1)));
        });
        model.zeroGrad();
        return loss.item();
      });
    const first = step();
    const start = memory();
    let last = first;
    for (let i = 0; i < 8; i++) last = step();
    const end = memory();
    expect([end.tensors, end.arrays, end.buffers, end.bytes]).toEqual([
      start.tensors,
      start.arrays,
      start.buffers,
      start.bytes,
    ]);
    expect(last).toBeLessThan(first);
    x.dispose();
    model.dispose();
  });

  it('bad options are ValueErrors naming the layer or the spec; bad inputs ShapeErrors naming the op', () => {
    expect(() => new Conv2d(0, 4, 3)).toThrow('Conv2d: inChannels must be an integer >= 1, got 0');
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(
      'Conv2d: inChannels (3) and outChannels (4) must be divisible by groups (2)',
    );
    expect(() => new Conv2d(3, 4, [3, 0])).toThrow(
      'Conv2d: kernelSize must be an integer >= 1 or a pair [h, w] of them, got [3,0]',
    );
    expect(() => new Conv2d(3, 4, 3, { stride: 2, padding: 'same' })).toThrow(
      /Conv2d: padding must be 'same' only with stride 1/,
    );
    expect(() => new Conv2d(3, 4, 3, { padding: -1 })).toThrow(ValueError);
    expect(() => new Conv2d(3, 4, 3, { bias: 1 as unknown as boolean })).toThrow(
      'Conv2d: bias must be a boolean, got 1',
    );
    expect(() => new MaxPool2d(0)).toThrow(
      'MaxPool2d: kernelSize must be an integer >= 1 or a pair [h, w] of them, got 0',
    );
    expect(() => new MaxPool2d(2, { ceilMode: 'yes' as unknown as boolean })).toThrow(
      'MaxPool2d: ceilMode must be a boolean, got "yes"',
    );
    expect(() => new AvgPool2d(2, { divisorOverride: 0 })).toThrow(
      'AvgPool2d: divisorOverride must be an integer >= 1, got 0',
    );
    expect(() => new AdaptiveAvgPool2d([0, 2])).toThrow(
      /AdaptiveAvgPool2d: outputSize must be an integer >= 1 or a pair/,
    );
    expect(() => buildModel([{ type: 'conv2d', in: 1, out: 2 }])).toThrow(
      "layer 0 (conv2d): buildModel: layer 'conv2d': 'kernelSize' must be an integer or a pair [h, w] of integers, got undefined",
    );
    expect(() => buildModel([{ type: 'maxPool2d', kernelSize: 2, stride: 'x' }])).toThrow(
      `layer 0 (maxPool2d): buildModel: layer 'maxPool2d': 'stride' must be an integer or a pair [h, w] of integers, got "x"`,
    );
    expect(() => buildModel([{ type: 'adaptiveAvgPool2d' }])).toThrow(/'outputSize' is required/);
    expect(() => buildModel([{ type: 'conv2d', in: 1, out: 2, kernelSize: 3, padding: 'full' }])).toThrow(
      /'padding' must be an integer, \[ph, pw\], \[top, bottom, left, right\], 'same' or 'valid', got "full"/,
    );
    scope(() => {
      const conv = new Conv2d(3, 4, 3);
      expect(() => conv.forward(randn([2, 2, 5, 5]))).toThrow(ShapeError);
      expect(() => conv.forward(randn([2, 2, 5, 5]))).toThrow(/^conv2d: .*\[2,2,5,5\]/);
      expect(() => conv.forward(randn([2, 3, 2, 2]))).toThrow(ShapeError);
      expect(() => new MaxPool2d(2).forward(randn([2, 3, 4]))).toThrow(/^maxPool2d: /);
      conv.dispose();
    });
    expect(String(new Conv2d(1, 8, 3, { padding: 1 }))).toBe(
      'Conv2d(1, 8, kernelSize=[3,3], stride=[1,1], padding=1, dilation=[1,1], groups=1, bias=true)',
    );
  });
});
