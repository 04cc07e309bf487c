import type { LayerSpec, Sequential } from '@gradkit/nn';
import { buildModel, registerLayer } from '@gradkit/nn';
import type { StateDict, Tensor } from '@gradkit/tensor';
import { getRng, Module, noGrad, Rng, ShapeError, tensor, ValueError } from '@gradkit/tensor';
import { expectRejectedCleanly, testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { registerStandardLayers } from '../layers.js';
import type { ExportOnnxOptions } from './export-onnx.js';
import { exportOnnx, ONNX_OPSET } from './export-onnx.js';
import { aliasOf } from './state-reader.js';
import { checkWithPython, hostRandn, pythonOnnxMissing, runOnnx } from './testing.js';

// Each model is built from its description, given non-trivial weights and running statistics
// (seeded random values; the CNN's running statistics come from training-mode forward passes),
// exported, run in onnxruntime-web 1.30 (wasm, one thread) and compared with gradkit's eval-mode
// forward on the same inputs. Tolerance: |onnx - gradkit| <= 1e-5 absolute on every output
// (float32 on both sides; the sums are ordered differently by the two runtimes, so bit equality
// is not expected; the largest difference is printed). Every exported file also goes through
// `onnx.checker.check_model(..., full_check=True)` of Debian's python3-onnx when it is installed.

const ATOL = 1e-5;

registerStandardLayers();

const MISSING_ONNX = pythonOnnxMissing();
if (MISSING_ONNX) console.log(`skipping the python3-onnx checker tests: ${MISSING_ONNX}`);

/** Exported files by test name, checked with python3-onnx at the end. */
const exported: Record<string, Uint8Array> = {};

/** The CLI's `--model lenet5` description (apps/cli/src/build.ts, defaults: ReLU, no norm, no dropout). */
const LENET5: LayerSpec[] = [
  { type: 'conv2d', in: 1, out: 6, kernelSize: 5, padding: 2 },
  { type: 'relu' },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'conv2d', in: 6, out: 16, kernelSize: 5 },
  { type: 'relu' },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'flatten' },
  { type: 'linear', in: 400, out: 120 },
  { type: 'relu' },
  { type: 'linear', in: 120, out: 84 },
  { type: 'relu' },
  { type: 'linear', in: 84, out: 10 },
];

/** The CLI's `--model cnn` description (its defaults: --norm batch, --dropout 0.25). */
const CNN: LayerSpec[] = [
  { type: 'conv2d', in: 1, out: 8, kernelSize: 3, padding: 1, bias: false },
  { type: 'batchNorm2d', numFeatures: 8 },
  { type: 'relu' },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'conv2d', in: 8, out: 16, kernelSize: 3, padding: 1, bias: false },
  { type: 'batchNorm2d', numFeatures: 16 },
  { type: 'relu' },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'conv2d', in: 16, out: 32, kernelSize: 3, padding: 1, bias: false },
  { type: 'batchNorm2d', numFeatures: 32 },
  { type: 'relu' },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'flatten' },
  { type: 'dropout', p: 0.25 },
  { type: 'linear', in: 288, out: 128 },
  { type: 'batchNorm', numFeatures: 128 },
  { type: 'relu' },
  { type: 'dropout', p: 0.25 },
  { type: 'linear', in: 128, out: 10 },
];

/** An MLP with BatchNorm1d, dropout and the activations of `--activation` (GELU exact and tanh). */
const MLP: LayerSpec[] = [
  { type: 'dropout', p: 0.2 },
  { type: 'linear', in: 20, out: 32 },
  { type: 'batchNorm', numFeatures: 32 },
  { type: 'relu' },
  { type: 'dropout', p: 0.5 },
  { type: 'linear', in: 32, out: 24 },
  { type: 'batchNorm', numFeatures: 24, affine: false, eps: 1e-3 },
  { type: 'gelu' },
  { type: 'linear', in: 24, out: 16 },
  { type: 'tanh' },
  { type: 'linear', in: 16, out: 16 },
  { type: 'leakyRelu', negativeSlope: 0.2 },
  { type: 'linear', in: 16, out: 12 },
  { type: 'sigmoid' },
  { type: 'linear', in: 12, out: 12 },
  { type: 'selu' },
  { type: 'linear', in: 12, out: 12, bias: false },
  { type: 'elu' },
  { type: 'linear', in: 12, out: 12 },
  { type: 'gelu', approximate: 'tanh' },
  { type: 'linear', in: 12, out: 10 },
];

/** The other mapped layers on features: norms, softplus (past its threshold), identity, dropouts, softmax. */
const FEATURES: LayerSpec[] = [
  { type: 'layerNorm', normalizedShape: 16 },
  { type: 'linear', in: 16, out: 16 },
  { type: 'softplus' },
  { type: 'layerNorm', normalizedShape: 16, elementwiseAffine: false, eps: 1e-3 },
  { type: 'groupNorm', numGroups: 4, numChannels: 16 },
  { type: 'rmsNorm', normalizedShape: 16, eps: 1e-6 },
  { type: 'identity' },
  { type: 'alphaDropout', p: 0.1 },
  { type: 'gaussianDropout', p: 0.1 },
  { type: 'linear', in: 16, out: 6 },
  { type: 'softmax' },
];

/** Window geometry: strided, padded, dilated, grouped and 'same' convs; pools in ceil mode with padding. */
const GEOMETRY: LayerSpec[] = [
  {
    type: 'conv2d',
    in: 4,
    out: 6,
    kernelSize: [3, 2],
    stride: [2, 1],
    padding: [1, 2],
    dilation: [1, 2],
    groups: 2,
  },
  { type: 'groupNorm', numGroups: 3, numChannels: 6 },
  { type: 'conv2d', in: 6, out: 6, kernelSize: 4, padding: 'same', dilation: [2, 1] },
  { type: 'batchNorm2d', numFeatures: 6 },
  { type: 'elu' },
  { type: 'conv2d', in: 6, out: 8, kernelSize: 3, padding: [0, 1, 2, 1], groups: 2 },
  { type: 'maxPool2d', kernelSize: 3, stride: 2, padding: 1, ceilMode: true },
  { type: 'conv2d', in: 8, out: 8, kernelSize: 1, groups: 8 },
  { type: 'avgPool2d', kernelSize: 2, stride: 2, padding: 1, ceilMode: true },
  { type: 'dropout2d', p: 0.3 },
  { type: 'rmsNorm', normalizedShape: [4] },
  { type: 'layerNorm', normalizedShape: [2, 4] },
];

/** Pools whose output ONNX's plain ops would round differently: ceil overhang, divisors, adaptive sizes. */
const POOLS: LayerSpec[] = [
  { type: 'maxPool2d', kernelSize: [2, 3], stride: [3, 2], dilation: [2, 1], ceilMode: true },
  { type: 'avgPool2d', kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false },
  { type: 'conv2d', in: 3, out: 3, kernelSize: 1 },
  { type: 'avgPool2d', kernelSize: 2, stride: 1, divisorOverride: 3 },
];

/** Average pooling counting the padding, with a ceil-mode overhang (the divisor stops at the padded edge). */
const POOLS_PAD: LayerSpec[] = [
  { type: 'avgPool2d', kernelSize: 3, stride: 2, padding: 1, ceilMode: true },
  { type: 'maxPool2d', kernelSize: 2, stride: 2, ceilMode: true },
];

/**
 * Gives every 1-D parameter and running statistic seeded random values (scales around 1, shifts
 * and means around 0, variances in [0.3, 1.5]); conv and linear weights keep PyTorch's
 * initialization from the build's generator, so activations keep realistic magnitudes.
 */
function randomizeState(model: Sequential, seed: number): StateDict {
  const sd = model.stateDict();
  let k = 0;
  for (const [key, e] of Object.entries(sd)) {
    const leaf = key.slice(key.lastIndexOf('.') + 1);
    if (/numBatchesTracked|num_batches_tracked/.test(leaf) || (leaf === 'weight' && e.shape.length > 1))
      continue;
    const r = hostRandn(e.data.length, seed + 7919 * k++, 0.4);
    const data = /runningVar|running_var/.test(leaf)
      ? r.map((v) => 0.3 + Math.min(Math.abs(v), 1.2))
      : leaf === 'weight'
        ? r.map((v) => 1 + v)
        : r;
    sd[key] = { shape: e.shape, data };
  }
  model.loadStateDict(sd);
  return model.stateDict();
}

/** gradkit's eval-mode forward of `model` on `x`. */
function forward(
  model: Sequential,
  x: Float32Array,
  dims: readonly number[],
): { data: Float32Array; shape: readonly number[] } {
  model.eval();
  return noGrad(() => {
    const t = tensor(x, dims);
    const y = model.forward(t) as Tensor;
    const out = { data: y.dataSync(), shape: [...y.shape] };
    t.dispose();
    y.dispose();
    return out;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(testBackends)('exportOnnx on %s', (backend) => {
  useBackend(backend);
  const built: Sequential[] = [];
  afterAll(() => {
    for (const m of built) m.dispose();
  });

  /** Builds, randomizes, exports; compares onnxruntime with gradkit on `batch` random samples. */
  async function parity(
    name: string,
    layers: LayerSpec[],
    sample: readonly number[],
    options: {
      batch?: number;
      scale?: number;
      export?: ExportOnnxOptions;
      prepare?: (m: Sequential) => void;
    } = {},
  ) {
    const model = buildModel(layers, { rng: new Rng(42) });
    built.push(model);
    randomizeState(model, 1000);
    options.prepare?.(model);
    const state = model.stateDict();
    const bytes = exportOnnx({ format: 'gradkit.sequential', version: 1, layers }, state, options.export);
    exported[`${name}-${backend}`] = bytes;
    const batch = options.batch ?? 5;
    const dims = [batch, ...sample];
    const x = hostRandn(
      dims.reduce((p, d) => p * d, 1),
      7,
      options.scale ?? 1,
    );
    const want = forward(model, x, dims);
    const got = await runOnnx(bytes, x, dims);
    expect(got.dims).toEqual(want.shape);
    const diff = maxAbsDiff(got.data, want.data);
    console.log(
      `${name} on ${backend}: output [${want.shape.join(', ')}], max |onnx - gradkit| = ${diff.toExponential(2)}`,
    );
    for (let i = 0; i < want.data.length; i++) {
      if (!(Math.abs(got.data[i] - want.data[i]) <= ATOL)) {
        expect.fail(
          `${name}: element ${i}: onnx ${got.data[i]}, gradkit ${want.data[i]} (tolerance ${ATOL})`,
        );
      }
    }
    return { bytes, model, x, dims, want };
  }

  it('an MLP with BatchNorm1d, dropout and several activations gives gradkit eval outputs', async () => {
    const { bytes, x, dims, want } = await parity('mlp', MLP, [20], { batch: 7 });
    // the same file takes any batch size (dynamic batch dimension)
    const one = await runOnnx(bytes, x.slice(0, 20), [1, 20]);
    expect(maxAbsDiff(one.data, want.data.slice(0, 10))).toBeLessThanOrEqual(ATOL);
    expect(dims[0]).toBe(7);
  });

  it('the other feature layers (LayerNorm, GroupNorm, RMSNorm, softplus past 20, softmax, dropouts, identity)', async () => {
    // scale 30: many softplus inputs are past PyTorch's threshold of 20
    await parity('features', FEATURES, [16], { scale: 30 });
  });

  it("the CLI's --model lenet5", async () => {
    await parity('lenet5', LENET5, [1, 28, 28], { batch: 3, export: { inputShape: [1, 28, 28] } });
  });

  it("the CLI's --model cnn, running statistics from training-mode batches", async () => {
    await parity('cnn', CNN, [1, 28, 28], {
      batch: 3,
      export: { inputShape: [1, 28, 28] },
      prepare: (m) => {
        // four training-mode forward passes update every BatchNorm's running statistics
        m.train();
        noGrad(() => {
          for (let s = 0; s < 4; s++) {
            const t = tensor(hostRandn(8 * 784, 100 + s, 1 + s), [8, 1, 28, 28]);
            (m.forward(t) as Tensor).dispose();
            t.dispose();
          }
        });
        const sd = m.stateDict();
        const mean = sd['1.runningMean'] ?? sd['1.running_mean'];
        expect(Array.from(mean.data).some((v) => v !== 0)).toBe(true);
      },
    });
  });

  it('strided, padded, dilated, grouped and same convs; ceil-mode pools with padding', async () => {
    await parity('geometry', GEOMETRY, [4, 11, 9], { export: { inputShape: [4, 11, 9] } });
  });

  it('pools with a ceil-mode overhang, countIncludePad false, divisorOverride', async () => {
    await parity('pools', POOLS, [3, 10, 11], { export: { inputShape: [3, 10, 11] } });
    await parity('pools-pad', POOLS_PAD, [2, 8, 8], { export: { inputShape: [2, 8, 8] } });
  });

  it.each([
    ['global', 1],
    ['divisible', [2, 3]],
    ['uneven', [3, 4]],
    ['one axis kept', [null, 2]],
  ] as const)('adaptive average pooling, %s output', async (label, outputSize) => {
    const layers: LayerSpec[] = [
      { type: 'conv2d', in: 2, out: 3, kernelSize: 3 },
      { type: 'adaptiveAvgPool2d', outputSize: outputSize as never },
      { type: 'flatten' },
    ];
    await parity(`adaptive-${label.replace(/ /g, '-')}`, layers, [2, 8, 11], {
      export: { inputShape: [2, 8, 11] },
    });
  });

  it('Flatten of inner dimensions, a Linear on a flattened conv output, a fixed batch size', async () => {
    const layers: LayerSpec[] = [
      { type: 'conv2d', in: 2, out: 4, kernelSize: 3 },
      { type: 'flatten', startDim: 2 },
      { type: 'layerNorm', normalizedShape: 30 },
      { type: 'flatten', startDim: 1, endDim: 2 },
      { type: 'linear', in: 120, out: 3 },
    ];
    await parity('flatten', layers, [2, 7, 8], { batch: 2, export: { inputShape: [2, 7, 8], batchDim: 2 } });
  });

  it("reads BatchNorm buffers under PyTorch's names (running_mean, running_var, num_batches_tracked) as well", async () => {
    const model = buildModel(MLP, { rng: new Rng(3) });
    built.push(model);
    const state = randomizeState(model, 55);
    const spelled = (torch: boolean): StateDict =>
      Object.fromEntries(
        Object.entries(state).map(([k, v]) => {
          const other = aliasOf(k);
          const isTorch = k.includes('_');
          return [other !== undefined && isTorch !== torch ? other : k, v];
        }),
      );
    const camel = spelled(false);
    const torch = spelled(true);
    expect(Object.keys(camel).filter((k) => /running(Mean|Var)|numBatchesTracked/.test(k)).length).toBe(6);
    expect(Object.keys(torch).filter((k) => /running_(mean|var)|num_batches_tracked/.test(k)).length).toBe(6);
    const x = hostRandn(4 * 20, 9);
    const a = await runOnnx(exportOnnx(MLP, camel), x, [4, 20]);
    const b = await runOnnx(exportOnnx(MLP, torch), x, [4, 20]);
    expect(maxAbsDiff(a.data, forward(model, x, [4, 20]).data)).toBeLessThanOrEqual(ATOL);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    // num_batches_tracked is not needed for inference
    const without = Object.fromEntries(
      Object.entries(state).filter(([k]) => !/numBatchesTracked|num_batches_tracked/.test(k)),
    );
    expect(Object.keys(without).length).toBe(Object.keys(state).length - 2);
    expect(Array.from((await runOnnx(exportOnnx(MLP, without), x, [4, 20])).data)).toEqual(
      Array.from(a.data),
    );
  });

  it('names the graph input and output as asked and stores the model description', async () => {
    const layers: LayerSpec[] = [{ type: 'linear', in: 3, out: 2 }];
    const model = buildModel(layers, { rng: new Rng(1) });
    built.push(model);
    const bytes = exportOnnx(layers, model.stateDict(), { inputName: 'pixels', outputName: 'logits' });
    const x = Float32Array.from([1, 2, 3]);
    const got = await runOnnx(bytes, x, [1, 3], { input: 'pixels', output: 'logits' });
    expect(maxAbsDiff(got.data, forward(model, x, [1, 3]).data)).toBeLessThanOrEqual(ATOL);
    const text = new TextDecoder().decode(bytes);
    expect(text).toContain('gradkit.modelSpec');
    expect(text).toContain('"type":"linear"');
  });

  it('a model of dropouts only is an Identity graph', async () => {
    const bytes = exportOnnx([{ type: 'dropout', p: 0.5 }], {}, { inputShape: [3] });
    exported[`identity-${backend}`] = bytes;
    const x = Float32Array.from([1, -2, 3, 4, 5, -6]);
    expect(Array.from((await runOnnx(bytes, x, [2, 3])).data)).toEqual(Array.from(x));
  });

  describe('errors: typed, naming the layer or key, nothing returned or left allocated', () => {
    class Doubler extends Module {
      forward(x: Tensor): Tensor {
        return x.mul(2);
      }
    }
    registerLayer('testDoubler', { build: () => new Doubler() as never });

    it('rejects bad calls', () => {
      const mlp = buildModel(MLP, { rng: new Rng(5) });
      built.push(mlp);
      const state = mlp.stateDict();
      const without = (key: string) => Object.fromEntries(Object.entries(state).filter(([k]) => k !== key));
      const wrongShape = { ...state, '5.weight': { shape: [32, 24], data: state['5.weight'].data } };
      const shortData = { ...state, '5.bias': { shape: [24], data: new Float32Array(23) } };
      const nan = { ...state, '1.bias': { shape: [32], data: new Float32Array(32).fill(Number.NaN) } };
      const extra = { ...state, '99.weight': { shape: [1], data: new Float32Array(1) } };
      const meanKey = Object.keys(state).find((k) => /^2\.running_?mean$/i.test(k))!;
      const varKey = Object.keys(state).find((k) => /^2\.running_?var$/i.test(k))!;
      const both = { ...state, [aliasOf(meanKey)!]: state[meanKey] };
      const spec = (layers: LayerSpec[]) => ({
        format: 'gradkit.sequential' as const,
        version: 1 as const,
        layers,
      });
      expectRejectedCleanly([
        [
          () => exportOnnx([{ type: 'identity' }, { type: 'testDoubler' }], {}, { inputShape: [4] }),
          ValueError,
          /exportOnnx: layer 1 \(testDoubler\) has no ONNX mapping \(mapped types: .*conv2d/,
        ],
        [() => exportOnnx(spec([{ type: 'noSuchLayer' }]), {}), ValueError, /unknown type 'noSuchLayer'/],
        [
          () => exportOnnx(MLP, without('8.weight')),
          ValueError,
          /layer 8 \(linear\): the state dict has no '8\.weight', shape \[16, 24\]/,
        ],
        [
          () => exportOnnx(MLP, without(varKey)),
          ValueError,
          /layer 2 \(batchNorm\): the state dict has no '2\.runningVar' \(nor '2\.running_var'\)/,
        ],
        [
          () => exportOnnx(MLP, wrongShape),
          ShapeError,
          /layer 5 \(linear\): '5\.weight' has shape \[32, 24\] in the state dict, the layer expects \[24, 32\]/,
        ],
        [() => exportOnnx(MLP, shortData), ValueError, /'5\.bias' has 23 values, shape \[24\] needs 24/],
        [() => exportOnnx(MLP, nan), ValueError, /'1\.bias' holds a non-finite value \(NaN at index 0\)/],
        [() => exportOnnx(MLP, extra), ValueError, /entries the model does not use: 99\.weight/],
        [
          () => exportOnnx(MLP, both),
          ValueError,
          /layer 2 \(batchNorm\): the state dict holds both '2\.(runningMean|running_mean)' and '2\.(running_mean|runningMean)'/,
        ],
        [
          () => exportOnnx(LENET5, {}),
          ValueError,
          /inputShape is required for a model that starts with 'conv2d'/,
        ],
        [
          () => exportOnnx(LENET5, {}, { inputShape: [1, 32, 32] }),
          ValueError,
          /layer 0 \(conv2d\): the state dict has no '0\.weight'/,
        ],
        [
          () => exportOnnx([{ type: 'batchNorm', numFeatures: 3, trackRunningStats: false }], {}),
          ValueError,
          /layer 0 \(batchNorm\): trackRunningStats false .* no ONNX mapping|only running statistics/,
        ],
        [
          () => exportOnnx([{ type: 'linear', in: 4, out: 2 }], {}, { inputShape: [5] }),
          ShapeError,
          /layer 0 \(linear\): expects an input \[N, 4\], gets \[N, 5\]/,
        ],
        [
          () => exportOnnx([{ type: 'maxPool2d', kernelSize: 5 }], {}, { inputShape: [1, 4, 4] }),
          ShapeError,
          /layer 0 \(maxPool2d\): the input \[N, 1, 4, 4\] is smaller than the \(dilated\) window/,
        ],
        [
          () => exportOnnx(MLP, state, { inputShape: [0] }),
          ValueError,
          /inputShape must be a list of positive integers/,
        ],
        [() => exportOnnx(MLP, state, { opset: 18 } as never), ValueError, /unknown option\(s\): opset/],
        [() => exportOnnx(MLP, null as never), ValueError, /expected a state dict object/],
      ]);
    });

    it('leaves the global generator untouched', () => {
      const mlp = buildModel(MLP, { rng: new Rng(5) });
      built.push(mlp);
      const state = mlp.stateDict();
      const before = getRng().state();
      exportOnnx(MLP, state);
      expect(getRng().state()).toEqual(before);
    });
  });
});

describe('the exported files', () => {
  it.skipIf(MISSING_ONNX !== null)(
    `pass onnx.checker.check_model(full_check=True) of python3-onnx at opset ${ONNX_OPSET}`,
    () => {
      const names = Object.keys(exported);
      expect(names.length).toBeGreaterThanOrEqual(10);
      const results = checkWithPython(exported);
      console.log(`python3-onnx checker: ${names.length} files (${names.join(', ')})`);
      const failed = Object.entries(results).filter(([, r]) => r !== '');
      expect(failed, failed.map(([n, r]) => `${n}: ${r}`).join('\n')).toEqual([]);
    },
  );
});
