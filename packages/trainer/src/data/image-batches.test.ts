import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerSpec } from '@gradkit/nn';
import { buildModel, describeModel, Flatten, Sequential } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import type { Tensor } from '@gradkit/tensor';
import { manualSeed, Rng } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelCheckpoint } from '../callbacks/model-checkpoint.js';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { Trainer } from '../trainer.js';
import { toTensors } from './batches.js';
import { Dataset } from './dataset.js';

// Image-shaped samples through the trainer: a dataset of [1, 2, 2] "images" trains a model that
// starts with Flatten exactly as the flat [4] dataset trains the same model without it (same
// batches, same order, same validation split, bit for bit), the model sees [B, 1, 2, 2] batches in
// fit, evaluate and predict, and an interrupted run resumes to the same weights.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gradkit-images-'));
  dirs.push(d);
  return d;
};

/** Three Gaussian blobs of 4 features, flat. */
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
    labels[i] = i % 3;
    for (let k = 0; k < 4; k++) features[i * 4 + k] = centers[i % 3][k] + 0.7 * rng.normal();
  }
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 3, name: 'blobs' });
}

const HEAD: LayerSpec[] = [
  { type: 'linear', in: 4, out: 8 },
  { type: 'relu' },
  { type: 'linear', in: 8, out: 3 },
];

/** A Flatten that records the shapes of the inputs it sees (the batches as uploaded). */
class SpyFlatten extends Flatten {
  readonly seen: string[] = [];
  override forward(x: Tensor): Tensor {
    this.seen.push(x.shape.join('x'));
    return super.forward(x);
  }
}

function setup(layers: LayerSpec[], spy?: SpyFlatten) {
  const built = buildModel(layers, { rng: new Rng(7) });
  const model = spy ? new Sequential(spy, ...built.children) : built;
  return { model, trainer: new Trainer({ model, optimizer: adam(model, { lr: 0.02 }) }) };
}

/** The parameter and buffer values in order (the spied model's names are shifted by one). */
const weights = (m: Sequential) => Object.values(m.stateDict()).map((v) => Array.from(v.data));

describe.each(testBackends)('image-shaped datasets in the trainer on %s', (backend) => {
  useBackend(backend);

  it('train on [1,2,2] samples through Flatten = train on flat rows, bit for bit; batches are [B,1,2,2]', () => {
    const flat = blobs(60, 3);
    const images = flat.withSampleShape([1, 2, 2]);
    const spy = new SpyFlatten();
    const a = setup(HEAD);
    const b = setup(HEAD, spy); // Flatten (spied), then the same layers with the same initial weights
    const opts = { epochs: 2, batchSize: 16, seed: 5, validationSplit: 0.25 } as const;
    const ha = a.trainer.fit(flat, opts);
    const hb = b.trainer.fit(images, opts);
    expect(hb.epochs.map((e) => e.logs)).toEqual(ha.epochs.map((e) => e.logs));
    expect(weights(b.model)).toEqual(weights(a.model));
    // 45 training rows: batches of 16, 16, 13 per epoch, then the 15 validation rows in one batch
    expect([...new Set(spy.seen)].sort()).toEqual(['13x1x2x2', '15x1x2x2', '16x1x2x2']);
    spy.seen.length = 0;
    expect(b.trainer.evaluate(images, { batchSize: 25 })).toEqual(
      a.trainer.evaluate(flat, { batchSize: 25 }),
    );
    expect(spy.seen).toEqual(['25x1x2x2', '25x1x2x2', '10x1x2x2']);
    spy.seen.length = 0;
    const pa = a.trainer.predict(flat, { batchSize: 32 });
    expect(b.trainer.predict(images, { batchSize: 32 })).toEqual(pa);
    expect(
      b.trainer.predict(
        { features: flat.features, numFeatures: 4, sampleShape: [1, 2, 2] },
        { batchSize: 32 },
      ),
    ).toEqual(pa);
    expect(spy.seen).toEqual(['32x1x2x2', '28x1x2x2', '32x1x2x2', '28x1x2x2']);
    expect(() => b.trainer.predict({ features: flat.features, numFeatures: 4, sampleShape: [1, 3] })).toThrow(
      'predict: sampleShape [1,3] does not hold 4 features',
    );
    const { x, y } = toTensors(images.batches(8).batch(0));
    expect([x.shape, y.shape]).toEqual([[8, 1, 2, 2], [8]]);
    x.dispose();
    y.dispose();
    a.model.dispose();
    b.model.dispose();
  });

  it('an interrupted run on image-shaped data resumes from its checkpoint to the same weights', () => {
    const images = blobs(48, 4).withSampleShape([1, 2, 2]);
    const layers: LayerSpec[] = [{ type: 'flatten' }, ...HEAD];
    const opts = { batchSize: 16, seed: 3 } as const;
    manualSeed(11);
    const a = setup(layers);
    a.trainer.fit(images, { ...opts, epochs: 3 });
    const want = weights(a.model);

    const runDir = tmp();
    manualSeed(11);
    const b = setup(layers);
    b.trainer.fit(images, {
      ...opts,
      epochs: 1,
      callbacks: [new ModelCheckpoint({ dir: runDir, saveBest: false })],
    });
    manualSeed(999);
    const ckpt = loadCheckpoint(join(runDir, 'last'));
    const model = buildModel(describeModel(b.model).layers, { rng: new Rng(12345) });
    const c = new Trainer({ model, optimizer: adam(model, { lr: 0.02 }) });
    c.restore(ckpt);
    c.fit(images, { ...opts, epochs: 3 });
    expect(weights(model)).toEqual(want);
    for (const m of [a.model, b.model, model]) m.dispose();
  });
});
