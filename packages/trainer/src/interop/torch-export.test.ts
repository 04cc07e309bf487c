// exportTorch / torchModelSource / readTorchStateDict / loadTorchStateDict without Python: the
// generated source, the weights file, and every refusal (nothing written on failure). The
// round trip through PyTorch itself is torch-roundtrip.test.ts.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerSpec } from '@gradkit/nn';
import { buildModel, layerTypes } from '@gradkit/nn';
import type { StateDict } from '@gradkit/tensor';
import { Rng, ShapeError, ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import { decodeSafetensors, encodeSafetensors } from '../checkpoint/safetensors.js';
import { registerStandardLayers } from '../layers.js';
import { exportTorch, torchModelSource } from './torch-export.js';
import { loadTorchStateDict, writeTorchExport } from './torch-files.js';
import { readTorchStateDict } from './torch-import.js';
import { torchLayerTypes } from './torch-layers.js';

registerStandardLayers();

const MLP: LayerSpec[] = [
  { type: 'linear', in: 3, out: 4 },
  { type: 'batchNorm', numFeatures: 4 },
  { type: 'relu' },
  { type: 'linear', in: 4, out: 2, bias: false },
];

describe('exportTorch', () => {
  it('knows every layer type a model description can hold (nn and the standard layers)', () => {
    // test files share their worker's modules (isolate: false): export-onnx.test.ts registers a
    // test-only type ('testDoubler') that no exporter maps, on purpose
    expect(torchLayerTypes()).toEqual(layerTypes().filter((t) => !t.startsWith('test')));
  });

  it('writes nn.Sequential with explicit options, helper classes only when used', () => {
    const src = torchModelSource(
      [
        ...MLP,
        { type: 'batchNorm', numFeatures: 2, convention: 'keras', momentum: null },
        { type: 'batchNorm', numFeatures: 2, convention: 'keras' },
        { type: 'leakyRelu', negativeSlope: 0.2 },
        { type: 'gelu', approximate: 'tanh' },
        { type: 'softmax', axis: 1 },
      ],
      { title: 'demo' },
    );
    expect(src.startsWith('"""demo, exported for PyTorch by gradkit.')).toBe(true);
    expect(torchModelSource(MLP, { title: 'C:\\Users\\x """' })).toContain(
      '"""C:\\\\Users\\\\x \'\'\', exported',
    );
    expect(src).toContain('WEIGHTS = "model.safetensors"');
    expect(src).toContain(
      '        nn.Linear(3, 4, bias=True),  # 0: linear\n' +
        '        nn.BatchNorm1d(4, eps=0.00001, momentum=0.1, affine=True, track_running_stats=True),  # 1: batchNorm\n' +
        '        nn.ReLU(),  # 2: relu\n' +
        '        nn.Linear(4, 2, bias=False),  # 3: linear\n' +
        "        nn.BatchNorm1d(2, eps=0.001, momentum=None, affine=True, track_running_stats=True),  # 4; gradkit convention 'keras'",
    );
    expect(src).toContain('nn.BatchNorm1d(2, eps=0.001, momentum=0.01,');
    expect(src).toContain('nn.LeakyReLU(negative_slope=0.2),');
    expect(src).toContain('nn.GELU(approximate="tanh"),');
    expect(src).toContain('nn.Softmax(dim=1),');
    expect(src).not.toContain('class PaddedConv2d');
    expect(src).not.toContain('pickle.load');
    const conv = torchModelSource([
      { type: 'conv2d', in: 2, out: 4, kernelSize: [3, 2], padding: [1, 0, 2, 2], groups: 2 },
      { type: 'conv2d', in: 4, out: 4, kernelSize: 3, padding: [0, 0, 1, 1], bias: false },
      { type: 'conv2d', in: 4, out: 4, kernelSize: 3, padding: 'same', dilation: 2 },
      { type: 'rmsNorm', normalizedShape: [4, 5, 5] },
      { type: 'gaussianDropout', p: 0.1 },
    ]);
    expect(conv).toContain(
      'PaddedConv2d(2, 4, kernel_size=(3, 2), stride=(1, 1), padding=0, dilation=(1, 1), groups=2, bias=True, pad=(2, 2, 1, 0)),',
    );
    expect(conv).toContain(
      'nn.Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=(0, 1), dilation=(1, 1), groups=1, bias=False),',
    );
    expect(conv).toContain('padding="same", dilation=(2, 2)');
    expect(conv).toContain('RMSNorm((4, 5, 5), eps=1.1920928955078125e-7),');
    expect(conv).toContain('class PaddedConv2d(nn.Conv2d):');
    expect(conv).toContain('class RMSNorm(nn.Module):');
    expect(conv).toContain('class GaussianDropout(nn.Module):');
  });

  it('writes the weights with PyTorch names and dtypes (I64 count, metadata format pt)', () => {
    const model = buildModel(MLP, { rng: new Rng(1) });
    const { weights } = exportTorch(
      { format: 'gradkit.sequential', version: 1, layers: MLP },
      model.stateDict(),
    );
    const { tensors, metadata } = decodeSafetensors(weights);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(tensors).sort()).toEqual(
      [
        '0.weight',
        '0.bias',
        '1.weight',
        '1.bias',
        '1.running_mean',
        '1.running_var',
        '1.num_batches_tracked',
        '3.weight',
      ].sort(),
    );
    expect(tensors['1.num_batches_tracked'].dtype).toBe('int64');
    expect(tensors['0.weight'].shape).toEqual([4, 3]);
    // a float32 count (a state dict from before int64 entries) is written as I64 all the same
    const sd = { ...model.stateDict() };
    sd['1.num_batches_tracked'] = { shape: [], data: Float32Array.from([5]) };
    expect(decodeSafetensors(exportTorch(MLP, sd).weights).tensors['1.num_batches_tracked']).toEqual({
      shape: [],
      data: Float32Array.from([5]),
      dtype: 'int64',
    });
    model.dispose();
  });

  it('refuses what PyTorch cannot load, writing nothing', () => {
    const model = buildModel(MLP, { rng: new Rng(1) });
    const sd = model.stateDict();
    const dir = join(mkdtempSync(join(tmpdir(), 'gradkit-export-')), 'out');
    const refuse = (spec: LayerSpec[], dict: StateDict, error: unknown, message: RegExp) => {
      expect(() => writeTorchExport(dir, spec, dict)).toThrow(message);
      expect(() => writeTorchExport(dir, spec, dict)).toThrow(error as never);
      expect(existsSync(dir)).toBe(false);
    };
    refuse(
      [{ type: 'myLayer' }],
      {},
      ValueError,
      /exportTorch: layer 0 \(myLayer\): no PyTorch equivalent is known for this layer type \(exportable: adaptiveAvgPool2d, /,
    );
    refuse(
      [{ type: 'conv2d', in: 2, out: 2, kernelSize: 3, padding: 'full' }],
      {},
      ValueError,
      /layer 0 \(conv2d\): 'padding' must be an integer, \[ph, pw\], \[top, bottom, left, right\], 'same' or 'valid', got "full"/,
    );
    const { '1.running_var': _, ...noVar } = sd;
    refuse(
      MLP,
      { ...noVar, extra: sd['0.bias'] },
      ValueError,
      /the state dict does not match the model description \(missing keys: 1.running_var; unexpected keys: extra\)/,
    );
    refuse(
      MLP,
      { ...sd, '0.weight': { shape: [3, 4], data: sd['0.weight'].data } },
      ShapeError,
      /exportTorch: '0.weight' has shape \[3,4\], PyTorch's module holds \[4,3\]/,
    );
    const nan = Float32Array.from(sd['0.bias'].data);
    nan[2] = Number.NaN;
    refuse(
      MLP,
      { ...sd, '0.bias': { shape: [4], data: nan } },
      ValueError,
      /'0.bias' holds a non-finite value \(NaN at index 2\)/,
    );
    refuse([], {}, ValueError, /exportTorch: the model has no layers/);
    expect(() => torchModelSource(MLP, { weightsFile: '../w.safetensors' })).toThrow(
      /weightsFile must be a file name, got "..\/w.safetensors"/,
    );
    const files = writeTorchExport(dir, MLP, sd);
    expect(readFileSync(files.source, 'utf8')).toContain('def load(path=None, device="cpu"):');
    expect(decodeSafetensors(readFileSync(files.weights)).tensors['3.weight'].shape).toEqual([2, 4]);
    model.dispose();
  });
});

describe('readTorchStateDict / loadTorchStateDict', () => {
  it("strips a wrapper's prefix, loads strictly, and names the file on errors", () => {
    const model = buildModel(MLP, { rng: new Rng(2) });
    const sd = model.stateDict();
    const wrapped = Object.fromEntries(Object.entries(sd).map(([k, v]) => [`module.${k}`, v]));
    const dir = mkdtempSync(join(tmpdir(), 'gradkit-import-'));
    const path = join(dir, 'ddp.safetensors');
    writeFileSync(path, encodeSafetensors(wrapped, { format: 'pt' }));
    const other = buildModel(MLP, { rng: new Rng(3) });
    expect(() => loadTorchStateDict(other, path)).toThrow(
      /loadStateDict: the state dict does not match the module \(missing keys: 0.weight/,
    );
    expect(loadTorchStateDict(other, path, { stripPrefix: 'module.' })).toEqual({
      missingKeys: [],
      unexpectedKeys: [],
    });
    expect(Array.from(other.stateDict()['0.weight'].data)).toEqual(Array.from(sd['0.weight'].data));
    expect(() => readTorchStateDict(readFileSync(path), 'ddp.safetensors', { stripPrefix: 'net.' })).toThrow(
      new CheckpointError("ddp.safetensors: tensor 'module.0.bias' does not start with the prefix 'net.'"),
    );
    expect(() => loadTorchStateDict(other, join(dir, 'missing.safetensors'))).toThrow(
      /missing.safetensors: cannot read the state dict \(ENOENT\)/,
    );
    writeFileSync(join(dir, 'bad.safetensors'), 'garbage!');
    expect(() => loadTorchStateDict(other, join(dir, 'bad.safetensors'))).toThrow(CheckpointError);
    // NaN or Infinity in PyTorch's weights: refused, the model untouched
    const before = Array.from(other.stateDict()['0.weight'].data);
    for (const v of [Number.NaN, Number.NEGATIVE_INFINITY]) {
      const data = Float32Array.from(sd['0.bias'].data);
      data[1] = v;
      writeFileSync(path, encodeSafetensors({ ...sd, '0.bias': { shape: sd['0.bias'].shape, data } }));
      expect(() => loadTorchStateDict(other, path)).toThrow(
        new CheckpointError(`${path}: tensor '0.bias' holds a non-finite value (${v} at index 1)`),
      );
      expect(Array.from(other.stateDict()['0.weight'].data)).toEqual(before);
    }
    model.dispose();
    other.dispose();
  });
});
