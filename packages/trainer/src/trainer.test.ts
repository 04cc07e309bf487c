import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerSpec } from '@gradkit/nn';
import { buildModel, describeModel, Linear, ReLU, Sequential } from '@gradkit/nn';
import { adam, sgd } from '@gradkit/optimizers';
import type { Tensor } from '@gradkit/tensor';
import { Module, manualSeed, memory, Rng } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import type { Callback } from './callbacks/callback.js';
import { EarlyStopping } from './callbacks/early-stopping.js';
import { LearningRateScheduler } from './callbacks/lr-scheduler.js';
import { MetricsLogger } from './callbacks/metrics-logger.js';
import { ModelCheckpoint } from './callbacks/model-checkpoint.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint/checkpoint.js';
import { Dataset } from './data/dataset.js';
import { NonFiniteError, Trainer } from './trainer.js';

/** Three Gaussian blobs in 4-D, 3 classes, linearly separable-ish. */
function blobs(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const features = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  const centers = [
    [2, 0, 0, 1],
    [-2, 1, 0, -1],
    [0, -2, 2, 0],
  ];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let k = 0; k < 4; k++) features[i * 4 + k] = centers[c][k] + 0.7 * rng.normal();
  }
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 3, name: 'blobs' });
}

const LAYERS: LayerSpec[] = [
  { type: 'linear', in: 4, out: 16 },
  { type: 'relu' },
  { type: 'linear', in: 16, out: 3 },
];

function setup(seed = 1) {
  const model = buildModel(LAYERS, { rng: new Rng(seed) });
  const optimizer = adam(model, { lr: 0.01 });
  return {
    model,
    optimizer,
    trainer: new Trainer({ model, optimizer, modelSpec: describeModel(model) as never }),
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'gradkit-trainer-'));

describe.each(testBackends)('Trainer on %s', (backend) => {
  useBackend(backend);

  it('fits blobs: loss falls, accuracy rises, validation is logged, memory stays flat', () => {
    const { trainer } = setup();
    const data = blobs(300, 2);
    const seenLosses: number[] = [];
    const spy: Callback = { name: 'spy', onBatchEnd: (info) => seenLosses.push(info.loss) };
    const h1 = trainer.fit(data, { epochs: 1, batchSize: 30, validationSplit: 0.2, callbacks: [spy] });
    const m1 = memory();
    const h = trainer.fit(data, { epochs: 6, batchSize: 30, validationSplit: 0.2, callbacks: [spy] });
    const m2 = memory();
    expect(h1.epochs.length).toBe(1);
    expect(h.epochs.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.stopReason).toBe('completed');
    expect(seenLosses.length).toBe(6 * 8); // 240 training rows / 30
    const first = h.epochs[0].logs;
    const last = h.epochs[5].logs;
    expect(Object.keys(last).sort()).toEqual(['accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss']);
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.val_accuracy).toBeGreaterThan(0.9);
    expect(last.lr).toBe(0.01);
    expect(h.epochs[5].step).toBe(48);
    expect(m2.tensors).toBe(m1.tensors);
    expect(m2.buffers).toBe(m1.buffers);
    const ev = trainer.evaluate(data);
    expect(ev.accuracy).toBeGreaterThan(0.9);
    const logits = trainer.predict(data);
    expect(logits.length).toBe(300 * 3);
    expect(() => trainer.fit(data, { epochs: 0 })).toThrow(/fit: epochs must be a positive integer, got 0/);
    expect(() => trainer.fit(data, { epochs: 1, validationSplit: 1.5 })).toThrow(
      /validationSplit must be in \(0, 1\)/,
    );
  });

  it('early stopping stops after `patience` epochs without improvement and restores the best weights', () => {
    const { model, trainer } = setup(3);
    const data = blobs(150, 4);
    // lr 0 from epoch 3 on: val_loss stops improving, so with patience 1 training stops at epoch 4
    const freeze = new LearningRateScheduler({ schedule: (e) => (e < 2 ? 0.05 : 0), unit: 'epoch' });
    const snapshots: Record<number, Float32Array> = {};
    const snap: Callback = {
      name: 'snap',
      onEpochEnd: (epoch) => {
        snapshots[epoch] = model.parameters()[0].dataSync();
      },
    };
    const es = new EarlyStopping({ patience: 1, restoreBestWeights: true });
    const h = trainer.fit(data, {
      epochs: 20,
      batchSize: 50,
      validationSplit: 0.2,
      callbacks: [freeze, snap, es],
    });
    expect(h.epochs.length).toBe(4);
    expect(h.stopReason).toMatch(
      /early stopping: val_loss did not improve for 2 epochs \(best .* at epoch 2\)/,
    );
    expect(es.bestEpoch).toBe(2);
    expect(model.parameters()[0].dataSync()).toEqual(snapshots[2]);
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/patience must be a non-negative integer/);
    const noVal = new Trainer({ model, optimizer: sgd(model, { lr: 0.1 }) });
    expect(() => noVal.fit(data, { epochs: 1, callbacks: [new EarlyStopping()] })).toThrow(
      /monitor 'val_loss' is not logged/,
    );
  });

  it('an interrupted and resumed run ends with the same weights as an uninterrupted one', () => {
    const data = blobs(120, 5);
    const runDir = tmp();
    manualSeed(11);
    const a = setup(7);
    a.trainer.fit(data, { epochs: 4, batchSize: 16, seed: 3 });
    const want = a.model.stateDict();

    manualSeed(11);
    const b = setup(7);
    const cbs = () => [
      new ModelCheckpoint({ dir: runDir, saveBest: false }),
      new EarlyStopping({ monitor: 'loss', patience: 10 }),
    ];
    b.trainer.fit(data, { epochs: 2, batchSize: 16, seed: 3, callbacks: cbs() });
    expect(existsSync(join(runDir, 'last', 'model.safetensors'))).toBe(true);
    manualSeed(999); // the resumed process starts with another generator state: the checkpoint restores it

    const ckpt = loadCheckpoint(join(runDir, 'last'));
    expect(ckpt.trainer.epoch).toBe(2);
    expect(ckpt.modelSpec).toEqual(describeModel(b.model));
    const model = buildModel(ckpt.modelSpec as never, { rng: new Rng(12345) });
    const optimizer = adam(model, { lr: 0.01 });
    const c = new Trainer({ model, optimizer });
    c.restore(ckpt);
    const h = c.fit(data, { epochs: 4, batchSize: 16, seed: 3, callbacks: cbs() });
    expect(h.epochs.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    const got = model.stateDict();
    for (const k of Object.keys(want)) expect(Array.from(got[k].data), k).toEqual(Array.from(want[k].data));
  });

  it('checkpoints round-trip and reject incomplete or foreign directories', () => {
    const { trainer, model } = setup(8);
    trainer.fit(blobs(60, 6), { epochs: 1, batchSize: 20 });
    const dir = join(tmp(), 'ck');
    saveCheckpoint(dir, trainer.checkpoint());
    const back = loadCheckpoint(dir);
    expect(Object.keys(back.model).sort()).toEqual(Object.keys(model.stateDict()).sort());
    expect(back.trainer.epoch).toBe(1);
    expect(back.trainer.history.length).toBe(1);
    saveCheckpoint(dir, trainer.checkpoint()); // replaces the previous one
    expect(() => loadCheckpoint(join(dir, 'nope'))).toThrow(/no such checkpoint directory/);
    const state = JSON.parse(readFileSync(join(dir, 'trainer.json'), 'utf8'));
    state.trainer.epoch = 7;
    writeFileSync(join(dir, 'trainer.json'), JSON.stringify(state));
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(/model.safetensors is from epoch 1, trainer.json from epoch 7/);
  });

  it('a non-finite loss stops training and names the first layer whose output is not finite', () => {
    class Explode extends Module {
      forward(x: Tensor): Tensor {
        return x.mul(1e30).mul(1e30);
      }
    }
    const rng = new Rng(9);
    const model = new Sequential(
      new Linear(4, 8, { rng }),
      new ReLU(),
      new Explode(),
      new Linear(8, 3, { rng }),
    );
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.1 }) });
    let err: unknown;
    try {
      // every loss read before its update (the default only where reads are cheap: cpu, wasm)
      trainer.fit(blobs(30, 1), { epochs: 1, batchSize: 10, lossReadInterval: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).message).toMatch(
      /loss is (NaN|Infinity) at epoch 1, batch 0; first non-finite output: layer 2 \(Explode\)/,
    );
  });

  it('logs every epoch to JSONL and CSV, and drives the learning rate per step', () => {
    const { trainer, optimizer } = setup(10);
    const dir = tmp();
    const lrs: number[] = [];
    const cb: Callback = { name: 'lrs', onBatchEnd: () => lrs.push(optimizer.getLr()) };
    trainer.fit(blobs(60, 2), {
      epochs: 2,
      batchSize: 20,
      callbacks: [
        new LearningRateScheduler({ schedule: (s) => 0.1 / (1 + s) }),
        cb,
        new MetricsLogger({ path: join(dir, 'm.jsonl') }),
        new MetricsLogger({ path: join(dir, 'm.csv'), format: 'csv', name: 'csv' }),
      ],
    });
    expect(lrs.map((v) => Number(v.toPrecision(6)))).toEqual([
      0.05, 0.0333333, 0.025, 0.02, 0.0166667, 0.0142857,
    ]);
    const lines = readFileSync(join(dir, 'm.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
    expect(Object.keys(lines[0])).toEqual(['epoch', 'step', 'seconds', 'loss', 'accuracy', 'lr']);
    const csv = readFileSync(join(dir, 'm.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,step,seconds,loss,accuracy,lr');
    expect(csv.length).toBe(3);
  });
});
