import { describe, expect, it } from 'vitest';
import {
  CNN_CHECK_TOLERANCE,
  describeLenet,
  lenetInitialWeights,
  lenetParams,
  lenetWeightsBytes,
  parseCnnResult,
  tfConvKernel,
  tfDenseKernel,
  tfLenetWeights,
  verifyCnnRows,
} from './cnn.js';
import { mulberry32 } from './data.js';
import type { CnnRow } from './types.js';

const t = (ms: number) => ({ medianMs: ms, minMs: ms * 0.9, maxMs: ms * 1.1, reps: 5, warmup: 0 });
const cnnRow = (contender: string, over: Partial<CnnRow> = {}): CnnRow => ({
  contender,
  trainSamples: 60000,
  requestedSamples: 60000,
  partial: false,
  seconds: 100,
  samplesPerSecond: 600,
  step: t(200),
  testAccuracy: 0.98,
  testSamples: 10000,
  lastLoss: 0.05,
  cpuSeconds: 100,
  dataRssMiB: 300,
  peakRssMiB: 400,
  checksum: 1234.5,
  warmupSteps: 3,
  config: 'test',
  lossBefore: 2.3,
  lossAfter: 2.2,
  lossesFinite: true,
  ...over,
});

const rand = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
};

describe('LeNet-5', () => {
  it('has the CLI lenet5 architecture: parameter shapes, 61,706 parameters, 16x5x5 features', () => {
    const { params, features } = lenetParams();
    expect(params.map((p) => [p.name, p.shape])).toEqual([
      ['conv1.weight', [6, 1, 5, 5]],
      ['conv1.bias', [6]],
      ['conv2.weight', [16, 6, 5, 5]],
      ['conv2.bias', [16]],
      ['fc1.weight', [120, 400]],
      ['fc1.bias', [120]],
      ['fc2.weight', [84, 120]],
      ['fc2.bias', [84]],
      ['fc3.weight', [10, 84]],
      ['fc3.bias', [10]],
    ]);
    expect(params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0)).toBe(61706);
    expect(features).toEqual([16, 5, 5]);
    // Keras' fans for a convolution: in·K·K and out·K·K
    expect([params[2].fanIn, params[2].fanOut]).toEqual([150, 400]);
    expect(describeLenet()).toBe(
      'LeNet-5 (conv5x5 1->6 pad 2, ReLU, maxpool 2x2, conv5x5 6->16, ReLU, maxpool 2x2, flatten 400, linear 400->120, ReLU, linear 120->84, ReLU, linear 84->10)',
    );
  });

  it('starting weights: Glorot-uniform within each limit, zero biases, reproducible, seed-dependent', () => {
    const a = lenetInitialWeights(42);
    const { params } = lenetParams();
    params.forEach((p, i) => {
      expect(a[i].length).toBe(p.shape.reduce((x, y) => x * y, 1));
      if (p.fanIn === 0) expect(a[i].every((v) => v === 0)).toBe(true);
      else {
        const limit = Math.sqrt(6 / (p.fanIn + p.fanOut));
        const max = Math.max(...a[i].map(Math.abs));
        expect(max).toBeLessThanOrEqual(limit);
        expect(max).toBeGreaterThan(0.9 * limit);
      }
    });
    expect(lenetInitialWeights(42).map((w) => Array.from(w))).toEqual(a.map((w) => Array.from(w)));
    expect(Array.from(lenetInitialWeights(43)[0])).not.toEqual(Array.from(a[0]));
    const bytes = lenetWeightsBytes(a);
    expect(bytes.length).toBe(4 * 61706);
    expect(bytes.readFloatLE(0)).toBe(a[0][0]);
    expect(bytes.readFloatLE(4 * 150)).toBe(0); // conv1.bias follows conv1.weight's 150 values
  });

  it('the TF.js conv kernel [K, K, I, O] computes the same convolution as the PyTorch weight', () => {
    const [O, I, K, H] = [3, 2, 3, 4];
    const w = rand(O * I * K * K, 1);
    const x = rand(I * H * H, 2); // one image, NCHW
    const k = tfConvKernel(w, [O, I, K, K]);
    const out = H - K + 1;
    for (let o = 0; o < O; o++)
      for (let r = 0; r < out; r++)
        for (let c = 0; c < out; c++) {
          let a = 0;
          let b = 0;
          for (let i = 0; i < I; i++)
            for (let kh = 0; kh < K; kh++)
              for (let kw = 0; kw < K; kw++) {
                const xv = x[(i * H + r + kh) * H + c + kw];
                a += w[((o * I + i) * K + kh) * K + kw] * xv;
                b += k[((kh * K + kw) * I + i) * O + o] * xv;
              }
          expect(b).toBe(a);
        }
  });

  it('the TF.js dense kernel after an NHWC flatten computes the same as the PyTorch weight after NCHW', () => {
    const [C, H, W, out] = [3, 2, 4, 5];
    const n = C * H * W;
    const w = rand(out * n, 3);
    const x = rand(n, 4); // NCHW feature map
    const nhwc = new Float32Array(n);
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let v = 0; v < W; v++) nhwc[(h * W + v) * C + c] = x[(c * H + h) * W + v];
    const k = tfDenseKernel(w, out, [C, H, W]);
    for (let o = 0; o < out; o++) {
      let a = 0;
      for (let i = 0; i < n; i++) a += w[o * n + i] * x[i];
      let b = 0;
      for (let i = 0; i < n; i++) b += k[i * out + o] * nhwc[i];
      expect(b).toBeCloseTo(a, 5);
    }
    // a plain dense layer: the transpose
    expect(Array.from(tfDenseKernel(Float32Array.from([1, 2, 3, 4, 5, 6]), 2))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('TF.js weights come in tfjs-layers order and shapes', () => {
    const tw = tfLenetWeights(lenetInitialWeights(42));
    expect(tw.map((w) => w.shape)).toEqual([
      [5, 5, 1, 6],
      [6],
      [5, 5, 6, 16],
      [16],
      [400, 120],
      [120],
      [120, 84],
      [84],
      [84, 10],
      [10],
    ]);
    for (const w of tw) expect(w.values.length).toBe(w.shape.reduce((a, b) => a * b, 1));
  });
});

describe('verifyCnnRows', () => {
  it('compares with PyTorch first, within the tolerances', () => {
    const rows = [
      cnnRow('gradkit-wasm', { lossBefore: 2.3 + 1e-6, lossAfter: 2.2 + 1e-5 }),
      cnnRow('tfjs-cpu', { lossBefore: 2.3 + 5e-5 }),
      cnnRow('torch-cpu'),
      cnnRow('gradkit-cpu', { lossAfter: 2.2 + 5e-3 }),
    ];
    const notes = verifyCnnRows(rows);
    expect(rows[2].check).toMatchObject({ ok: true, reference: 'torch-cpu', worst: 0 });
    expect(rows[0].check?.ok).toBe(true);
    expect(rows[0].check?.worst).toBeCloseTo(1e-5 / (CNN_CHECK_TOLERANCE.after * 2.2), 6);
    expect(rows[1].check?.ok).toBe(false);
    expect(rows[1].check?.problems[0]).toContain('loss before the step');
    expect(rows[3].check?.problems).toEqual([expect.stringContaining('loss after one step')]);
    expect(notes.filter((n) => n.startsWith('WRONG'))).toHaveLength(2);
  });

  it('without PyTorch the reference is TF.js cpu, then gradkit cpu', () => {
    const rows = [cnnRow('gradkit-cpu'), cnnRow('tfjs-cpu', { lossBefore: 2.31 })];
    verifyCnnRows(rows);
    expect(rows[0].check).toMatchObject({ ok: false, reference: 'tfjs-cpu' });
    const only = [cnnRow('gradkit-cpu'), cnnRow('gradkit-wasm')];
    const notes = verifyCnnRows(only);
    expect(only[1].check).toMatchObject({ ok: true, reference: 'gradkit-cpu' });
    expect(notes.at(-1)).toContain('all 2 contenders agree with gradkit-cpu');
  });

  it('flags non-finite losses, a step that did not lower the loss, and a disagreeing forward of a contender that cannot train', () => {
    const rows = [
      cnnRow('torch-cpu'),
      cnnRow('gradkit-gl', { lossesFinite: false }),
      cnnRow('gradkit-wasm', { lossAfter: null }),
      cnnRow('gradkit-cpu', { lossBefore: 2.2, lossAfter: 2.2 }),
    ];
    const notes = verifyCnnRows(rows, [
      { contender: 'tfjs-wasm', error: 'Kernel missing', lossBefore: 2.4, config: '' },
      { contender: 'tfjs-x', error: 'Kernel missing', lossBefore: 2.3, config: '' },
    ]);
    expect(rows[1].check?.problems).toEqual(['a training loss of the epoch was not finite']);
    expect(rows[2].check?.problems[0]).toContain('check losses not finite');
    expect(rows[3].check?.problems[0]).toContain('did not lower the loss');
    expect(notes.some((n) => n.startsWith('tfjs-wasm cnn: its forward disagrees'))).toBe(true);
    expect(notes.some((n) => n.startsWith('tfjs-x'))).toBe(false);
  });
});

describe('parseCnnResult', () => {
  it('reads a trained row, a cannot-train record, or nothing', () => {
    expect(parseCnnResult(undefined, 'x')).toEqual({});
    const raw = { ...cnnRow('torch-cpu'), lastLoss: null, partial: true, check: { ok: true } };
    const { row } = parseCnnResult(JSON.parse(JSON.stringify(raw)), 'torch-cpu');
    expect(row).toMatchObject({
      contender: 'torch-cpu',
      samplesPerSecond: 600,
      lastLoss: null,
      partial: false,
    });
    expect(row?.check).toBeUndefined(); // a worker cannot send its own verdict
    expect(
      parseCnnResult(
        { contender: 'tfjs-wasm', cannotTrain: 'Kernel X not registered', lossBefore: 2.3 },
        'tfjs-wasm',
      ),
    ).toEqual({
      cannotTrain: { contender: 'tfjs-wasm', error: 'Kernel X not registered', lossBefore: 2.3, config: '' },
    });
  });

  it('rejects malformed rows with the reason', () => {
    expect(parseCnnResult([1], 'a').error).toContain('not an object');
    expect(parseCnnResult(cnnRow('b'), 'a').error).toContain('another contender (b)');
    expect(parseCnnResult({ ...cnnRow('a'), seconds: null }, 'a').error).toContain('without seconds');
    expect(parseCnnResult({ ...cnnRow('a'), trainSamples: 0 }, 'a').error).toContain('trained nothing');
    expect(parseCnnResult({ ...cnnRow('a'), step: {} }, 'a').error).toContain('step timings');
    const { lossesFinite: _, ...noFlag } = cnnRow('a');
    expect(parseCnnResult(noFlag, 'a').error).toContain('lossesFinite');
    // Python writes None for a non-finite check loss: the row stands, the check flags it
    expect(parseCnnResult({ ...cnnRow('a'), lossAfter: null }, 'a').row?.lossAfter).toBeNull();
  });
});
