import { Linear, ReLU, Sequential } from '@gradkit/nn';
import { sgd } from '@gradkit/optimizers';
import { Rng, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { Dataset } from './data/dataset.js';
import { NonFiniteError, Trainer } from './trainer.js';

// ReLU used to turn NaN into 0 and argmax used to skip NaN: a ReLU model with a NaN weight then
// trained and predicted with confident finite numbers, and the trainer's NaN guard never fired.
// Now NaN propagates (as in PyTorch) and the guard names the first layer whose output is NaN
// (with every loss read before its update: lossReadInterval 1, the default where reads are cheap).

function data(n: number): Dataset {
  const rng = new Rng(3);
  const features = new Float32Array(n * 4).map(() => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 3, name: 'nan-guard' });
}

function reluModel(): Sequential {
  const rng = new Rng(5);
  return new Sequential(new Linear(4, 8, { rng }), new ReLU(), new Linear(8, 3, { rng }));
}

describe.each(testBackends)('the NaN guard sees through ReLU on %s', (backend) => {
  useBackend(backend);

  it('a NaN weight in the first layer stops fit at the first batch, naming layer 0', () => {
    const model = reluModel();
    const sd = model.stateDict();
    const w = Float32Array.from(sd['0.weight'].data);
    w[5] = Number.NaN; // one weight of hidden unit 1
    model.loadStateDict({ ...sd, '0.weight': { ...sd['0.weight'], data: w } });
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.1 }) });
    expect(() => trainer.fit(data(30), { epochs: 1, batchSize: 10, lossReadInterval: 1 })).toThrow(
      NonFiniteError,
    );
    expect(() => trainer.fit(data(30), { epochs: 1, batchSize: 10, lossReadInterval: 1 })).toThrow(
      /loss is NaN at epoch 1, batch 0; first non-finite output: layer 0 \(Linear\)/,
    );
    expect(trainer.history).toHaveLength(0);
    // predictions of that model are NaN, never a confident class
    const logits = trainer.predict(data(4));
    expect(Array.from(logits).every(Number.isNaN)).toBe(true);
    model.dispose();
  });

  it('a NaN input feature is reported at the first layer, not absorbed by the ReLU', () => {
    const model = reluModel();
    const ds = data(20);
    ds.features[3 * 4 + 2] = Number.NaN; // row 3 of batch 0
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.1 }) });
    expect(() => trainer.fit(ds, { epochs: 1, batchSize: 10, shuffle: false, lossReadInterval: 1 })).toThrow(
      /loss is NaN at epoch 1, batch 0; first non-finite output: layer 0 \(Linear\)/,
    );
    model.dispose();
  });

  it('argmax of NaN logits points at the NaN, so accuracy of a NaN model is not a confident score', () => {
    const t = tensor([0.1, Number.NaN, 5, 7, 1, Number.NaN], [2, 3]);
    expect(Array.from(t.argmax(-1).dataSync())).toEqual([1, 2]);
    t.dispose();
  });
});
