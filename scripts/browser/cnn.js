// The browser page's CNN part (imported by main.js; bundled by scripts/browser-test.mjs): a small
// CNN from @gradkit/nn, @gradkit/normalization and @gradkit/dropout, on the page's default device.
//
//  1. Against PyTorch 1.13 (fixtures/cnn.json, written by fixtures/cnn_generate.py and bundled by
//     esbuild, so nothing is fetched): the same initial weights and inputs, the loss and every
//     parameter gradient of two plain-SGD steps, the BatchNorm2d running statistics and the
//     logits in evaluation mode. Each comparison passes when |got - want| <= atol + rtol |want|
//     elementwise, with TOLERANCE below (float32 through two convolutions, a batch norm and the
//     pools, against float64 references).
//  2. Then it trains on: Dropout2d in training mode with a seeded generator, TRAIN_STEPS more SGD
//     steps on the same batch (the same shapes, so few new kernels to compile on WebGL), recording
//     each loss (the two reference steps' first) and the live tensors/arrays/buffers/bytes after
//     each step.
//  3. It reports the device the CNN's parameters live on, and on gl the kernels that gpu.js
//     silently moved to its plain-JS cpu backend (there must be none).
// The checks themselves are made by scripts/browser-test.mjs from what `runCnn` returns.
import { Dropout2d } from '@gradkit/dropout';
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@gradkit/nn';
import { BatchNorm2d } from '@gradkit/normalization';
import { sgd } from '@gradkit/optimizers';
import { memory, Rng, scope, softmaxCrossEntropy, tensor } from '@gradkit/tensor';
import FIXTURE from './fixtures/cnn.json';

/**
 * Float32 tolerances: |got - want| <= atol + rtol |want|. Every backend lands within about 6e-7
 * of the float64 references here (float32 rounding through these short sums), so 1e-5 leaves a
 * margin of more than 10x and still catches a wrong epsilon or a dropped term; the trainer's CNN
 * test (Node backends) uses 1e-4 for the gradients.
 */
export const TOLERANCE = {
  loss: { atol: 1e-5, rtol: 1e-5 },
  grad: { atol: 1e-5, rtol: 1e-5 },
};
/** SGD steps after the two reference steps, with Dropout2d active. */
export const TRAIN_STEPS = 8;
/** Live counts are compared after this step of the training part and after the last. */
export const FLAT_FROM_STEP = 3;

function buildCnn() {
  // Initial values are replaced by the fixture's; the seed only makes the draws deterministic.
  const rng = new Rng(0);
  return new Sequential(
    new Conv2d(2, 6, 3, { stride: 2, padding: 1, rng }),
    new BatchNorm2d(6),
    new ReLU(),
    new Conv2d(6, 6, 3, { padding: 1, groups: 6, rng }),
    new ReLU(),
    new MaxPool2d(2),
    new Dropout2d(0.25, { rng: new Rng(7) }),
    new AdaptiveAvgPool2d(2),
    new Flatten(),
    new Linear(24, 3, { rng }),
  );
}

/** Compares `got` with `want` elementwise; returns the worst element (by error over tolerance). */
function compare(name, got, want, tol) {
  const values = Array.from(got);
  let worst = { i: -1, got: NaN, want: NaN, err: 0, ratio: 0 };
  let ok = values.length === want.length;
  for (let i = 0; i < Math.min(values.length, want.length); i++) {
    const err = Math.abs(values[i] - want[i]);
    const bound = tol.atol + tol.rtol * Math.abs(want[i]);
    const ratio = Number.isNaN(err) ? Infinity : err / bound;
    if (!(err <= bound)) ok = false;
    if (ratio > worst.ratio || worst.i < 0) worst = { i, got: values[i], want: want[i], err, ratio };
  }
  return { name, ok, n: values.length, expected: want.length, worst, tol };
}

const live = () => {
  const m = memory();
  return { tensors: m.tensors, arrays: m.arrays, buffers: m.buffers, bytes: m.bytes };
};

/** Runs the CNN part on the current default device; throws only on an unexpected error. */
export function runCnn() {
  const t0 = performance.now();
  const model = buildCnn();
  const device = model.parameters()[0].device;
  // gpu.js compile statistics at each phase (gl only): kernels compiled and their time.
  const glPhases = [];
  const glPhase = (name) => {
    if (device.name !== 'gl') return;
    const st = device.backend.stats;
    glPhases.push({ name, compiles: st.compiles, compileMs: Math.round(st.compileMs) });
  };
  glPhase('start');
  const comparisons = [];
  const keys = Object.keys(model.stateDict()); // PyTorch's names and order
  comparisons.push({
    name: 'state-dict names',
    ok: JSON.stringify(keys) === JSON.stringify(FIXTURE.stateDictKeys),
    detail: keys.join(' '),
  });
  const initial = {};
  for (const [name, e] of Object.entries(FIXTURE.initial))
    initial[name] = { shape: e.shape, data: Float32Array.from(e.data) };
  model.loadStateDict(initial, { strict: false }); // the BatchNorm2d buffers stay fresh, as PyTorch's
  const dropout = model.children[6];
  dropout.eval(); // the identity, as in the reference
  const x = tensor(FIXTURE.x, FIXTURE.xShape);
  const opt = sgd(model, { lr: FIXTURE.lr });
  const losses = [];

  FIXTURE.steps.forEach((want, i) => {
    scope(() => {
      const loss = softmaxCrossEntropy(model.forward(x), FIXTURE.labels);
      losses.push(loss.item());
      comparisons.push(compare(`step ${i + 1} loss`, [losses[i]], [want.loss], TOLERANCE.loss));
      loss.backward();
      for (const [name, p] of model.namedParameters())
        comparisons.push(
          compare(`step ${i + 1} grad ${name}`, p.grad.dataSync(), want.grads[name], TOLERANCE.grad),
        );
      opt.step();
      opt.zeroGrad();
    });
  });
  const buffers = Object.fromEntries(model.namedBuffers());
  comparisons.push(
    compare(
      'BatchNorm2d runningMean',
      buffers['1.running_mean'].dataSync(),
      FIXTURE.runningMean,
      TOLERANCE.grad,
    ),
  );
  comparisons.push(
    compare(
      'BatchNorm2d runningVar',
      buffers['1.running_var'].dataSync(),
      FIXTURE.runningVar,
      TOLERANCE.grad,
    ),
  );
  glPhase('reference steps');
  model.eval();
  scope(() =>
    comparisons.push(compare('eval logits', model.forward(x).dataSync(), FIXTURE.evalLogits, TOLERANCE.grad)),
  );
  glPhase('eval logits');
  const tReference = performance.now();

  // Training on: every layer in training mode, Dropout2d included (seeded).
  model.train();
  const counts = [];
  for (let step = 0; step < TRAIN_STEPS; step++) {
    const loss = scope(() => {
      const l = softmaxCrossEntropy(model.forward(x), FIXTURE.labels);
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    });
    losses.push(loss.item());
    loss.dispose();
    counts.push(live());
  }
  glPhase('training');
  const tTrain = performance.now();
  const gl = device.name === 'gl' ? device.backend.stats : null;
  const result = {
    ok: true,
    torch: FIXTURE.torch,
    tolerance: TOLERANCE,
    comparisons,
    device: { name: device.name, gpuMode: device.info().gpuMode },
    glStats: gl
      ? { compiles: gl.compiles, compileMs: Math.round(gl.compileMs), fallbacks: gl.fallbacks }
      : null,
    glPhases,
    losses,
    referenceSteps: FIXTURE.steps.length,
    counts,
    flatFrom: FLAT_FROM_STEP,
    ms: { reference: Math.round(tReference - t0), train: Math.round(tTrain - tReference) },
  };
  x.dispose();
  model.dispose();
  return result;
}
