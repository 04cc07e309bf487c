// Memory of the Trainer's steps (issue 13, "Memory without ceremony"): each training step and each
// evaluation batch runs in a scope, so the live-tensor count is the same at every step of every
// epoch, and the optimizers' leak check never fires during fit.
import type { LayerSpec } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import type { Tensor } from '@gradkit/tensor';
import { Module, memory, Rng } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Callback } from './callbacks/callback.js';
import { Dataset } from './data/dataset.js';
import { Trainer } from './trainer.js';

function blobs(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const features = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let k = 0; k < 4; k++) features[i * 4 + k] = (k === i % 3 ? 2 : 0) + 0.7 * rng.normal();
  }
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 3, name: 'blobs' });
}

const LAYERS: LayerSpec[] = [
  { type: 'linear', in: 4, out: 16 },
  { type: 'relu' },
  { type: 'linear', in: 16, out: 3 },
];

/** Wraps a model and records the live-tensor count each time a batch enters `forward`. */
class Probe extends Module {
  readonly inner: Module & { forward(x: Tensor): Tensor };
  readonly seen: number[] = [];
  constructor(inner: Module & { forward(x: Tensor): Tensor }) {
    super();
    this.inner = this.registerModule('inner', inner);
  }
  forward(x: Tensor): Tensor {
    this.seen.push(memory().tensors);
    return this.inner.forward(x);
  }
}

const gradkitWarnings = (spy: MockInstance) =>
  spy.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('gradkit:'));

describe.each(testBackends)('Trainer step scopes on %s', (backend) => {
  useBackend(backend);
  let spy: MockInstance;
  beforeEach(() => {
    spy = vi.spyOn(console, 'warn');
  });
  afterEach(() => spy.mockRestore());

  for (const lossReadInterval of [1, 8]) {
    it(`fit: the live-tensor count repeats from epoch to epoch (lossReadInterval ${lossReadInterval}), no leak warning`, () => {
      const before = memory().tensors;
      const model = new Probe(
        buildModel(LAYERS, { rng: new Rng(1) }) as Module & { forward(x: Tensor): Tensor },
      );
      const optimizer = adam(model, { lr: 0.01 });
      const trainer = new Trainer({ model, optimizer });
      const atBatchEnd: number[][] = [];
      const probe: Callback = {
        name: 'probe',
        onEpochBegin: () => {
          atBatchEnd.push([]);
        },
        onBatchEnd: () => {
          atBatchEnd[atBatchEnd.length - 1].push(memory().tensors);
        },
      };
      // 40 batches per epoch, 5 epochs: 200 optimizer steps, over the leak check's window of 64
      const h = trainer.fit(blobs(400, 2), {
        epochs: 5,
        batchSize: 10,
        lossReadInterval,
        callbacks: [probe],
      });
      expect(h.epochs.at(-1)!.step).toBe(200);
      expect(atBatchEnd.map((e) => e.length)).toEqual([40, 40, 40, 40, 40]);
      // from the second epoch on, every epoch sees the same counts batch by batch (with a loss
      // read every 8 steps the count may follow that period, but it never drifts)
      for (let e = 2; e < 5; e++) expect(atBatchEnd[e]).toEqual(atBatchEnd[1]);
      // likewise where each batch enters the model's forward (inside the step's scope)
      const entering = (e: number) => model.seen.slice(40 * e, 40 * (e + 1));
      for (let e = 2; e < 5; e++) expect(entering(e)).toEqual(entering(1));
      expect(gradkitWarnings(spy)).toEqual([]);
      optimizer.dispose();
      model.dispose();
      expect(memory().tensors).toBe(before);
    });
  }

  it('evaluate: every batch starts from the same live-tensor count, and nothing is left after', () => {
    const model = new Probe(
      buildModel(LAYERS, { rng: new Rng(3) }) as Module & { forward(x: Tensor): Tensor },
    );
    const optimizer = adam(model, { lr: 0.01 });
    const trainer = new Trainer({ model, optimizer });
    const data = blobs(300, 4);
    const before = memory().tensors;
    const r = trainer.evaluate(data, { batchSize: 10 });
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(model.seen).toHaveLength(30);
    // batch 0 has no running sums yet; from batch 1 on, the kept sums are replaced, not added to
    expect(new Set(model.seen.slice(1)).size).toBe(1);
    expect(memory().tensors).toBe(before);
    optimizer.dispose();
    model.dispose();
  });
});
