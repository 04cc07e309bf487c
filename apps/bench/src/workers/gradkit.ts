// gradkit contenders: one per backend that availableBackends() reports, by name.
import type { BackendName, Device, DeviceArray } from '@gradkit/kernels';
import { createDevice, Rng, setDevice } from '@gradkit/kernels';
import '@gradkit/kernels/gl';
import type { LayerSpec } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import type { Tensor } from '@gradkit/tensor';
import {
  biasActivation,
  conv2d,
  maxPool2d,
  noGrad,
  Parameter,
  randn,
  scope,
  softmaxCrossEntropy,
  tensor,
} from '@gradkit/tensor';
import type { BatchInfo, Callback } from '@gradkit/trainer';
import { registerStandardLayers, Trainer } from '@gradkit/trainer';
import { loadMnist } from '@gradkit/trainer/node';
import { describeLenet, LENET5, lenetInitialWeights, lenetParams } from '../cnn.js';
import { convChecksum, convData, convShapes, pick } from '../conv.js';
import { checksum, firstRows, initialWeights, trainOrder } from '../data.js';
import { gflops, transposes } from '../matmul.js';
import { measure, measureAfterFirst, timeOnce } from '../stats.js';
import type { CnnRow, MatmulRow, MicroRow, MnistRow, WorkerResult, WorkerSpec } from '../types.js';
import { VARIANTS } from '../types.js';
import { Cutoff, cnnEpochRow, cpuSecondsSince, epochRow, progress, rssMiB } from './common.js';

/** Reads one element of an array: waits for the device to finish it (GL) without timing a full read-back. */
function syncOne(d: Device, a: DeviceArray): void {
  const flat = d.reshape(a, [a.size]);
  const one = d.gather(flat, [0], 0);
  one.read();
  one.dispose();
  flat.dispose();
}

function details(d: Device): Record<string, string> {
  const info = d.info() as unknown as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(info)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

function matmulRows(spec: WorkerSpec, d: Device): MatmulRow[] {
  const rows: MatmulRow[] = [];
  const rng = new Rng(2);
  for (const n of spec.sizes.matmulNs) {
    const a = d.randomUniform([n, n], rng, -1, 1);
    const b = d.randomUniform([n, n], rng, -1, 1);
    for (const variant of VARIANTS) {
      const opts = transposes(variant);
      // each repetition ends by reading the sum of C, so GPU work finishes inside the timed region
      const timing = measure(() => {
        const c = d.matmul(a, b, opts);
        const s = d.sum(c);
        s.read();
        c.dispose();
        s.dispose();
      }, spec.sizes.matmul);
      rows.push({ contender: spec.id, variant, n, timing, gflops: gflops(n, timing.medianMs) });
      progress(`matmul ${variant} n=${n}: ${gflops(n, timing.medianMs).toFixed(2)} GFLOP/s`);
    }
    a.dispose();
    b.dispose();
  }
  return rows;
}

function microRows(spec: WorkerSpec, d: Device): MicroRow[] {
  const s = spec.sizes;
  const rng = new Rng(3);
  const rows: MicroRow[] = [];
  const push = (op: MicroRow['op'], shape: readonly number[], elements: number, fn: () => void) => {
    const timing = measure(fn, s.micro);
    rows.push({ contender: spec.id, op, shape: `[${shape.join(', ')}]`, elements, timing });
    progress(`${op} ${shape.join('x')}: ${timing.medianMs.toFixed(3)} ms`);
  };

  {
    // bias + ReLU, forward: one fused kernel (biasActivation), inputs without grad
    const [r, c] = s.biasAct;
    const x = randn([r, c], { rng, device: d });
    const b = randn([c], { rng, device: d });
    push('bias+relu fwd', [r, c], r * c, () => {
      const y = biasActivation(x, b, 'relu');
      syncOne(d, y.array);
      y.dispose();
    });
    x.dispose();
    b.dispose();
  }
  {
    // softmax cross-entropy on integer labels, forward and backward to the logits
    const [r, c] = s.softmaxCe;
    const logits = new Parameter(randn([r, c], { rng, device: d }));
    const labels = Int32Array.from({ length: r }, (_, i) => (i * 7) % c);
    push('softmax-CE fwd+bwd', [r, c], r * c, () => {
      scope(() => softmaxCrossEntropy(logits, labels).backward());
      syncOne(d, logits.grad!.array);
      logits.grad = null;
    });
    logits.dispose();
  }
  {
    // BatchNorm1d in training mode (batch statistics, running statistics updated), forward and
    // backward with a given output gradient (to the input, weight and bias)
    const [r, c] = s.batchNorm;
    registerStandardLayers();
    const bn = buildModel([{ type: 'batchNorm', numFeatures: c }], { device: d, rng });
    bn.train();
    const x = new Parameter(randn([r, c], { rng, device: d }));
    const dy = randn([r, c], { rng, device: d });
    push('batchnorm fwd+bwd', [r, c], r * c, () => {
      scope(() => (bn.forward(x) as Tensor).backward(dy));
      syncOne(d, x.grad!.array);
      x.grad = null;
      bn.zeroGrad();
    });
    x.dispose();
    dy.dispose();
    bn.dispose();
  }
  {
    // one Adam step (PyTorch's formulas, fused on the device) over one parameter tensor
    const n = s.adam;
    const p = new Parameter(randn([n], { rng, device: d }));
    p.grad = randn([n], { rng, device: d, std: 0.01 });
    const opt = adam([p], { lr: 1e-3 });
    push('adam update', [n], n, () => {
      scope(() => opt.step());
      syncOne(d, p.array);
    });
    p.dispose();
  }
  return rows;
}

/**
 * The conv workload: per case, forward alone (no graph) and forward + backward (input, weight and
 * bias gradients from the given output gradient), each repetition reading back one element of the
 * output (forward) or of every gradient (training); then one untimed run whose output and
 * gradients are read at the probe positions for the numeric check.
 */
function convRows(spec: WorkerSpec, d: Device): unknown[] {
  const s = spec.sizes;
  const rows: unknown[] = [];
  s.convCases.forEach((c, index) => {
    try {
      const data = convData(c, spec.seed, index);
      const sh = convShapes(c);
      const conv = c.kind === 'conv2d';
      const x = new Parameter(tensor(data.x, sh.x, { device: d }));
      const w = conv ? new Parameter(tensor(data.w, sh.w, { device: d })) : null;
      const b = conv ? new Parameter(tensor(data.b, sh.b, { device: d })) : null;
      const dy = tensor(data.dy, sh.y, { device: d });
      const params = [x, w, b].filter((p): p is Parameter => p !== null);
      const f = (): Tensor =>
        conv
          ? conv2d(x, w!, b, { padding: c.padding, stride: c.stride, groups: c.groups })
          : maxPool2d(x, { kernelSize: c.kernel, stride: c.stride });
      const forwardOnce = () => noGrad(() => scope(() => syncOne(d, f().array)));
      const forward = measureAfterFirst(timeOnce(forwardOnce), forwardOnce, s.conv, s.convSingleRunMs);
      const trainOnce = () => {
        scope(() => f().backward(dy));
        for (const p of params) {
          syncOne(d, p.grad!.array);
          p.grad = null;
        }
      };
      // the first forward + backward: timed (the only sample when it is slow), then read at the
      // probe positions after its clock stopped
      const idx = spec.convProbes![index];
      let probe: unknown;
      let firstMs = 0;
      scope(() => {
        const t0 = performance.now();
        const y = f();
        y.backward(dy);
        for (const p of params) syncOne(d, p.grad!.array);
        firstMs = performance.now() - t0;
        probe = {
          out: pick(y.dataSync(), idx.out),
          dx: pick(x.grad!.dataSync(), idx.dx),
          dw: w ? pick(w.grad!.dataSync(), idx.dw) : [],
          db: b ? Array.from(b.grad!.dataSync()) : [],
        };
      });
      for (const p of params) p.grad = null;
      const train = measureAfterFirst(firstMs, trainOnce, s.conv, s.convSingleRunMs);
      for (const p of params) p.dispose();
      dy.dispose();
      rows.push({ contender: spec.id, case: c.name, forward, train, probe, checksum: convChecksum(data) });
      progress(
        `conv ${c.name}: fwd ${forward.medianMs.toFixed(3)} ms, fwd+bwd ${train.medianMs.toFixed(3)} ms`,
      );
    } catch (e) {
      const err = e as Error;
      process.stderr.write(`${err.stack ?? String(err)}\n`);
      rows.push({ contender: spec.id, case: c.name, error: `${err.name}: ${err.message}` });
      progress(`conv ${c.name}: FAILED ${err.message}`);
    }
  });
  return rows;
}

/** The MNIST epoch with gradkit's Trainer, on one backend. */
function mnist(spec: WorkerSpec, d: Device): MnistRow {
  const s = spec.sizes;
  setDevice(d);
  const order = trainOrder(s.mnistTrain, spec.seed);
  const train = loadMnist({ split: 'train', normalize: 'unit' }).subset(order, 'mnist-train[order]');
  const testAll = loadMnist({ split: 'test', normalize: 'unit' });
  const test = s.mnistTest < testAll.length ? testAll.subset(firstRows(s.mnistTest)) : testAll;
  const sum = checksum(train.features, train.labels);
  const dataRss = rssMiB();

  const layers: LayerSpec[] = [];
  for (let l = 0; l + 1 < s.layers.length; l++) {
    layers.push({ type: 'linear', in: s.layers[l], out: s.layers[l + 1] });
    if (l + 2 < s.layers.length) layers.push({ type: 'relu' });
  }
  // warm-up: a throwaway model trains a few batches (compiles every kernel), then is freed
  const warmRows = Math.min(train.length, s.mnistWarmupSteps * s.batch);
  if (warmRows > 0) {
    const wm = buildModel(layers, { rng: new Rng(spec.seed + 1) });
    const wt = new Trainer({ model: wm, optimizer: adam(wm, { lr: s.lr }) });
    wt.fit(train.subset(firstRows(warmRows, train.length)), {
      epochs: 1,
      batchSize: s.batch,
      shuffle: false,
    });
    wm.dispose();
  }

  const model = buildModel(layers, { rng: new Rng(spec.seed) });
  // the same starting weights as the TF.js contenders (see initialWeights): [W1, b1, W2, b2, ...]
  const start = initialWeights(s.layers, spec.seed);
  const params = model.parameters();
  noGrad(() =>
    start.forEach((lw, l) => {
      params[2 * l].assign(tensor(lw.w, [lw.out, lw.in]));
      params[2 * l + 1].assign(tensor(lw.b, [lw.out]));
    }),
  );
  const trainer = new Trainer({ model, optimizer: adam(model, { lr: s.lr }) });
  const steps: number[] = [];
  const losses: number[] = [];
  let trained = 0;
  let last = 0;
  let lastReport = 0;
  const limitMs = spec.timeLimitS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  last = t0;
  const timer: Callback = {
    name: 'bench-timer',
    onBatchEnd(info: BatchInfo) {
      const now = performance.now();
      steps.push(now - last);
      last = now;
      trained += info.size;
      losses.push(info.loss);
      if (now - lastReport > 10_000) {
        lastReport = now;
        progress(
          `mnist ${trained}/${train.length} samples, ${((trained * 1000) / (now - t0)).toFixed(0)} samples/s`,
        );
      }
      if (limitMs > 0 && now - t0 > limitMs && trained < train.length) throw new Cutoff();
    },
  };
  try {
    trainer.fit(train, { epochs: 1, batchSize: s.batch, shuffle: false, callbacks: [timer] });
  } catch (e) {
    if (!(e instanceof Cutoff)) throw e;
  }
  const seconds = (last - t0) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu0);
  const acc = trainer.evaluate(test).accuracy;
  const row: MnistRow = epochRow({
    contender: spec.id,
    trained,
    requested: train.length,
    seconds,
    steps,
    losses,
    testAccuracy: acc,
    testSamples: test.length,
    cpuSeconds,
    dataRssMiB: dataRss,
    checksum: sum,
    warmupSteps: Math.ceil(warmRows / s.batch),
    config:
      `gradkit ${d.name}: buildModel ${s.layers.join('-')} (linear, relu fused into the linear), the harness's ` +
      `Glorot-uniform kernels and zero biases (the same starting weights as TF.js); Trainer.fit(epochs 1, batchSize ${s.batch}, shuffle false) on the ` +
      `pre-ordered rows; softmax cross-entropy on logits; adam(lr ${s.lr}, betas 0.9/0.999, eps 1e-8); ` +
      'per step: batch copied from host Float32Array and uploaded, loss read back, accuracy accumulated on the device',
  });
  model.dispose();
  return row;
}

/** LeNet-5 as `gradkit train --model lenet5` builds it (see LENET5 in cnn.ts). */
function lenetLayers(): LayerSpec[] {
  const layers: LayerSpec[] = [];
  let channels = LENET5.input[0];
  for (const b of LENET5.convs) {
    layers.push({
      type: 'conv2d',
      in: channels,
      out: b.out,
      kernelSize: b.kernel,
      ...(b.padding ? { padding: b.padding } : {}),
    });
    layers.push({ type: 'relu' }, { type: 'maxPool2d', kernelSize: 2 });
    channels = b.out;
  }
  layers.push({ type: 'flatten' });
  const { features } = lenetParams();
  let width = features[0] * features[1] * features[2];
  for (const units of LENET5.dense) {
    layers.push({ type: 'linear', in: width, out: units }, { type: 'relu' });
    width = units;
  }
  layers.push({ type: 'linear', in: width, out: LENET5.classes });
  return layers;
}

/** A LeNet-5 starting from the shared weights (lenetInitialWeights), shapes checked. */
function lenetFromSharedWeights(seed: number): ReturnType<typeof buildModel> {
  const model = buildModel(lenetLayers(), { rng: new Rng(seed) });
  const params = model.parameters();
  const { params: want } = lenetParams();
  const start = lenetInitialWeights(seed);
  if (params.length !== want.length)
    throw new Error(`LeNet-5: ${params.length} parameters, expected ${want.length}`);
  noGrad(() =>
    params.forEach((p, i) => {
      if (p.shape.join(',') !== want[i].shape.join(','))
        throw new Error(
          `LeNet-5 parameter ${i}: shape [${p.shape}], expected ${want[i].name} [${want[i].shape}]`,
        );
      p.assign(tensor(start[i], want[i].shape));
    }),
  );
  return model;
}

/**
 * The cnn epoch (LeNet-5 on 1x28x28 images) with gradkit's Trainer, on one backend. First, untimed,
 * the check (which is also the warm-up): from the shared weights, one step on the first batch
 * (its loss), the loss on that batch again, then the rest of the warm-up steps; then a fresh model
 * from the same weights trains the timed epoch.
 */
function cnn(spec: WorkerSpec, d: Device): CnnRow {
  const s = spec.sizes;
  setDevice(d);
  const order = trainOrder(s.cnnTrain, spec.seed);
  const train = loadMnist({ split: 'train', normalize: 'unit', shape: 'image' }).subset(
    order,
    'mnist-train[order]',
  );
  const testAll = loadMnist({ split: 'test', normalize: 'unit', shape: 'image' });
  const test = s.cnnTest < testAll.length ? testAll.subset(firstRows(s.cnnTest)) : testAll;
  const sum = checksum(train.features, train.labels);
  const dataRss = rssMiB();

  const first = train.subset(firstRows(Math.min(s.cnnBatch, train.length), train.length));
  const cm = lenetFromSharedWeights(spec.seed);
  const ct = new Trainer({ model: cm, optimizer: adam(cm, { lr: s.lr }) });
  let lossBefore = Number.NaN;
  ct.fit(first, {
    epochs: 1,
    batchSize: s.cnnBatch,
    shuffle: false,
    callbacks: [
      {
        name: 'bench-check',
        onBatchEnd(info: BatchInfo) {
          lossBefore = info.loss;
        },
      },
    ],
  });
  const lossAfter = ct.evaluate(first).loss;
  progress(`cnn check: loss ${lossBefore} -> ${lossAfter} after one step`);
  const warmRows = Math.min(train.length, s.cnnWarmupSteps * s.cnnBatch);
  if (warmRows > first.length) {
    const rows = Int32Array.from({ length: warmRows - first.length }, (_, i) => first.length + i);
    ct.fit(train.subset(rows), { epochs: 1, batchSize: s.cnnBatch, shuffle: false });
  }
  cm.dispose();

  const model = lenetFromSharedWeights(spec.seed);
  const trainer = new Trainer({ model, optimizer: adam(model, { lr: s.lr }) });
  const steps: number[] = [];
  const losses: number[] = [];
  let trained = 0;
  let lastReport = 0;
  const limitMs = spec.timeLimitS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  const timer: Callback = {
    name: 'bench-timer',
    onBatchEnd(info: BatchInfo) {
      const now = performance.now();
      steps.push(now - last);
      last = now;
      trained += info.size;
      losses.push(info.loss);
      if (now - lastReport > 10_000) {
        lastReport = now;
        progress(
          `cnn ${trained}/${train.length} samples, ${((trained * 1000) / (now - t0)).toFixed(0)} samples/s`,
        );
      }
      if (limitMs > 0 && now - t0 > limitMs && trained < train.length) throw new Cutoff();
    },
  };
  try {
    trainer.fit(train, { epochs: 1, batchSize: s.cnnBatch, shuffle: false, callbacks: [timer] });
  } catch (e) {
    if (!(e instanceof Cutoff)) throw e;
  }
  const seconds = (last - t0) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu0);
  const acc = trainer.evaluate(test).accuracy;
  model.dispose();
  return cnnEpochRow({
    contender: spec.id,
    trained,
    requested: train.length,
    seconds,
    steps,
    losses,
    testAccuracy: acc,
    testSamples: test.length,
    cpuSeconds,
    dataRssMiB: dataRss,
    checksum: sum,
    warmupSteps: Math.ceil(warmRows / s.cnnBatch),
    lossBefore,
    lossAfter,
    config:
      `gradkit ${d.name}: buildModel of ${describeLenet()} (the layers of gradkit train --model lenet5), the harness's ` +
      `Glorot-uniform weights and zero biases (the same starting weights as TF.js); Trainer.fit(epochs 1, batchSize ${s.cnnBatch}, shuffle false) ` +
      `on the pre-ordered 1x28x28 images (loadMnist shape 'image', pixels p/255); softmax cross-entropy on logits; adam(lr ${s.lr}, betas 0.9/0.999, eps 1e-8); ` +
      'per step: batch uploaded, loss read back',
  });
}

/** Runs a gradkit worker job. */
export async function run(spec: WorkerSpec): Promise<WorkerResult> {
  const d = createDevice({ backend: spec.backend as BackendName });
  try {
    if (spec.job === 'mnist') return { ok: true, details: details(d), mnist: mnist(spec, d) };
    if (spec.job === 'cnn') return { ok: true, details: details(d), cnn: cnn(spec, d) };
    const matmul = spec.workloads.includes('matmul') ? matmulRows(spec, d) : [];
    const micro = spec.workloads.includes('micro') ? microRows(spec, d) : [];
    const conv = spec.workloads.includes('conv') ? convRows(spec, d) : [];
    return { ok: true, details: details(d), matmul, micro, conv };
  } finally {
    d.destroy();
  }
}
