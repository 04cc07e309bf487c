// The training code: a model on one device, trained on the MNIST subset with Adam, evaluated on the
// test images, and asked for predictions. It runs unchanged in a Web Worker (worker.ts) and on the
// page's own thread (inline.ts); `pause` is how it lets the rest of its thread run between steps.
//
// The loop is written with @gradkit/tensor, @gradkit/nn and @gradkit/optimizers: each step is one
// `opt.step(closure)`, which runs the forward pass, the backward pass and the update in one memory
// scope and frees everything but what the closure returns (the loss and the hit count, read in
// groups and freed here), so the live tensors stay flat from step to step.
import { buildModel, type LayerSpec, type Sequential } from '@gradkit/nn';
import { adam, type Optimizer } from '@gradkit/optimizers';
import {
  argmax,
  concat,
  type Device,
  equal,
  memory,
  noGrad,
  Rng,
  reshape,
  scope,
  setDevice,
  softmax,
  softmaxCrossEntropy,
  type Tensor,
  tensor,
} from '@gradkit/tensor';
import { loadMnist, type MnistSubset, normalizeInto, PIXELS } from './mnist.js';
import type {
  BackendChoice,
  EngineInfo,
  ModelName,
  TrainEvent,
  TrainOptions,
  TrainResult,
} from './protocol.js';

/** The model descriptions (@gradkit/nn model specs). */
export const MODELS: Record<ModelName, { readonly title: string; readonly layers: readonly LayerSpec[] }> = {
  // 784-128-10, ReLU: 101,770 parameters.
  mlp: {
    title: 'MLP 784-128-10',
    layers: [
      { type: 'linear', in: PIXELS, out: 128 },
      { type: 'relu' },
      { type: 'linear', in: 128, out: 10 },
    ],
  },
  // LeNet-5 (LeCun et al. 1998) in its modern form, ReLU and max-pool: 61,706 parameters.
  lenet5: {
    title: 'LeNet-5 CNN',
    layers: [
      { type: 'conv2d', in: 1, out: 6, kernelSize: 5, padding: 2 },
      { type: 'relu' },
      { type: 'maxPool2d', kernelSize: 2 },
      { type: 'conv2d', in: 6, out: 16, kernelSize: 5 },
      { type: 'relu' },
      { type: 'maxPool2d', kernelSize: 2 },
      { type: 'flatten' },
      { type: 'linear', in: 400, out: 120 },
      { type: 'relu' },
      { type: 'linear', in: 120, out: 84 },
      { type: 'relu' },
      { type: 'linear', in: 84, out: 10 },
    ],
  },
};

/** About this many chart points per epoch (one read-back of the losses each). */
const POINTS_PER_EPOCH = 40;

/** Runs `fn` in a scope and reads its result back (one read), freeing everything. */
function read(fn: () => Tensor): Float32Array {
  const t = scope(fn);
  try {
    return t.dataSync();
  } finally {
    t.dispose();
  }
}

const inputShape = (model: ModelName, n: number): number[] =>
  model === 'mlp' ? [n, PIXELS] : [n, 1, 28, 28];

/** A small seeded generator for the shuffles (mulberry32). */
function shuffler(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function checkOptions(o: TrainOptions, trainCount: number): void {
  const bad = (what: string) => {
    throw new Error(`train: ${what}`);
  };
  if (!(o.model in MODELS)) bad(`unknown model '${o.model}' (expected ${Object.keys(MODELS).join(' or ')})`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1 || o.epochs > 100)
    bad(`epochs must be an integer in [1, 100], got ${o.epochs}`);
  if (!(Number.isFinite(o.lr) && o.lr > 0 && o.lr <= 1)) bad(`learning rate must be in (0, 1], got ${o.lr}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 1024)
    bad(`batch size must be an integer in [1, 1024], got ${o.batchSize}`);
  if (!Number.isInteger(o.trainImages) || o.trainImages < o.batchSize || o.trainImages > trainCount)
    bad(
      `training images must be an integer in [batch size ${o.batchSize}, ${trainCount}], got ${o.trainImages}`,
    );
}

/** A model on a device, the data, and the training loop. */
export class Session {
  private model: Sequential | null = null;
  private opt: Optimizer | null = null;
  private modelName: ModelName = 'mlp';
  private training = false;
  private stopRequested = false;

  private constructor(
    private readonly device: Device,
    private readonly data: MnistSubset,
    private readonly thread: 'worker' | 'page',
  ) {}

  /**
   * Opens a session on `backend` (a backend name, or a device created already, e.g. by automatic
   * selection) and loads the subset from `base` (the page's URL).
   */
  static async create(
    backend: BackendChoice | Device,
    base: string,
    thread: 'worker' | 'page',
  ): Promise<Session> {
    const device = setDevice(backend);
    const data = await loadMnist(new URL(base));
    const s = new Session(device, data, thread);
    s.newModel('mlp', 1);
    return s;
  }

  info(): EngineInfo {
    const i = this.device.info();
    return {
      backend: {
        name: i.name,
        reason: i.reason,
        gpuMode: i.gpuMode,
        renderer: i.renderer,
        ...(i.softwareRenderer !== undefined ? { softwareRenderer: i.softwareRenderer } : {}),
      },
      thread: this.thread,
      crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
      trainCount: this.data.train.count,
      testCount: this.data.test.count,
      source: this.data.source,
    };
  }

  /** A fresh model (seeded weights) and optimizer; the previous ones are freed. */
  private newModel(name: ModelName, seed: number, lr = 1e-3): void {
    this.opt?.dispose();
    this.model?.dispose();
    this.model = buildModel(
      { format: 'gradkit.sequential', version: 1, layers: MODELS[name].layers },
      {
        rng: new Rng(seed),
      },
    );
    this.opt = adam(this.model, { lr });
    this.modelName = name;
  }

  /** Asks a running training to stop after its current step. */
  stop(): void {
    if (this.training) this.stopRequested = true;
  }

  /**
   * Trains a fresh model. Calls `emit` with progress (about {@link POINTS_PER_EPOCH} points per
   * epoch) and after each epoch's test evaluation; awaits `pause()` after every step.
   */
  async train(
    o: TrainOptions,
    emit: (e: TrainEvent) => void,
    pause: () => Promise<void>,
  ): Promise<TrainResult> {
    if (this.training) throw new Error('train: a training run is in progress');
    checkOptions(o, this.data.train.count);
    this.training = true;
    this.stopRequested = false;
    try {
      return await this.run(o, emit, pause);
    } finally {
      this.training = false;
      this.model?.train();
    }
  }

  private async run(
    o: TrainOptions,
    emit: (e: TrainEvent) => void,
    pause: () => Promise<void>,
  ): Promise<TrainResult> {
    this.newModel(o.model, o.seed, o.lr);
    const model = this.model!;
    const opt = this.opt!;
    const { images, labels } = this.data.train;
    const B = o.batchSize;
    const steps = Math.floor(o.trainImages / B); // the last partial batch is dropped (a new one each epoch)
    const readEvery = Math.max(1, Math.round(steps / POINTS_PER_EPOCH));
    const shape = inputShape(o.model, B);
    const x = new Float32Array(B * PIXELS);
    const y = new Int32Array(B);
    const yf = new Float32Array(B);
    const order = Int32Array.from({ length: o.trainImages }, (_, i) => i);
    const random = shuffler(o.seed);
    const t0 = performance.now();
    let pending: Tensor[] = []; // [loss, hits] per step since the last read
    let totalStep = 0;
    let test = { accuracy: 0, loss: Number.NaN };
    let stopped = false;

    const flush = (epoch: number, step: number) => {
      if (pending.length === 0) return;
      const values = read(() =>
        concat(
          pending.map((t) => reshape(t, [1])),
          0,
        ),
      );
      for (const t of pending) t.dispose();
      const n = pending.length / 2;
      pending = [];
      let loss = 0;
      let hits = 0;
      for (let k = 0; k < n; k++) {
        loss += values[2 * k];
        hits += values[2 * k + 1];
      }
      emit({
        type: 'progress',
        epoch,
        epochs: o.epochs,
        step,
        steps,
        totalStep,
        loss: loss / n,
        accuracy: hits / (n * B),
        elapsedMs: performance.now() - t0,
      });
    };

    model.train();
    for (let epoch = 1; epoch <= o.epochs && !stopped; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = random(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (let step = 1; step <= steps; step++) {
        for (let b = 0; b < B; b++) {
          const idx = order[(step - 1) * B + b];
          normalizeInto(images, idx, x, b * PIXELS);
          y[b] = labels[idx];
          yf[b] = labels[idx];
        }
        const out = opt.step(() => {
          opt.zeroGrad();
          const logits = model.forward(tensor(x, shape));
          const loss = softmaxCrossEntropy(logits, y);
          loss.backward();
          const hits = noGrad(() => equal(argmax(logits, 1), tensor(yf)).sum());
          return [loss, hits];
        });
        pending.push(...out);
        totalStep++;
        if (step % readEvery === 0 || step === steps) flush(epoch, step);
        await pause();
        if (this.stopRequested) {
          flush(epoch, step);
          stopped = true;
          break;
        }
      }
      test = await this.evaluate(B, pause);
      model.train();
      if (!stopped)
        emit({
          type: 'epoch',
          epoch,
          testAccuracy: test.accuracy,
          testLoss: test.loss,
          elapsedMs: performance.now() - t0,
        });
      await pause();
    }
    return {
      testAccuracy: test.accuracy,
      testLoss: test.loss,
      stopped,
      steps: totalStep,
      ms: performance.now() - t0,
      liveTensors: memory().tensors,
    };
  }

  /**
   * Accuracy and mean loss on the test images (eval mode, no gradients), in batches of the
   * training batch size, the last one padded, so that no new shapes (on gl: no new kernel
   * compiles) appear; awaits `pause()` between batches.
   */
  private async evaluate(
    batch: number,
    pause: () => Promise<void>,
  ): Promise<{ accuracy: number; loss: number }> {
    const model = this.model!;
    const { images, labels, count } = this.data.test;
    const shape = inputShape(this.modelName, batch);
    const x = new Float32Array(batch * PIXELS);
    const y = new Int32Array(batch);
    const yf = new Float32Array(batch);
    const real = new Float32Array(batch); // 1 for an image, 0 for padding
    model.eval();
    let hits = 0;
    let loss = 0;
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      x.fill(0);
      for (let b = 0; b < batch; b++) {
        if (b < n) normalizeInto(images, start + b, x, b * PIXELS);
        y[b] = b < n ? labels[start + b] : 0;
        yf[b] = b < n ? labels[start + b] : -1; // never equal to a predicted class
        real[b] = b < n ? 1 : 0;
      }
      const [l, h] = read(() =>
        noGrad(() => {
          const logits = model.forward(tensor(x, shape));
          const perImage = softmaxCrossEntropy(logits, y, { reduction: 'none' }).mul(tensor(real)).sum();
          const right = equal(argmax(logits, 1), tensor(yf)).sum();
          return concat([reshape(perImage, [1]), reshape(right, [1])], 0);
        }),
      );
      loss += l;
      hits += h;
      await pause();
    }
    return { accuracy: hits / count, loss: loss / count };
  }

  /**
   * Class probabilities of one 28 x 28 image (`pixels` in [0, 1], ink = 1), from the current
   * weights (eval mode; during training, the weights of the last step).
   */
  predict(pixels: Float32Array): number[] {
    if (pixels.length !== PIXELS) throw new Error(`predict: expected ${PIXELS} pixels, got ${pixels.length}`);
    const model = this.model!;
    const x = new Float32Array(PIXELS);
    const bytes = Uint8Array.from(pixels, (p) => Math.round(Math.min(1, Math.max(0, p)) * 255));
    normalizeInto(bytes, 0, x, 0);
    model.eval();
    try {
      return Array.from(
        read(() => noGrad(() => softmax(model.forward(tensor(x, inputShape(this.modelName, 1))), 1))),
      );
    } finally {
      if (this.training) model.train();
    }
  }

  /** Frees the model, the optimizer and the device. */
  dispose(): void {
    this.opt?.dispose();
    this.model?.dispose();
    this.opt = null;
    this.model = null;
    this.device.destroy();
  }
}
