import type { LayerSpec } from '@gradkit/nn';
import { buildModel, describeModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import { manualSeed, Rng, stateDictFromJSON, stateDictToJSON } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import type { Callback } from '../callbacks/callback.js';
import { EarlyStopping } from '../callbacks/early-stopping.js';
import { Dataset } from '../data/dataset.js';
import { registerStandardLayers } from '../layers.js';
import { Trainer } from '../trainer.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  stateDictFromSafetensors,
  stateDictToSafetensors,
} from './bytes.js';
import { CheckpointError } from './checkpoint-error.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';

// Checkpoints as bytes, no file system: what a page or a Web Worker saves to IndexedDB.

registerStandardLayers();

const LAYERS: LayerSpec[] = [
  { type: 'linear', in: 4, out: 8 },
  { type: 'batchNorm', numFeatures: 8 },
  { type: 'relu' },
  { type: 'linear', in: 8, out: 3 },
];

function blobs(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const features = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let k = 0; k < 4; k++) features[i * 4 + k] = (k === labels[i] ? 2 : 0) + 0.7 * rng.normal();
  }
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 3, name: 'blobs' });
}

function setup(seed: number, spec: unknown = LAYERS) {
  const model = buildModel(spec as LayerSpec[], { rng: new Rng(seed) });
  const optimizer = adam(model, { lr: 0.01 });
  return {
    model,
    optimizer,
    trainer: new Trainer({ model, optimizer, modelSpec: describeModel(model) as never }),
  };
}

/** Keeps the bytes of the last checkpoint in memory, as a page would keep them in IndexedDB. */
class InMemoryCheckpoint implements Callback {
  readonly name = 'inMemoryCheckpoint';
  bytes: Uint8Array | null = null;
  onEpochEnd(
    _epoch: number,
    _logs: unknown,
    ctx: Parameters<NonNullable<Callback['onTrainBegin']>>[0],
  ): void {
    ctx.requestCheckpoint('last', (ckpt) => {
      this.bytes = encodeCheckpoint(ckpt);
    });
  }
}

describe.each(testBackends)('checkpoints as bytes on %s', (backend) => {
  useBackend(backend);

  it('a run resumed from encodeCheckpoint bytes ends with the same weights as an uninterrupted one', () => {
    const data = blobs(96, 5);
    manualSeed(11);
    const a = setup(7);
    a.trainer.fit(data, { epochs: 4, batchSize: 16, seed: 3 });
    const want = a.model.stateDict();

    manualSeed(11);
    const b = setup(7);
    const saver = new InMemoryCheckpoint();
    const cbs = () => [saver, new EarlyStopping({ monitor: 'loss', patience: 10, restoreBestWeights: true })];
    b.trainer.fit(data, { epochs: 2, batchSize: 16, seed: 3, callbacks: cbs() });
    const bytes = saver.bytes as Uint8Array;
    expect(bytes).toBeInstanceOf(Uint8Array);
    manualSeed(999);

    const ckpt = decodeCheckpoint(bytes);
    expect(ckpt.trainer.epoch).toBe(2);
    expect(ckpt.modelSpec).toEqual(describeModel(b.model));
    expect(ckpt.model['1.num_batches_tracked'].dtype).toBe('int64');
    expect(Object.keys(ckpt.callbackTensors)).toEqual(['earlyStopping']);
    const c = setup(12345, ckpt.modelSpec);
    c.trainer.restore(ckpt);
    const h = c.trainer.fit(data, { epochs: 4, batchSize: 16, seed: 3, callbacks: cbs() });
    expect(h.epochs.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    const got = c.model.stateDict();
    for (const k of Object.keys(want)) expect(Array.from(got[k].data), k).toEqual(Array.from(want[k].data));
  });

  it('stateDictToSafetensors / stateDictFromSafetensors and the JSON form carry a model anywhere', () => {
    const { model } = setup(3);
    const sd = model.stateDict();
    const bytes = stateDictToSafetensors(sd, { note: 'x' });
    expect(decodeSafetensors(bytes).metadata).toEqual({ note: 'x' });
    const back = stateDictFromSafetensors(bytes);
    expect(back['1.num_batches_tracked'].dtype).toBe('int64');
    const other = setup(4).model;
    other.loadStateDict(back);
    const viaJson = stateDictFromJSON(JSON.parse(JSON.stringify(stateDictToJSON(other.stateDict()))));
    for (const k of Object.keys(sd)) {
      expect(Array.from(viaJson[k].data), k).toEqual(Array.from(sd[k].data));
      expect(viaJson[k].dtype, k).toBe(sd[k].dtype);
    }
    expect(() => stateDictFromSafetensors(bytes.subarray(0, 20), 'cut')).toThrow(SafetensorsError);
  });
});

describe('decodeCheckpoint refuses what is not a gradkit checkpoint', () => {
  const trainer = {
    epoch: 0,
    step: 0,
    history: [],
    dataRng: [1, 2, 3, 4],
    globalRng: [1, 2, 3, 4],
    callbacks: {},
    stopped: null,
  };
  const good = () =>
    encodeCheckpoint({
      model: { w: { shape: [1], data: new Float32Array([1]) } },
      optimizer: { step: 0 },
      trainer,
      callbackTensors: { es: { best: { shape: [1], data: new Float32Array([2]) } } },
      modelSpec: null,
      config: { lr: 0.1 },
    });

  it('reads back what it wrote', () => {
    const c = decodeCheckpoint(good());
    expect(c.model.w.data).toEqual(new Float32Array([1]));
    expect(c.callbackTensors.es.best.data).toEqual(new Float32Array([2]));
    expect(c.config).toEqual({ lr: 0.1 });
    expect(c.optimizer).toEqual({ step: 0 });
  });

  it('names the problem', () => {
    const plain = encodeSafetensors({ w: { shape: [1], data: new Float32Array([1]) } });
    expect(() => decodeCheckpoint(plain, 'm.safetensors')).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(plain, 'm.safetensors')).toThrow(
      'm.safetensors: not a gradkit checkpoint (format null, version null; expected "gradkit.checkpoint" version 2)',
    );
    const { tensors, metadata } = decodeSafetensors(good());
    const tampered = (m: Record<string, string>) => encodeSafetensors(tensors, { ...metadata, ...m });
    expect(() => decodeCheckpoint(tampered({ epoch: '3' }))).toThrow(
      'checkpoint bytes: the weights are from epoch 3, the trainer state from epoch 0',
    );
    expect(() => decodeCheckpoint(tampered({ 'gradkit.trainer': '{' }))).toThrow(
      /metadata 'gradkit.trainer' is not valid JSON/,
    );
    expect(() =>
      decodeCheckpoint(tampered({ 'gradkit.trainer': JSON.stringify({ ...trainer, step: -1 }) })),
    ).toThrow(/"trainer.step" must be a non-negative integer, got -1/);
    expect(() => decodeCheckpoint(tampered({ 'gradkit.optimizer': '[]' }))).toThrow(
      "checkpoint bytes: metadata 'gradkit.optimizer' must be a JSON object (an optimizer state dict)",
    );
    expect(() =>
      encodeCheckpoint({
        ...decodeCheckpoint(good()),
        model: { 'a/b': { shape: [], data: new Float32Array(1) } },
      }),
    ).toThrow("encodeCheckpoint: model tensor 'a/b' has a '/' in its name");
    // a callback or a callback tensor named '__proto__' would vanish into a record's prototype
    const best = tensors['callbacks/es/best'];
    for (const bad of ['callbacks/__proto__/best', 'callbacks/es/__proto__']) {
      const bytes = encodeSafetensors({ w: tensors.w, [bad]: best }, metadata);
      expect(() => decodeCheckpoint(bytes), bad).toThrow(/cannot be named '__proto__'/);
    }
  });
});
