import type { Tensor } from '@gradkit/tensor';
import {
  gelu,
  leakyRelu,
  memory,
  mseLoss,
  noGrad,
  type Parameter,
  Rng,
  relu,
  scope,
  selu,
  sigmoid,
  softmaxCrossEntropy,
  tanh,
  tensor,
} from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { ELU, GELU, LeakyReLU, ReLU, SELU, Sigmoid, Softmax, Softplus, Tanh } from './activations.js';
import { Flatten } from './flatten.js';
import { Linear } from './linear.js';
import { BCEWithLogitsLoss, CrossEntropyLoss, MSELoss } from './losses.js';
import type { LayerSpec } from './model-spec.js';
import { buildModel, describeModel, registerLayer } from './model-spec.js';
import { Sequential } from './sequential.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };

function data(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  return new Rng(seed).fillUniform(new Float32Array(n), lo, hi);
}

describe.each(testBackends)('nn on %s', (backend) => {
  useBackend(backend);

  it('Linear computes x W^T + b against a float64 reference', () => {
    const fc = new Linear(5, 3, { rng: new Rng(1) });
    const xv = data(4 * 5, 2);
    const y = fc.forward(tensor(xv, [4, 5]));
    const w = fc.weight.dataSync();
    const b = fc.bias!.dataSync();
    const want: number[] = [];
    for (let i = 0; i < 4; i++)
      for (let o = 0; o < 3; o++) {
        let s = b[o];
        for (let k = 0; k < 5; k++) s += xv[i * 5 + k] * w[o * 5 + k];
        want.push(s);
      }
    expect(y.shape).toEqual([4, 3]);
    expectClose(y, want, TOL);
    expect(fc.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    const nb = new Linear(5, 3, { bias: false });
    expect(nb.bias).toBeNull();
    expect(nb.namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  it('Linear is initialized as PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias, from the seed', () => {
    const fc = new Linear(400, 300, { rng: new Rng(3) });
    const w = fc.weight.dataSync();
    const bound = 1 / Math.sqrt(400);
    let mean = 0;
    let sq = 0;
    let maxAbs = 0;
    for (const v of w) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      mean += v;
      sq += v * v;
    }
    expect(maxAbs).toBeLessThanOrEqual(bound);
    mean /= w.length;
    const variance = sq / w.length - mean * mean;
    // 120000 draws: sd of the mean = bound / sqrt(3 * 120000) ~ 8.3e-5; of the variance ~ 0.3%
    expect(Math.abs(mean)).toBeLessThan(5 * (bound / Math.sqrt(3 * w.length)));
    expect(Math.abs(variance / ((bound * bound) / 3) - 1)).toBeLessThan(0.02);
    for (const v of fc.bias!.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    const again = new Linear(400, 300, { rng: new Rng(3) });
    expect(again.weight.dataSync()).toEqual(w);
    expect(() => new Linear(0, 3)).toThrow(/Linear: inFeatures must be a positive integer, got 0/);
    expect(() => new Linear(3, 2.5)).toThrow(/outFeatures must be a positive integer/);
  });

  it('Sequential names children 0, 1, ... and fuses Linear + activation without changing values', () => {
    const rng = new Rng(5);
    const model = new Sequential(
      new Flatten(),
      new Linear(12, 8, { rng }),
      new LeakyReLU(0.2),
      new Linear(8, 6, { rng }),
      new Tanh(),
      new Linear(6, 3, { rng }),
    );
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      '1.weight',
      '1.bias',
      '3.weight',
      '3.bias',
      '5.weight',
      '5.bias',
    ]);
    const x = tensor(data(2 * 3 * 4, 6), [2, 3, 4]);
    const fused = model.forward(x);
    const names: string[] = [];
    const unfused = model.forwardEach(x, (name, _layer, out) => names.push(`${name}:${out.shape.join('x')}`));
    expect(names).toEqual(['0:2x12', '1:2x8', '2:2x8', '3:2x6', '4:2x6', '5:2x3']);
    expectClose(fused, unfused.dataSync(), { atol: 1e-6, rtol: 1e-6 });
    // the fused path's gradients equal the unfused path's
    const grads = (run: () => Tensor) => {
      model.zeroGrad();
      scope(() => run().square().sum().backward());
      return model.parameters().map((p) => Array.from(p.grad!.dataSync()));
    };
    const g1 = grads(() => model.forward(x));
    const g2 = grads(() => model.forwardEach(x, () => {}));
    for (const [i, g] of g1.entries()) expectClose(g, g2[i], { atol: 1e-6, rtol: 1e-5 }, `param ${i}`);
    model.zeroGrad();
  });

  it('gradients through a Linear layer pass a finite-difference check', () => {
    const fc = new Linear(4, 3, { rng: new Rng(7) });
    const x = tensor(data(2 * 4, 8, -1, 1), [2, 4], { requiresGrad: true });
    expectGradcheck(
      (xi, w, b) =>
        tanh(xi.matmul(w, { transB: true }).add(b))
          .square()
          .sum(),
      [x, fc.weight, fc.bias!],
    );
    expectGradcheck((xi) => new Sequential(fc, new GELU()).forward(xi).sum(), [x]);
  });

  it('activation modules equal their functions', () => {
    const x = tensor(data(50, 9, -4, 4), [5, 10]);
    const cases: [{ forward(t: Tensor): Tensor }, (t: Tensor) => Tensor][] = [
      [new ReLU(), relu],
      [new LeakyReLU(0.3), (t) => leakyRelu(t, 0.3)],
      [new Tanh(), tanh],
      [new Sigmoid(), sigmoid],
      [new GELU(), gelu],
      [new SELU(), selu],
      [new ELU(), (t) => t.elu()],
      [new Softplus(), (t) => t.softplus()],
      [new Softmax(0), (t) => t.softmax(0)],
    ];
    for (const [m, f] of cases)
      expect(Array.from(m.forward(x).dataSync())).toEqual(Array.from(f(x).dataSync()));
    expect(() => new LeakyReLU(Number.NaN)).toThrow(/negativeSlope must be a finite number/);
    expect(new Flatten(0).forward(x).shape).toEqual([50]);
  });

  it('loss modules equal the functional losses and validate their options', () => {
    const logits = tensor(data(4 * 3, 10), [4, 3]);
    const labels = [2, 0, 1, 2];
    const ce = new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, labels).item();
    expect(ce).toBe(softmaxCrossEntropy(logits, labels, { labelSmoothing: 0.1 }).item());
    const target = tensor(data(12, 11), [4, 3]);
    expect(new MSELoss({ reduction: 'sum' }).forward(logits, target).item()).toBe(
      mseLoss(logits, target, { reduction: 'sum' }).item(),
    );
    const t01 = tensor(
      Array.from({ length: 12 }, (_, i) => i % 2),
      [4, 3],
    );
    const bce = new BCEWithLogitsLoss({ posWeight: 2 }).forward(logits, t01).item();
    // float64 reference: pw t log(1 + e^-z) + (1 - t) log(1 + e^z), mean
    const z = logits.dataSync();
    let s = 0;
    for (let i = 0; i < 12; i++) {
      const t = i % 2;
      s += 2 * t * Math.log1p(Math.exp(-z[i])) + (1 - t) * Math.log1p(Math.exp(z[i]));
    }
    expect(Math.abs(bce - s / 12)).toBeLessThan(1e-5);
    expect(() => new CrossEntropyLoss({ labelSmoothing: 1 })).toThrow(
      /labelSmoothing must be in \[0, 1\), got 1/,
    );
    expect(() => new MSELoss({ reduction: 'avg' as 'mean' })).toThrow(
      /reduction must be 'mean', 'sum' or 'none'/,
    );
  });

  it('a model described as data rebuilds itself and its weights load back', () => {
    const layers: LayerSpec[] = [
      { type: 'flatten' },
      { type: 'linear', in: 12, out: 8 },
      { type: 'relu' },
      { type: 'linear', in: 8, out: 3, bias: false },
    ];
    const a = buildModel(layers, { rng: new Rng(12) });
    const desc = describeModel(a);
    expect(desc).toEqual({ format: 'gradkit.sequential', version: 1, layers });
    const b = buildModel(JSON.parse(JSON.stringify(desc)), { rng: new Rng(99) });
    b.loadStateDict(a.stateDict());
    const x = tensor(data(2 * 12, 13), [2, 12]);
    expect(Array.from(b.forward(x).dataSync())).toEqual(Array.from(a.forward(x).dataSync()));
    expect(() => buildModel([{ type: 'conv9d' }])).toThrow(
      /layer 0: unknown type 'conv9d' \(known: .*linear/,
    );
    expect(() => buildModel([{ type: 'linear', in: 'x', out: 3 }])).toThrow(
      /layer 0 \(linear\): .*'in' must be a number, got "x"/,
    );
    expect(() => buildModel([{ type: 'linear', in: 3, out: 3, weightInit: 'nope' }])).toThrow(
      /layer 0 \(linear\): buildModel: layer 'linear' weightInit: .*nope/,
    );
    // @gradkit/init specs: zeros bias, Kaiming-normal weight (std sqrt(2 / fanIn)), from the build's rng
    const k = buildModel(
      [
        {
          type: 'linear',
          in: 300,
          out: 200,
          weightInit: { name: 'kaimingNormal', nonlinearity: 'relu' },
          biasInit: 'zeros',
        },
      ],
      { rng: new Rng(4) },
    );
    const kw = (k.children[0] as Linear).weight.dataSync();
    const kvar = kw.reduce((s, v) => s + v * v, 0) / kw.length;
    expect(Math.abs(kvar / (2 / 300) - 1)).toBeLessThan(0.02); // 60000 draws: sd of the variance ratio ~0.6%
    expect(Array.from((k.children[0] as Linear).bias!.dataSync()).every((v) => v === 0)).toBe(true);
    registerLayer('scale2', { build: () => new Sequential() });
    expect(buildModel([{ type: 'scale2' }]).length).toBe(1);
  });

  it('training a Sequential MLP keeps memory flat and needs no read-back until the loss is read', () => {
    const model = buildModel(
      [{ type: 'linear', in: 6, out: 16 }, { type: 'relu' }, { type: 'linear', in: 16, out: 3 }],
      { rng: new Rng(14) },
    );
    const x = tensor(data(8 * 6, 15), [8, 6]);
    const y = [0, 1, 2, 0, 1, 2, 0, 1];
    const step = () =>
      scope(() => {
        const loss = softmaxCrossEntropy(model.forward(x), y);
        loss.backward();
        noGrad(() => {
          for (const p of model.parameters()) (p as Parameter).assign(p.sub(p.grad!.mul(0.1)));
        });
        model.zeroGrad();
        return loss;
      });
    const first = step();
    const l0 = first.item();
    first.dispose();
    const m1 = memory();
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const l = step();
      if (i === 99) last = l.item();
      l.dispose();
    }
    const m2 = memory();
    expect(m2.tensors).toBe(m1.tensors);
    expect(m2.buffers).toBe(m1.buffers);
    expect(m2.readbacks - m1.readbacks).toBe(1);
    expect(last).toBeLessThan(l0);
  });
});
