// Issue 10, items 3 and 4: a blow-up on the last update is never saved as a successful run, a NaN
// metric is never an improvement, and empty data is refused instead of reported as loss 0.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Linear, ReLU, Sequential } from '@gradkit/nn';
import { BatchNorm1d } from '@gradkit/normalization';
import { sgd } from '@gradkit/optimizers';
import type { Module, StateDict, Tensor } from '@gradkit/tensor';
import { memory, Rng, Module as TensorModule, tensor, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import type { Callback, TrainingContext } from './callbacks/callback.js';
import { EarlyStopping } from './callbacks/early-stopping.js';
import { LearningRateScheduler } from './callbacks/lr-scheduler.js';
import { ModelCheckpoint } from './callbacks/model-checkpoint.js';
import { loadCheckpoint } from './checkpoint/checkpoint.js';
import { Dataset } from './data/dataset.js';
import { DataError } from './data/errors.js';
import { NonFiniteError, Trainer } from './trainer.js';

/** `n` rows in 4-D, 3 classes, every feature scaled by `scale` (1e5: gradients of about 1e5). */
function data(n: number, scale = 1, name = 'blobs'): Dataset {
  const rng = new Rng(n);
  const features = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let k = 0; k < 4; k++) features[i * 4 + k] = scale * ((k === labels[i] ? 2 : 0) + rng.normal());
  }
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 3, name });
}

const empty = (name: string) =>
  new Dataset({
    features: new Float32Array(0),
    labels: new Int32Array(0),
    numFeatures: 4,
    numClasses: 3,
    name,
  });

const tmp = () => mkdtempSync(join(tmpdir(), 'gradkit-nonfinite-'));

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, none was thrown');
}

const nonFiniteCount = (xs: Float32Array) => xs.filter((v) => !Number.isFinite(v)).length;

/** Records the epochs whose `onEpochEnd` ran. */
function epochSpy(): Callback & { seen: number[] } {
  const seen: number[] = [];
  return { name: 'spy', seen, onEpochEnd: (epoch) => void seen.push(epoch) };
}

describe.each(testBackends)('the non-finite guarantee of Trainer.fit on %s', (backend) => {
  useBackend(backend);

  it('a blow-up on the last update: NonFiniteError naming the parameter, no checkpoint, no completed epoch', () => {
    const model = new Sequential(new Linear(4, 3, { rng: new Rng(1) }));
    // features of 1e5 give weight gradients of about 1e5: with lr 1e35 (finite in float32) the one
    // update writes +-1e40 = +-Infinity into the weight; the loss before it was finite
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 1e35 }) });
    const dir = tmp();
    const spy = epochSpy();
    const before = memory();
    const err = caught(() =>
      trainer.fit(data(30, 1e5), {
        epochs: 1,
        batchSize: 30,
        callbacks: [spy, new ModelCheckpoint({ dir })],
      }),
    );
    expect(err).toBeInstanceOf(NonFiniteError);
    const e = err as NonFiniteError;
    expect(e.message).toMatch(
      /^parameter 0\.weight: \d+ of 12 values (is|are) not finite \(first: -?Infinity at index \d+\) at the end of epoch 1 \(step 1, after batch 0\): training diverged/,
    );
    expect([e.parameter, e.epoch, e.batch, e.layer]).toEqual(['0.weight', 1, 0, null]);
    // the weights really are non-finite: without the guard, this run was reported 'completed'
    expect(nonFiniteCount(model.parameters()[0].dataSync())).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'last'))).toBe(false);
    expect(existsSync(join(dir, 'best'))).toBe(false);
    expect(spy.seen).toEqual([]);
    expect(trainer.history).toEqual([]);
    expect(trainer.epoch).toBe(0);
    expect(memory().tensors).toBe(before.tensors);
  });

  it("a blow-up in epoch 2 leaves epoch 1's checkpoints as they were", () => {
    const model = new Sequential(new Linear(4, 3, { rng: new Rng(2) }));
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.01 }) });
    const dir = tmp();
    const spy = epochSpy();
    const lr = new LearningRateScheduler({ schedule: (e) => (e < 1 ? 1e-7 : 1e35), unit: 'epoch' });
    const err = caught(() =>
      trainer.fit(data(30, 1e5), {
        epochs: 3,
        batchSize: 30,
        callbacks: [lr, spy, new ModelCheckpoint({ dir, monitor: 'loss' })],
      }),
    );
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).message).toMatch(
      /^parameter 0\.weight: .* at the end of epoch 2 \(step 2, after batch 0\)/,
    );
    expect(spy.seen).toEqual([1]);
    expect(trainer.history.map((r) => r.epoch)).toEqual([1]);
    for (const which of ['last', 'best']) {
      const ckpt = loadCheckpoint(join(dir, which));
      expect(ckpt.trainer.epoch, which).toBe(1);
      for (const [k, v] of Object.entries(ckpt.model))
        expect(nonFiniteCount(v.data), `${which} ${k}`).toBe(0);
    }
  });

  it('a non-finite persistent buffer (BatchNorm running mean) is named too', () => {
    const rng = new Rng(3);
    const bn = new BatchNorm1d(8);
    const model = new Sequential(new Linear(4, 8, { rng }), bn, new ReLU(), new Linear(8, 3, { rng }));
    const poison = (m: Module) => {
      if (m !== model) return;
      // a NaN running mean does not change the training loss (batch statistics are used), only eval
      (bn.runningMean as NonNullable<typeof bn.runningMean>).assign(
        tensor(new Float32Array(8).fill(Number.NaN)),
      );
    };
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.01 }), constraints: [poison] });
    const dir = tmp();
    const err = caught(() =>
      trainer.fit(data(30), {
        epochs: 2,
        batchSize: 10,
        callbacks: [new ModelCheckpoint({ dir, monitor: 'loss' })],
      }),
    );
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).parameter).toBe('1.running_mean');
    expect((err as NonFiniteError).message).toMatch(
      /^parameter 1\.running_mean: 8 of 8 values are not finite \(first: NaN at index 0\) at the end of epoch 1 \(step 3, after batch 2\)/,
    );
    expect(existsSync(join(dir, 'last'))).toBe(false);
  });

  it('a non-finite val_loss with finite weights stops training before callbacks and checkpoints', () => {
    // the identity in training, an overflow in eval mode: the validation logits are infinite
    class OverflowInEval extends TensorModule {
      forward(x: Tensor): Tensor {
        return this.training ? x : x.mul(1e30).mul(1e30);
      }
    }
    const model = new Sequential(new Linear(4, 3, { rng: new Rng(4) }), new OverflowInEval());
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.01 }) });
    const dir = tmp();
    const spy = epochSpy();
    const val = data(6, 1, 'val');
    const err = caught(() =>
      trainer.fit(data(30), {
        epochs: 2,
        batchSize: 10,
        validationData: val,
        callbacks: [spy, new ModelCheckpoint({ dir })],
      }),
    );
    expect(err).toBeInstanceOf(NonFiniteError);
    const e = err as NonFiniteError;
    expect(e.message).toMatch(
      /^val_loss is (NaN|Infinity) at the end of epoch 1 \(step 3\) although every parameter is finite: the model overflows on the validation data/,
    );
    expect([e.epoch, e.batch, e.layer, e.parameter]).toEqual([1, -1, null, null]);
    expect(spy.seen).toEqual([]);
    expect(trainer.history).toEqual([]);
    expect(existsSync(join(dir, 'last'))).toBe(false);
    expect(nonFiniteCount(model.parameters()[0].dataSync())).toBe(0);
  });

  it('nonFiniteCheck: false trains on, but a checkpoint of non-finite weights is still refused', () => {
    const make = () => {
      const model = new Sequential(new Linear(4, 3, { rng: new Rng(5) }));
      return new Trainer({ model, optimizer: sgd(model, { lr: 1e35 }) });
    };
    const h = make().fit(data(30, 1e5), { epochs: 1, batchSize: 30, nonFiniteCheck: false });
    expect(h.stopReason).toBe('completed'); // the documented opt-out
    const dir = tmp();
    const err = caught(() =>
      make().fit(data(30, 1e5), {
        epochs: 1,
        batchSize: 30,
        nonFiniteCheck: false,
        callbacks: [new ModelCheckpoint({ dir, monitor: 'loss' })],
      }),
    );
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).message).toMatch(
      /^checkpoint: parameter 0\.weight: \d+ of 12 values (is|are) not finite \(first: -?Infinity at index \d+\) after 1 epoch \(step 1\); refusing to save non-finite weights/,
    );
    expect(existsSync(join(dir, 'last'))).toBe(false);
  });

  it('checkpoint() refuses non-finite weights and callback tensors unless allowNonFinite', () => {
    const model = new Sequential(new Linear(4, 3, { rng: new Rng(6) }));
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.1 }) });
    expect(Object.keys(trainer.checkpoint().model)).toEqual(['0.weight', '0.bias']);
    const w = model.parameters()[0];
    const values = w.dataSync();
    values[5] = Number.NaN;
    w.assign(tensor(values, [3, 4]));
    const err = caught(() => trainer.checkpoint());
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).message).toBe(
      'checkpoint: parameter 0.weight: 1 of 12 values is not finite (first: NaN at index 5) after 0 epochs (step 0); ' +
        'refusing to save non-finite weights (allowNonFinite: true saves them anyway)',
    );
    expect((err as NonFiniteError).parameter).toBe('0.weight');
    const raw = trainer.checkpoint([], { allowNonFinite: true });
    expect(Number.isNaN(raw.model['0.weight'].data[5])).toBe(true);

    values[5] = 1;
    w.assign(tensor(values, [3, 4]));
    const bad: Callback = {
      name: 'fake',
      stateTensors: () => ({ w: { shape: [2], data: Float32Array.of(1, Number.POSITIVE_INFINITY) } }),
    };
    expect(() => trainer.checkpoint([bad])).toThrow(
      /^checkpoint: callback tensor fake:w: 1 of 2 values is not finite \(first: Infinity at index 1\)/,
    );
    expect(trainer.checkpoint([bad], { allowNonFinite: true }).callbackTensors.fake.w.data[1]).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('empty data is refused with the sizes, never reported as loss 0', () => {
    const model = new Sequential(new Linear(4, 3, { rng: new Rng(7) }));
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.1 }) });
    const weights = model.parameters()[0].dataSync();
    const expectError = (fn: () => unknown, type: typeof DataError | typeof ValueError, message: string) => {
      const err = caught(fn);
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toBe(message);
    };
    expectError(
      () => trainer.fit(empty('empty'), { epochs: 1 }),
      DataError,
      'empty: the training data has 0 rows: fit needs at least one',
    );
    expectError(
      () => trainer.fit(data(100), { epochs: 1, validationSplit: 0.9999 }),
      ValueError,
      'fit: validationSplit 0.9999 of 100 rows leaves 0 training rows and 100 validation rows; both need at least one',
    );
    expectError(
      () => trainer.fit(data(1), { epochs: 1, validationSplit: 0.1 }),
      ValueError,
      'fit: validationSplit 0.1 of 1 row leaves 1 training row and 0 validation rows; both need at least one',
    );
    expectError(
      () => trainer.fit(data(10), { epochs: 1, validationSplit: 0.01 }),
      ValueError,
      'fit: validationSplit 0.01 of 10 rows leaves 10 training rows and 0 validation rows; both need at least one',
    );
    expectError(
      () => trainer.fit(data(10), { epochs: 1, validationData: empty('val') }),
      DataError,
      'val: validationData has 0 rows: a validation loss over no rows is undefined, not 0',
    );
    expectError(
      () => trainer.evaluate(empty('test')),
      DataError,
      'test: evaluate: 0 rows; a loss over no rows is undefined, not 0',
    );
    // nothing was trained by the refused calls
    expect(trainer.step).toBe(0);
    expect(trainer.history).toEqual([]);
    expect(model.parameters()[0].dataSync()).toEqual(weights);
    // predicting zero rows gives zero outputs: no number, so none that is wrong
    expect(trainer.predict(empty('none'))).toEqual(new Float32Array(0));
    // the smallest splits that leave a row on each side work
    const h = trainer.fit(data(2), { epochs: 1, validationSplit: 0.5 });
    expect(h.stopReason).toBe('completed');
    expect(Number.isFinite(h.epochs[0].logs.val_loss)).toBe(true);
  });
});

/** A training context that records stops and checkpoint requests, around a fake model. */
function fakeContext(model: Partial<Module> = {}) {
  const stops: string[] = [];
  const saves: string[] = [];
  const ctx: TrainingContext = {
    model: model as Module,
    optimizer: {} as TrainingContext['optimizer'],
    history: [],
    epochs: 100,
    stop: (reason) => void stops.push(reason),
    requestCheckpoint: (key) => void saves.push(key),
  };
  return { ctx, stops, saves };
}

describe('a NaN (or infinite) metric is never an improvement', () => {
  /** Feeds `values` as `monitor` to `es`, epoch by epoch; returns [best, wait] after each. */
  function feed(es: EarlyStopping, values: number[], ctx = fakeContext().ctx, monitor = 'val_loss') {
    return values.map((v, i) => {
      es.onEpochEnd(i + 1, { [monitor]: v }, ctx);
      return [es.best, es.wait];
    });
  }

  it('EarlyStopping min: [1, NaN, 0.5] and [1, -Infinity, 0.5] keep best 1 through the bad epoch', () => {
    expect(feed(new EarlyStopping({ patience: 5 }), [1, Number.NaN, 0.5])).toEqual([
      [1, 0],
      [1, 1],
      [0.5, 0],
    ]);
    expect(feed(new EarlyStopping({ patience: 5 }), [1, Number.NEGATIVE_INFINITY, 0.5])).toEqual([
      [1, 0],
      [1, 1],
      [0.5, 0],
    ]);
    expect(feed(new EarlyStopping({ patience: 5 }), [Number.NaN, Number.POSITIVE_INFINITY, 2])).toEqual([
      [Number.POSITIVE_INFINITY, 1],
      [Number.POSITIVE_INFINITY, 2],
      [2, 0],
    ]);
  });

  it('EarlyStopping max and minDelta: NaN and Infinity never count', () => {
    const es = new EarlyStopping({ monitor: 'val_accuracy', patience: 5 });
    expect(es.mode).toBe('max');
    expect(feed(es, [0.5, Number.NaN, Number.POSITIVE_INFINITY, 0.6], undefined, 'val_accuracy')).toEqual([
      [0.5, 0],
      [0.5, 1],
      [0.5, 2],
      [0.6, 0],
    ]);
    const delta = new EarlyStopping({ patience: 5, minDelta: 0.1 });
    expect(feed(delta, [1, Number.NaN, 0.95, 0.85])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
      [0.85, 0],
    ]);
  });

  it('EarlyStopping stops on NaN epochs with an honest reason, and restores only finite-best weights', () => {
    const one = fakeContext();
    const es = new EarlyStopping({ patience: 0 });
    feed(es, [1, Number.NaN], one.ctx);
    expect(one.stops).toEqual([
      'early stopping: val_loss did not improve for 1 epoch (best 1.0000 at epoch 1)',
    ]);
    const none = fakeContext();
    feed(new EarlyStopping({ patience: 1 }), [Number.NaN, Number.NaN], none.ctx);
    expect(none.stops).toEqual([
      'early stopping: val_loss did not improve for 2 epochs (no epoch had a finite val_loss)',
    ]);

    let calls = 0;
    const loaded: StateDict[] = [];
    const model = {
      stateDict: () => ({ w: { shape: [1], data: Float32Array.of(++calls) } }),
      loadStateDict: (sd: StateDict) => {
        loaded.push(sd);
        return { missingKeys: [], unexpectedKeys: [] };
      },
    };
    const restore = fakeContext(model as never);
    const best = new EarlyStopping({ patience: 5, restoreBestWeights: true });
    feed(best, [2, Number.NaN, Number.NEGATIVE_INFINITY, 3], restore.ctx);
    best.onTrainEnd(restore.ctx);
    expect(calls).toBe(1); // weights copied at epoch 1 only
    expect(loaded.map((sd) => sd.w.data[0])).toEqual([1]);
    expect(best.bestEpoch).toBe(1);
  });

  it('EarlyStopping.loadStateDict refuses a NaN best', () => {
    const es = new EarlyStopping();
    const state = { best: 'NaN', bestEpoch: 1, wait: 0, stoppedEpoch: 0, hasBestWeights: false };
    expect(() => es.loadStateDict(state)).toThrow(
      'EarlyStopping.loadStateDict: best must be a finite number or Infinity (mode min), got "NaN"',
    );
    expect(() => es.loadStateDict({ ...state, best: '-Infinity' })).toThrow(/got "-Infinity"/);
    es.loadStateDict({ ...state, best: 'Infinity' });
    expect(es.best).toBe(Number.POSITIVE_INFINITY);
    es.loadStateDict({ ...state, best: 0.25 });
    expect(es.best).toBe(0.25);
    const max = new EarlyStopping({ mode: 'max' });
    max.loadStateDict(JSON.parse(JSON.stringify(max.stateDict())));
    expect(max.best).toBe(Number.NEGATIVE_INFINITY);
  });

  it('ModelCheckpoint writes best/ only for finite improvements: [NaN, 1, NaN, 0.5, Infinity, 0.7]', () => {
    const mc = new ModelCheckpoint({ dir: 'ck' });
    const { ctx, saves } = fakeContext();
    const bests = [Number.NaN, 1, Number.NaN, 0.5, Number.POSITIVE_INFINITY, 0.7].map((v, i) => {
      saves.length = 0;
      mc.onEpochEnd(i + 1, { loss: 0.1, val_loss: v }, ctx);
      return [mc.best, saves.map((d) => d.split(/[\\/]/).pop())];
    });
    expect(bests).toEqual([
      [null, ['last']],
      [1, ['best', 'last']],
      [1, ['last']],
      [0.5, ['best', 'last']],
      [0.5, ['last']],
      [0.5, ['last']],
    ]);
    expect(mc.bestEpoch).toBe(4);
    const acc = new ModelCheckpoint({ dir: 'ck', monitor: 'val_accuracy' });
    acc.onEpochEnd(1, { val_accuracy: Number.NaN }, ctx);
    acc.onEpochEnd(2, { val_accuracy: 0.5 }, ctx);
    acc.onEpochEnd(3, { val_accuracy: Number.NaN }, ctx);
    expect([acc.best, acc.bestEpoch]).toEqual([0.5, 2]);
    expect(() => mc.loadStateDict({ best: 'NaN', bestEpoch: 1 })).toThrow(
      'ModelCheckpoint.loadStateDict: best must be null or a finite number, got "NaN"',
    );
    mc.loadStateDict({ best: null, bestEpoch: 0 });
    expect(mc.best).toBe(null);
  });
});
