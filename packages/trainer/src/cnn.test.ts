import type { LayerSpec } from '@gradkit/nn';
import { buildModel, describeModel } from '@gradkit/nn';
import { sgd } from '@gradkit/optimizers';
import type { StateDict, Tensor } from '@gradkit/tensor';
import { memory, noGrad, Rng, scope, softmaxCrossEntropy, tensor } from '@gradkit/tensor';
import { expectClose, loadFixture, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { Dataset } from './data/dataset.js';
import { registerStandardLayers } from './layers.js';
import { Trainer } from './trainer.js';

// A whole small CNN built from a model description against PyTorch 1.13 (fixtures/cnn.json,
// written by fixtures/cnn_generate.py; float64 references from float32 inputs):
//   conv(1->4, 3x3, pad 1) - BatchNorm2d - ReLU - MaxPool 2 - Dropout2d (eval) - conv(4->6, 3x3,
//   groups 2) - ReLU - Flatten - Linear(24 -> 3), cross-entropy, two SGD steps.
// Losses within 1e-5 + 1e-5 |want|; every parameter gradient, the running statistics and the
// evaluation logits within 1e-4 + 1e-4 |want| (float32 through two convolutions and a batch norm).

const LOSS = { atol: 1e-5, rtol: 1e-5 } as const;
const GRAD = { atol: 1e-4, rtol: 1e-4 } as const;

interface CnnFixture {
  torch: string;
  x: number[];
  xShape: number[];
  labels: number[];
  lr: number;
  initial: Record<string, { shape: number[]; data: number[] }>;
  steps: { loss: number; grads: Record<string, number[]> }[];
  runningMean: number[];
  runningVar: number[];
  numBatchesTracked: number;
  evalLogits: number[];
  stateDictKeys: string[];
}
const FIXTURE = loadFixture<CnnFixture>(new URL('../fixtures/cnn.json', import.meta.url));

const LAYERS: LayerSpec[] = [
  { type: 'conv2d', in: 1, out: 4, kernelSize: 3, padding: 1 },
  { type: 'batchNorm2d', numFeatures: 4 },
  { type: 'relu' },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'dropout2d', p: 0.25 },
  { type: 'conv2d', in: 4, out: 6, kernelSize: 3, groups: 2 },
  { type: 'relu' },
  { type: 'flatten' },
  { type: 'linear', in: 24, out: 3 },
];

registerStandardLayers();

describe.each(testBackends)('a small CNN on %s', (backend) => {
  useBackend(backend);

  it(`matches PyTorch ${FIXTURE.torch}: state-dict names, losses and every gradient over two SGD steps, running stats, eval logits`, () => {
    const model = buildModel(LAYERS, { rng: new Rng(0) });
    expect(Object.keys(model.stateDict())).toEqual(FIXTURE.stateDictKeys); // PyTorch's names and order
    const initial: StateDict = {};
    for (const [name, e] of Object.entries(FIXTURE.initial))
      initial[name] = { shape: e.shape, data: Float32Array.from(e.data) };
    const report = model.loadStateDict(initial, { strict: false });
    expect(report.missingKeys).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']); // fresh buffers, as PyTorch's
    model.children[4].eval(); // Dropout2d: the identity, as in the reference
    const x = tensor(FIXTURE.x, FIXTURE.xShape);
    FIXTURE.steps.forEach((want, i) => {
      scope(() => {
        const loss = softmaxCrossEntropy(model.forward(x) as Tensor, FIXTURE.labels);
        expectClose(loss, [want.loss], LOSS, `step ${i + 1}: loss`);
        loss.backward();
        for (const [name, p] of model.namedParameters())
          expectClose(p.grad!, want.grads[name], GRAD, `step ${i + 1}: grad of ${name}`);
        noGrad(() => {
          for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(FIXTURE.lr)));
        });
        model.zeroGrad();
      });
    });
    const bn = Object.fromEntries(model.namedBuffers());
    expectClose(bn['1.running_mean'], FIXTURE.runningMean, GRAD, 'runningMean');
    expectClose(bn['1.running_var'], FIXTURE.runningVar, GRAD, 'runningVar');
    expect(bn['1.num_batches_tracked'].item()).toBe(FIXTURE.numBatchesTracked);
    model.eval();
    scope(() => expectClose(model.forward(x) as Tensor, FIXTURE.evalLogits, GRAD, 'eval logits'));
    expect(describeModel(model).layers).toEqual(LAYERS);
    x.dispose();
    model.dispose();
  });

  it('trains with Trainer.fit on [1, 8, 8] images (dropout2d active): memory flat across epochs', () => {
    const rng = new Rng(5);
    const n = 24;
    const features = rng.fillNormal(new Float32Array(n * 64));
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    for (let i = 0; i < n; i++) features[i * 64 + labels[i] * 9] += 3; // a class-dependent pixel
    const data = new Dataset({ features, labels, sampleShape: [1, 8, 8], numClasses: 3 });
    const model = buildModel(LAYERS, { rng: new Rng(1) });
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.05, momentum: 0.9 }) });
    trainer.fit(data, { epochs: 1, batchSize: 8, seed: 0 });
    const start = memory();
    const h = trainer.fit(data, { epochs: 3, batchSize: 8, seed: 0 });
    const end = memory();
    expect([end.tensors, end.arrays, end.buffers, end.bytes]).toEqual([
      start.tensors,
      start.arrays,
      start.buffers,
      start.bytes,
    ]);
    expect(h.epochs.every((e) => Number.isFinite(e.logs.loss))).toBe(true);
    model.dispose();
  });

  it('memory stays flat over 1,000 training steps (live tensors, arrays, buffers, bytes)', () => {
    const rng = new Rng(6);
    const n = 100;
    const features = rng.fillNormal(new Float32Array(n * 64));
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const data = new Dataset({ features, labels, sampleShape: [1, 8, 8], numClasses: 3 });
    const model = buildModel(LAYERS, { rng: new Rng(2) });
    const trainer = new Trainer({ model, optimizer: sgd(model, { lr: 0.01, momentum: 0.9 }) });
    trainer.fit(data, { epochs: 1, batchSize: 4, seed: 0 }); // 25 steps: every kernel compiled, every state made
    const start = memory();
    const h = trainer.fit(data, { epochs: 40, batchSize: 4, seed: 1 }); // 40 x 25 = 1,000 steps
    const end = memory();
    expect(h.epochs).toHaveLength(40);
    expect([end.tensors, end.arrays, end.buffers, end.bytes]).toEqual([
      start.tensors,
      start.arrays,
      start.buffers,
      start.bytes,
    ]);
    expect(h.epochs.every((e) => Number.isFinite(e.logs.loss))).toBe(true);
    model.dispose();
  }, 600_000);
});
