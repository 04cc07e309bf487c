import type { Labels, Module, StateDict } from '@gradkit/tensor';
import {
  arange,
  GradkitError,
  getDevice,
  getRng,
  keep,
  noGrad,
  Rng,
  scope,
  softmaxCrossEntropy,
  Tensor,
  tensor,
  ValueError,
} from '@gradkit/tensor';
import type { Callback, Json, TrainerOptimizer, TrainingContext } from './callbacks/callback.js';
import type { Checkpoint } from './checkpoint/types.js';
import { batchShape } from './data/batches.js';
import type { Dataset } from './data/dataset.js';
import { DataError } from './data/errors.js';
import { HitTally, intoSlot } from './device-tally.js';
import type { BatchInfo, BatchLoss, EpochLogs, EpochRecord, History } from './logs.js';

/** A loss: logits `[B, C]` and host labels to a scalar tensor (default softmax cross-entropy). */
export type LossFn = (logits: Tensor, labels: Labels) => Tensor;

/** An extra metric over a whole dataset: called with every batch's logits (read back) and labels. */
export interface Metric {
  /** Starts a new pass. */
  reset(): void;
  /** Adds one batch. */
  update(logits: Float32Array, labels: Int32Array, numClasses: number): void;
  /** The value over the pass. */
  value(): number;
}

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  /** The model to train: its `forward` maps a batch `[B, ...]` to logits `[B, C]`. Required. */
  readonly model: Module;
  /** The optimizer over the model's parameters, e.g. `adam(model, { lr: 1e-3 })`. Required. */
  readonly optimizer: TrainerOptimizer;
  /** Default: softmax cross-entropy on integer labels. */
  readonly loss?: LossFn;
  /** Added to the loss at every step, e.g. an L1/L2/Frobenius penalty of `@gradkit/regularizers`. */
  readonly penalty?: (model: Module) => Tensor | null;
  /** Run after backward and before the optimizer step, e.g. `(m) => clipGradNorm(m, 1)`. */
  readonly gradientHooks?: readonly ((model: Module) => void)[];
  /** Run after every optimizer step under noGrad, e.g. max-norm constraints. */
  readonly constraints?: readonly ((model: Module) => void)[];
  /** Extra metrics by name, computed on training (`name`) and validation (`val_name`) data. */
  readonly metrics?: Readonly<Record<string, () => Metric>>;
  /** The model's description (e.g. `describeModel(model)`), stored in checkpoints so they can rebuild it. */
  readonly modelSpec?: Json;
  /** The run's configuration, stored in checkpoints. */
  readonly config?: Json;
}

/** Options of {@link Trainer.fit}. */
export interface FitOptions {
  /** Total epochs (a resumed run continues up to this number). */
  readonly epochs: number;
  /** Batch size (default 32). */
  readonly batchSize?: number;
  /** Shuffle the training data every epoch (default true), from `seed`. */
  readonly shuffle?: boolean;
  /** Seed of the data order and of the validation split (default 0): an integer, taken modulo 2^32 (as `Rng`). */
  readonly seed?: number;
  /** Data to evaluate after every epoch (logged as `val_*`). */
  readonly validationData?: Dataset;
  /** Or: hold out this fraction of the training data (seeded split, `seed`). */
  readonly validationSplit?: number;
  /** Batch size for validation (default: max(batchSize, 256)). */
  readonly validationBatchSize?: number;
  /** Hooks run in this order at each stage (progress, schedules, early stopping, checkpoints); default none. */
  readonly callbacks?: readonly Callback[];
  /**
   * Guard against divergence (default true): every batch loss is checked before the update, and
   * at the end of every epoch, before validation, callbacks and checkpoints, every parameter and
   * persistent buffer (one reduction each on the device, one read-back per epoch) and the
   * epoch's `loss` and `val_loss`. Anything non-finite stops training with a
   * {@link NonFiniteError}. With `false`, training goes on through NaN and Infinity (checkpoints
   * still refuse non-finite weights, see {@link Trainer.checkpoint}).
   */
  readonly nonFiniteCheck?: boolean;
  /**
   * Steps between reads of the batch losses from the device (default: 1 where a synchronous read
   * is cheap, `syncRead: 'cheap'` as on cpu and wasm; else 32, e.g. on gl, where every read waits
   * for the GPU to finish). Between reads the losses are collected on the device, one small
   * kernel per step; the epoch's logs are the same either way (every batch loss is read, in
   * float32, and summed on the host in float64). With 1 (and synchronous reads, i.e. `fit`),
   * each loss is checked before its update and a non-finite one is traced to the first layer
   * whose output is not finite; with more, a non-finite loss is found at the next read, named by
   * epoch, batch and step, after the updates in between.
   */
  readonly lossReadInterval?: number;
  /**
   * {@link Trainer.fitAsync} only: give the event loop a turn (one macrotask: a `MessageChannel`
   * message, else `setTimeout(0)`) between batches once this many milliseconds have passed since
   * the last one (default 16, about one frame: timers, input and rendering of the page keep
   * running; 0 yields after every batch; `Infinity` never). `fit` is synchronous and never
   * yields: in a page, use `fitAsync` or a Web Worker.
   */
  readonly yieldEveryMs?: number;
  /**
   * Stops training when aborted: checked before every batch (and every validation batch), it
   * throws `signal.reason` (an `AbortError` `DOMException` unless `abort(reason)` gave one), as
   * `fetch` does. With `fitAsync`, `controller.abort()` from a button or a message works between
   * batches. The weights and optimizer state keep every completed step; the interrupted epoch is
   * not added to the history (a later `fit` runs it again), and no tensor is left behind.
   */
  readonly signal?: AbortSignal;
}

/** Options of {@link Trainer.evaluate} and {@link Trainer.evaluateAsync}. */
export interface EvaluateOptions {
  /** Rows per batch (default 256). */
  readonly batchSize?: number;
  /** {@link Trainer.evaluateAsync} only: as {@link FitOptions.yieldEveryMs} (default 16). */
  readonly yieldEveryMs?: number;
  /** Stops the evaluation when aborted (checked before every batch), as {@link FitOptions.signal}. */
  readonly signal?: AbortSignal;
}

/** What {@link Trainer.evaluate} returns: `loss`, `accuracy` and the extra metrics. */
export type EvalResult = Record<string, number>;

/**
 * Training diverged, or non-finite weights were about to be saved. Thrown by
 * {@link Trainer.fit} when a batch loss is NaN or infinite (naming the epoch, the batch and the
 * first layer whose output was not finite, found by re-running the batch layer by layer), when a
 * parameter or persistent buffer is not finite at the end of an epoch (naming it, e.g. the last
 * update overflowed), or when an epoch's `loss` or `val_loss` is not finite; and by
 * {@link Trainer.checkpoint} for non-finite weights.
 *
 * @example
 * ```ts
 * try {
 *   trainer.fit(train, { epochs: 5 });
 * } catch (e) {
 *   if (e instanceof NonFiniteError) console.error(e.epoch, e.batch, e.layer, e.parameter); // 2 17 '3 (Linear)' null
 * }
 * ```
 */
export class NonFiniteError extends GradkitError {
  /** `'NonFiniteError'`: the class name, shown in messages and stack traces. */
  override name = 'NonFiniteError';
  constructor(
    message: string,
    /** The 1-based epoch (for a checkpoint: the completed epochs, 0 before training). */
    readonly epoch: number,
    /**
     * The 0-based index of the batch within the epoch: the batch whose loss was not finite, or
     * the epoch's last batch when a parameter was found non-finite after it; -1 when no training
     * batch is involved (a validation loss, a checkpoint).
     */
    readonly batch: number,
    /** The first layer whose output was not finite, as `name (Class)` (`'2 (Linear)'`), or null when none was. */
    readonly layer: string | null,
    /** The first parameter or buffer that is not finite, by state-dict name (`'2.weight'`), or null. */
    readonly parameter: string | null = null,
  ) {
    super(message);
  }
}

/** Options of {@link Trainer.checkpoint}. */
export interface CheckpointOptions {
  /**
   * Return the checkpoint even when a weight (or a callback's saved tensor) is NaN or infinite,
   * e.g. to inspect a diverged model (default false: a {@link NonFiniteError}).
   */
  readonly allowNonFinite?: boolean;
}

/** Where the first non-finite value of a set of named host arrays is, or null. */
function firstNonFiniteEntry(
  entries: Iterable<[string, { readonly data: Float32Array }]>,
): { name: string; count: number; index: number; value: number } | null {
  for (const [name, { data }] of entries) {
    let count = 0;
    let index = -1;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        if (index < 0) index = i;
        count++;
      }
    }
    if (count > 0) return { name, count, index, value: data[index] };
  }
  return null;
}

/** `'48 of 48 values are not finite (first: Infinity at index 0)'`. */
function describeNonFinite(found: { count: number; index: number; value: number }, size: number): string {
  return `${found.count} of ${size} values ${found.count === 1 ? 'is' : 'are'} not finite (first: ${found.value} at index ${found.index})`;
}

/** A point between batches where {@link Trainer.fitAsync} may give the event loop a turn. */
const PAUSE = Symbol('pause');

/**
 * A computation that reads device values: it yields each tensor it needs on the host and gets its
 * values back, and {@link PAUSE} between batches. {@link Trainer.fit} answers synchronously (and
 * ignores the pauses), {@link Trainer.fitAsync} with `await` (and yields to the event loop).
 */
type Reads<T> = Generator<Tensor | typeof PAUSE, T, Float32Array>;

const NO_VALUES = new Float32Array(0);

/** Runs `g`, answering every read with `dataSync()`. */
function runSync<T>(g: Reads<T>): T {
  let r = g.next();
  while (!r.done) {
    if (r.value === PAUSE) {
      r = g.next(NO_VALUES);
      continue;
    }
    let values: Float32Array;
    try {
      values = r.value.dataSync();
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(values);
  }
  return r.value;
}

/** One macrotask: a `MessageChannel` message (not clamped to 4 ms as nested timers are), else `setTimeout(0)`. */
function nextMacrotask(): Promise<void> {
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Checks a `yieldEveryMs` option (a non-negative number, `Infinity` allowed). */
function yieldInterval(op: string, ms: number | undefined): number {
  const v = ms ?? 16;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new ValueError(op, `yieldEveryMs must be a non-negative number of milliseconds, got ${v}`);
  }
  return v;
}

/**
 * Runs `g`, answering every read with `await data()` (no synchronous read), and giving the event
 * loop a turn at a pause once `everyMs` milliseconds have passed since the last turn.
 */
async function runAsync<T>(g: Reads<T>, everyMs: number): Promise<T> {
  let last = performance.now();
  let r = g.next();
  while (!r.done) {
    if (r.value === PAUSE) {
      if (performance.now() - last >= everyMs) {
        await nextMacrotask();
        last = performance.now();
      }
      r = g.next(NO_VALUES);
      continue;
    }
    let values: Float32Array;
    try {
      values = await r.value.data();
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(values);
  }
  return r.value;
}

/** Reads one batch's logits back (one yield) and feeds them to the extra metrics; disposes them. */
function* updateMetrics(metrics: Record<string, Metric>, logits: Tensor, labels: Int32Array): Reads<void> {
  try {
    const values = yield logits;
    for (const m of Object.values(metrics)) m.update(values, labels, logits.shape[1]);
  } finally {
    logits.dispose();
  }
}

/** Where a batch is in training: what {@link BatchLoss} holds besides the loss. */
type BatchWhere = Omit<BatchLoss, 'loss'>;

/**
 * Batch losses collected on the device between reads: slot k of a `[interval]` vector holds the
 * k-th pending batch's loss (`intoSlot`, one small kernel per step), and
 * one read returns them all. Every loss is delivered exactly once, in order, to `onRead` (the
 * epoch's sum and the non-finite check) and then to `deliver` (the callbacks' `onLossesRead`).
 */
class LossWindow {
  private window: Tensor | null = null;
  private slots: Tensor | null = null;
  private readonly waiting: BatchWhere[] = [];
  private last = new Map<number, number>();
  /** Called first with every read batch (set per epoch). */
  onRead: (batch: readonly BatchLoss[]) => void = () => {};

  constructor(
    readonly interval: number,
    private readonly deliver: (batch: readonly BatchLoss[]) => void,
  ) {}

  /** Stores this step's loss in the next slot (call inside the step's scope, before `pending`). */
  collect(loss: Tensor): void {
    noGrad(() => {
      this.slots ??= keep(arange(0, this.interval));
      const prev = this.window;
      const next = intoSlot(this.slots, this.waiting.length, loss.detach(), prev);
      this.window = keep(next);
      prev?.dispose();
    });
  }

  /** Registers the batch whose loss `collect` just stored. */
  pending(at: BatchWhere): void {
    this.waiting.push(at);
  }

  /** A loss read already (the exact mode): delivered at once. */
  known(b: BatchLoss): void {
    this.settle([b]);
  }

  /** Whether a read is due. */
  full(): boolean {
    return this.waiting.length >= this.interval;
  }

  /** Reads the pending losses (one read-back) and delivers them. */
  *flush(): Reads<void> {
    if (this.waiting.length === 0) return;
    const win = this.window!;
    this.window = null;
    const at = this.waiting.splice(0);
    let values: Float32Array;
    try {
      values = yield win;
    } finally {
      win.dispose();
    }
    this.settle(at.map((w, k) => ({ ...w, loss: values[k] })));
  }

  /** The loss of the batch that ended at `step`, reading the pending ones now if needed. */
  lossOf(step: number, asyncReads: boolean): number {
    if (!this.last.has(step) && this.waiting.some((w) => w.step === step)) {
      if (asyncReads) {
        throw new ValueError(
          'BatchInfo.loss',
          'fitAsync reads losses only every lossReadInterval steps: use a callback with onLossesRead',
        );
      }
      runSync(this.flush());
    }
    const v = this.last.get(step);
    if (v === undefined) throw new ValueError('BatchInfo.loss', `no loss is kept for step ${step}`);
    return v;
  }

  dispose(): void {
    this.window?.dispose();
    this.slots?.dispose();
    this.window = null;
    this.slots = null;
    this.waiting.length = 0;
  }

  private settle(batch: BatchLoss[]): void {
    this.last = new Map(batch.map((b) => [b.step, b.loss]));
    this.onRead(batch);
    this.deliver(batch);
  }
}

/** The serializable part of a trainer's state (see checkpoints). */
export interface TrainerState {
  /** Completed epochs. */
  readonly epoch: number;
  /** Optimizer updates so far. */
  readonly step: number;
  /** One record per completed epoch. */
  readonly history: readonly EpochRecord[];
  /** Data-order generator state at the start of the next epoch. */
  readonly dataRng: readonly number[];
  /** The global generator (dropout masks) at the start of the next epoch. */
  readonly globalRng: readonly number[];
  /** The callbacks' `stateDict()`s, by callback name. */
  readonly callbacks: Record<string, Json>;
  /** Why the last `fit` was stopped by a callback, or null when it ran to completion. */
  readonly stopped: string | null;
}

interface ForwardEach {
  forwardEach(x: Tensor, visit: (name: string, layer: unknown, out: Tensor) => void): Tensor;
}

/**
 * The module's parameters, then its buffers, by dotted (state-dict) name: the tensors the
 * per-epoch finite check covers. (Buffers that are not persistent are included: the module API
 * does not tell them apart without reading every value back.)
 */
function stateEntries(model: Module): [string, Tensor][] {
  return [...model.namedParameters(), ...model.namedBuffers()];
}

function defaultLoss(logits: Tensor, labels: Labels): Tensor {
  return softmaxCrossEntropy(logits, labels);
}

/**
 * The training loop: mini-batches of a {@link Dataset}, one optimizer step each, validation after
 * every epoch, metrics, callbacks, and state for exact resumes.
 *
 * Per step: forward, loss (+ penalty), backward, gradient hooks (clipping), optimizer step,
 * constraints (max-norm). The loss is read back every `lossReadInterval` steps (default: every
 * step, before the update, where reads are cheap; every 32 steps on gl, collected on the device
 * in between); accuracy is accumulated on the device and read at the epoch's end, so an epoch
 * costs about `batches / lossReadInterval + 2` read-backs. {@link Trainer.fitAsync} awaits them
 * (backends without synchronous reads).
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, optimizer: adam(model, { lr: 1e-3 }) });
 * const history = trainer.fit(train, { epochs: 5, batchSize: 128, validationSplit: 0.1, callbacks: [new ProgressBar()] });
 * trainer.evaluate(test); // { loss: 0.07, accuracy: 0.978 }
 * ```
 */
export class Trainer {
  /** The model being trained. */
  readonly model: Module;
  /** The optimizer updating it. */
  readonly optimizer: TrainerOptimizer;
  /** The loss (default softmax cross-entropy). */
  readonly loss: LossFn;
  /** The penalty added to the loss at every step, or null. */
  readonly penalty: ((model: Module) => Tensor | null) | null;
  /** Run after every optimizer step under noGrad (max-norm and similar constraints). */
  readonly constraints: readonly ((model: Module) => void)[];
  /** Run between backward and the optimizer step (gradient clipping). */
  readonly gradientHooks: readonly ((model: Module) => void)[];
  /** The extra metrics, by name. */
  readonly metrics: Readonly<Record<string, () => Metric>>;
  /** The model's description stored in checkpoints, or null. */
  readonly modelSpec: Json | null;
  /** The run's configuration stored in checkpoints, or null. */
  readonly config: Json | null;
  /** Completed epochs. */
  epoch = 0;
  /** Optimizer updates so far. */
  step = 0;
  /** One record per completed epoch, oldest first. */
  history: EpochRecord[] = [];
  private dataRng = new Rng(0);
  private dataSeeded = false;
  private pendingCallbackState: Record<string, Json> | null = null;
  private pendingCallbackTensors: Record<string, StateDict> | null = null;
  private stopped: string | null = null;

  /**
   * @param options the model and optimizer (required), loss, penalty, hooks, constraints, metrics.
   * @throws {ValueError} when the model or the optimizer is missing.
   */
  constructor(options: TrainerOptions) {
    if (!options?.model) throw new ValueError('Trainer', 'model is required');
    if (!options.optimizer || typeof options.optimizer.step !== 'function') {
      throw new ValueError('Trainer', 'optimizer is required (e.g. adam(model, { lr: 1e-3 }))');
    }
    this.model = options.model;
    this.optimizer = options.optimizer;
    this.loss = options.loss ?? defaultLoss;
    this.penalty = options.penalty ?? null;
    this.constraints = options.constraints ?? [];
    this.gradientHooks = options.gradientHooks ?? [];
    this.metrics = options.metrics ?? {};
    this.modelSpec = options.modelSpec ?? null;
    this.config = options.config ?? null;
  }

  /**
   * Trains for `epochs` epochs in total (a resumed trainer continues from its epoch). Returns the
   * whole history (resumed epochs included).
   *
   * Per epoch: the batches (one optimizer step each), then, with `nonFiniteCheck` on (default),
   * a check that every parameter and persistent buffer (BatchNorm running statistics) is finite,
   * then validation and a check that `loss` and `val_loss` are finite, then the callbacks'
   * `onEpochEnd`, then the checkpoints they requested.
   *
   * The non-finite guarantee (with `nonFiniteCheck` on): `fit` never returns (`'completed'` or a
   * callback's stop reason) and no checkpoint is ever written while a parameter, a persistent
   * buffer, a batch loss, the epoch's `loss` or its `val_loss` is NaN or infinite; it throws a
   * {@link NonFiniteError} naming what and where instead, and the failed epoch is not added to
   * the history. A blow-up on the very last update of a run is caught too. Checkpoints refuse
   * non-finite weights even with `nonFiniteCheck: false` (see {@link Trainer.checkpoint}).
   *
   * Empty data is refused rather than reported as a loss of 0: an empty training set, a
   * `validationSplit` that leaves 0 training or 0 validation rows, or empty `validationData`.
   *
   * @throws {ValueError} for bad options, including a `validationSplit` that leaves an empty part.
   * @throws {DataError} when the training data or `validationData` has no rows.
   * @throws {NonFiniteError} when a loss, a parameter or a buffer is not finite (see above).
   * @example
   * ```ts
   * const history = trainer.fit(train, { epochs: 10, batchSize: 64, validationSplit: 0.1 });
   * history.stopReason; // 'completed'
   * ```
   */
  fit(train: Dataset, options: FitOptions): History {
    return runSync(this.fitSteps(train, options, false));
  }

  /**
   * {@link Trainer.fit} for pages that must not freeze and for backends that read only
   * asynchronously (`syncRead: 'none'`, as WebGPU): every read-back is awaited, and between
   * batches the event loop gets a turn every `yieldEveryMs` milliseconds (default 16), so timers,
   * input, rendering and `postMessage` keep running while it trains. Same options, same history
   * and guarantees (the weights are those of `fit`, step for step); losses are always read after
   * their update (see `lossReadInterval`). Progress reaches callbacks as in `fit` (`onBatchEnd`,
   * `onLossesRead`, `onEpochEnd`); `signal` cancels between batches. Checkpoints
   * (`trainer.checkpoint()`, `requestCheckpoint`) still read the weights synchronously.
   *
   * @throws as {@link Trainer.fit} (the promise rejects), and `signal.reason` when aborted.
   * @example
   * ```ts
   * const controller = new AbortController();
   * stopButton.onclick = () => controller.abort();
   * const progress: Callback = { name: 'chart', onEpochEnd: (epoch, logs) => chart.add(epoch, logs.loss) };
   * const history = await trainer.fitAsync(train, { epochs: 5, callbacks: [progress], signal: controller.signal });
   * ```
   */
  fitAsync(train: Dataset, options: FitOptions): Promise<History> {
    try {
      const every = yieldInterval('fitAsync', options?.yieldEveryMs);
      return runAsync(this.fitSteps(train, options, true), every);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The training loop, yielding every tensor it reads back (answered by fit or fitAsync). */
  private *fitSteps(train: Dataset, options: FitOptions, asyncReads: boolean): Reads<History> {
    // before any state changes: a refused call leaves the trainer as it was
    const syncRead = getDevice().info().syncRead;
    if (!asyncReads && syncRead === 'none') {
      throw new ValueError(
        'fit',
        `backend '${getDevice().info().name}' reads only asynchronously: use await trainer.fitAsync(...)`,
      );
    }
    const interval = options.lossReadInterval ?? (syncRead === 'cheap' ? 1 : 32);
    if (!Number.isInteger(interval) || interval < 1) {
      throw new ValueError('fit', `lossReadInterval must be a positive integer, got ${interval}`);
    }
    const { epochs, batchSize = 32, shuffle = true, seed = 0, nonFiniteCheck = true } = options;
    if (!Number.isInteger(epochs) || epochs < 1)
      throw new ValueError('fit', `epochs must be a positive integer, got ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValueError('fit', `batchSize must be a positive integer, got ${batchSize}`);
    }
    if (options.validationData && options.validationSplit !== undefined) {
      throw new ValueError('fit', 'give validationData or validationSplit, not both');
    }
    if (train.length === 0) {
      throw new DataError(train.name, 'the training data has 0 rows: fit needs at least one');
    }
    let trainSet = train;
    let valSet = options.validationData ?? null;
    if (valSet && valSet.length === 0) {
      throw new DataError(
        valSet.name,
        'validationData has 0 rows: a validation loss over no rows is undefined, not 0',
      );
    }
    if (options.validationSplit !== undefined) {
      const f = options.validationSplit;
      if (!(f > 0 && f < 1)) throw new ValueError('fit', `validationSplit must be in (0, 1), got ${f}`);
      [trainSet, valSet] = train.split(1 - f, { seed });
      if (trainSet.length === 0 || valSet.length === 0) {
        throw new ValueError(
          'fit',
          `validationSplit ${f} of ${train.length} row${train.length === 1 ? '' : 's'} leaves ` +
            `${trainSet.length} training row${trainSet.length === 1 ? '' : 's'} and ` +
            `${valSet.length} validation row${valSet.length === 1 ? '' : 's'}; both need at least one`,
        );
      }
    }
    if (!this.dataSeeded) {
      this.dataRng = new Rng(seed);
      this.dataSeeded = true;
    }
    const callbacks = options.callbacks ?? [];
    const names = new Set<string>();
    for (const cb of callbacks) {
      if (names.has(cb.name)) throw new ValueError('fit', `two callbacks are named '${cb.name}'`);
      names.add(cb.name);
    }
    this.restoreCallbacks(callbacks);
    this.stopped = null;
    const saves = new Map<string, (ckpt: Checkpoint) => void>();
    const ctx: TrainingContext = {
      model: this.model,
      optimizer: this.optimizer,
      history: this.history,
      epochs,
      stop: (reason) => {
        this.stopped ??= reason;
      },
      requestCheckpoint: (key, write) => {
        if (!saves.has(key)) saves.set(key, write);
      },
    };
    for (const cb of callbacks) cb.onTrainBegin?.(ctx);
    const valBatch = options.validationBatchSize ?? Math.max(batchSize, 256);

    // exact: each loss read before its update (one synchronous read per step, where reads are cheap)
    const exact = interval === 1 && !asyncReads;
    const losses = new LossWindow(interval, (batch) => {
      for (const cb of callbacks) cb.onLossesRead?.(batch, ctx);
    });

    try {
      while (this.epoch < epochs && this.stopped === null) {
        const epoch = this.epoch + 1;
        const t0 = performance.now();
        this.model.train();
        for (const cb of callbacks) cb.onEpochBegin?.(epoch, ctx);
        const iter = trainSet.batches(batchSize, shuffle ? { shuffle: true, rng: this.dataRng } : {});
        let lossSum = 0;
        let seen = 0;
        const correct = new HitTally();
        const extra = this.freshMetrics();
        losses.onRead = (batch) => {
          for (const b of batch) lossSum += b.loss * b.size;
          if (nonFiniteCheck) {
            const bad = batch.find((b) => !Number.isFinite(b.loss));
            if (bad) {
              throw new NonFiniteError(
                `loss is ${bad.loss} at epoch ${bad.epoch}, batch ${bad.batch} (step ${bad.step}); ` +
                  `found at the loss read after step ${this.step} (lossReadInterval ${interval}), so the ` +
                  'updates in between may have used it (lossReadInterval: 1 with fit() checks each loss ' +
                  'before its update and names the first non-finite layer)',
                bad.epoch,
                bad.batch,
                null,
              );
            }
          }
        };
        try {
          for (const batch of iter.reusing()) {
            options.signal?.throwIfAborted();
            let logitsHost: Tensor | null = null;
            const known = scope(() => {
              const x = tensor(batch.x, batchShape(batch));
              const logits = this.model.forward(x) as Tensor;
              let loss = this.loss(logits, batch.y);
              const pen = this.penalty?.(this.model);
              if (pen) loss = loss.add(pen);
              let v: number | null = null;
              if (exact) {
                // read before the update, so a non-finite loss never reaches the weights
                v = loss.item();
                if (nonFiniteCheck && !Number.isFinite(v)) this.raiseNonFinite(x, v, epoch, batch.index);
              } else losses.collect(loss);
              loss.backward();
              for (const hook of this.gradientHooks) hook(this.model);
              this.optimizer.step();
              this.optimizer.zeroGrad();
              if (this.constraints.length) {
                noGrad(() => {
                  for (const c of this.constraints) c(this.model);
                });
              }
              correct.add(logits, batch.y);
              if (Object.keys(extra).length) logitsHost = keep(logits.detach());
              return v;
            });
            if (logitsHost !== null) yield* updateMetrics(extra, logitsHost, batch.y);
            this.step++;
            seen += batch.size;
            const where = { epoch, batch: batch.index, step: this.step, size: batch.size };
            if (known !== null) losses.known({ ...where, loss: known });
            else losses.pending(where);
            if (losses.full()) yield* losses.flush();
            const info: BatchInfo = {
              ...where,
              numBatches: iter.numBatches,
              get loss(): number {
                return losses.lossOf(where.step, asyncReads);
              },
            };
            for (const cb of callbacks) cb.onBatchEnd?.(info, ctx);
            yield PAUSE;
          }
        } catch (e) {
          // an abort or a non-finite loss mid-epoch: the epoch's device counts go with it
          correct.dispose();
          throw e;
        }
        yield* losses.flush();
        const logs: EpochLogs = { loss: lossSum / Math.max(seen, 1) };
        const hits = correct.total();
        correct.dispose();
        try {
          logs.accuracy = hits ? (yield hits)[0] / Math.max(seen, 1) : 0;
        } finally {
          hits?.dispose();
        }
        // the batch losses were finite; the last update of the epoch (or a constraint) may
        // still have made a weight non-finite: check before anything reads or saves them
        if (nonFiniteCheck) yield* this.checkStateFinite(epoch, iter.numBatches - 1);
        for (const [k, m] of Object.entries(extra)) logs[k] = m.value();
        logs.lr = this.optimizer.getLr();
        if (valSet) {
          const r = yield* this.evaluateSteps(valSet, valBatch, options.signal);
          for (const [k, v] of Object.entries(r)) logs[`val_${k}`] = v;
        }
        if (nonFiniteCheck) {
          for (const key of ['loss', 'val_loss']) {
            const v = logs[key];
            if (v !== undefined && !Number.isFinite(v)) {
              throw new NonFiniteError(
                `${key} is ${v} at the end of epoch ${epoch} (step ${this.step}) although every parameter is finite` +
                  (key === 'val_loss'
                    ? ': the model overflows on the validation data, or that data holds non-finite values'
                    : ''),
                epoch,
                -1,
                null,
              );
            }
          }
        }
        this.epoch = epoch;
        const record: EpochRecord = {
          epoch,
          step: this.step,
          seconds: (performance.now() - t0) / 1000,
          logs,
        };
        this.history.push(record);
        for (const cb of callbacks) cb.onEpochEnd?.(epoch, logs, ctx);
        // checkpoints requested during the epoch's callbacks are written after all of them ran,
        // so every callback's state is current
        for (const write of saves.values()) write(this.checkpoint(callbacks));
        saves.clear();
      }
    } finally {
      losses.dispose();
    }
    const reason = this.stopped ?? 'completed';
    for (const cb of callbacks) cb.onTrainEnd?.(ctx, reason);
    return { epochs: [...this.history], stopReason: reason };
  }

  /**
   * Loss and accuracy (and the extra metrics) of the model on `data`, in eval mode, without
   * gradients: the means over all rows (each batch's mean loss weighted by its size). The model's
   * train/eval mode is restored afterwards. A NaN or infinite loss is returned as it is (NaN
   * propagates, it is never hidden); {@link Trainer.fit} turns it into a {@link NonFiniteError}.
   *
   * @throws {DataError} when `data` has no rows (a loss over no rows is undefined, not 0).
   * @example
   * ```ts
   * trainer.evaluate(test); // { loss: 0.07, accuracy: 0.978 }
   * ```
   */
  evaluate(data: Dataset, options: EvaluateOptions = {}): EvalResult {
    return runSync(this.evaluateSteps(data, options.batchSize ?? 256, options.signal));
  }

  /**
   * {@link Trainer.evaluate} with awaited read-backs (for backends without synchronous reads),
   * giving the event loop a turn between batches every `yieldEveryMs` milliseconds (default 16).
   *
   * @example
   * ```ts
   * const { loss, accuracy } = await trainer.evaluateAsync(test);
   * ```
   */
  evaluateAsync(data: Dataset, options: EvaluateOptions = {}): Promise<EvalResult> {
    try {
      const every = yieldInterval('evaluateAsync', options.yieldEveryMs);
      return runAsync(this.evaluateSteps(data, options.batchSize ?? 256, options.signal), every);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * One evaluation pass: per batch its mean loss goes into slot j of a device vector and its
   * correct count into a device sum; two read-backs at the end (plus the logits of every batch
   * when extra metrics are configured). The loss is summed on the host in float64, as before.
   */
  private *evaluateSteps(data: Dataset, batchSize: number, signal?: AbortSignal): Reads<EvalResult> {
    if (data.length === 0) {
      throw new DataError(data.name, 'evaluate: 0 rows; a loss over no rows is undefined, not 0');
    }
    const wasTraining = this.model.training;
    this.model.eval();
    const extra = this.freshMetrics();
    const iter = data.batches(batchSize);
    const sizes: number[] = [];
    let slots: Tensor | null = null;
    let lossVec: Tensor | null = null;
    const correct = new HitTally();
    let hits: Tensor | null = null;
    try {
      slots = keep(arange(0, iter.numBatches));
      for (const batch of iter.reusing()) {
        signal?.throwIfAborted();
        let logitsHost: Tensor | null = null;
        const j = sizes.length;
        scope(() =>
          noGrad(() => {
            const logits = this.model.forward(tensor(batch.x, batchShape(batch))) as Tensor;
            const loss = this.loss(logits, batch.y);
            const nextLoss = intoSlot(slots!, j, loss, lossVec);
            correct.add(logits, batch.y);
            lossVec?.dispose();
            lossVec = keep(nextLoss);
            if (Object.keys(extra).length) logitsHost = keep(logits);
          }),
        );
        sizes.push(batch.size);
        if (logitsHost !== null) yield* updateMetrics(extra, logitsHost, batch.y);
        yield PAUSE;
      }
      const perBatch = yield lossVec!;
      hits = correct.total();
      const hitCount = (yield hits!)[0];
      let lossSum = 0;
      let seen = 0;
      for (let k = 0; k < sizes.length; k++) {
        lossSum += perBatch[k] * sizes[k];
        seen += sizes[k];
      }
      const out: EvalResult = { loss: lossSum / seen, accuracy: hitCount / seen };
      for (const [k, m] of Object.entries(extra)) out[k] = m.value();
      return out;
    } finally {
      (slots as Tensor | null)?.dispose();
      (lossVec as Tensor | null)?.dispose();
      correct.dispose();
      (hits as Tensor | null)?.dispose();
      this.model.train(wasTraining);
    }
  }

  /**
   * The model's outputs (logits) for every row of `x` (`[N, D]` host features or a Dataset), in
   * eval mode, batch by batch: a `Float32Array` of `N * outputs` values. Each batch goes to the
   * model as `[B, ...sampleShape]` (a Dataset's own, or the one given; default `[B, D]`). Zero rows give an empty
   * array (no numbers, so none that could be wrong).
   *
   * @throws {ValueError} when the features are not whole rows of `numFeatures` values, or
   *   `sampleShape` does not hold `numFeatures` values.
   * @example
   * ```ts
   * const logits = trainer.predict(test); // Float32Array(test.length * 10)
   * ```
   */
  predict(
    x: Dataset | { features: Float32Array; numFeatures: number; sampleShape?: readonly number[] },
    options: { readonly batchSize?: number } = {},
  ): Float32Array {
    const batchSize = options.batchSize ?? 256;
    const d = x.numFeatures;
    const n = x.features.length / d;
    if (!Number.isInteger(n))
      throw new ValueError('predict', `${x.features.length} values are not rows of ${d} features`);
    const sample = x.sampleShape ?? [d];
    if (sample.reduce((a, b) => a * b, 1) !== d) {
      throw new ValueError('predict', `sampleShape [${sample.join(',')}] does not hold ${d} features`);
    }
    const wasTraining = this.model.training;
    this.model.eval();
    const parts: Float32Array[] = [];
    try {
      for (let i = 0; i < n; i += batchSize) {
        const b = Math.min(batchSize, n - i);
        parts.push(
          scope(() =>
            noGrad(() =>
              (
                this.model.forward(
                  tensor(
                    x.features.subarray(i * d, (i + b) * d),
                    batchShape({ size: b, numFeatures: d, sampleShape: sample }),
                  ),
                ) as Tensor
              ).dataSync(),
            ),
          ),
        );
      }
    } finally {
      this.model.train(wasTraining);
    }
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Everything a checkpoint needs: weights, optimizer state, loop state, callback states (what
   * {@link encodeCheckpoint} turns into bytes and `saveCheckpoint` of `@gradkit/trainer/node`
   * writes as a directory; {@link Trainer.fit} uses it for the checkpoints callbacks request).
   *
   * Refuses non-finite weights: when a parameter or persistent buffer of the model, or a tensor a
   * callback saves (e.g. early stopping's best weights), holds NaN or an infinity, it throws a
   * {@link NonFiniteError} naming it, so no checkpoint of a diverged model is written by
   * `ModelCheckpoint` or by hand, unless `options.allowNonFinite` is set.
   *
   * @param callbacks the callbacks whose state is saved with it (default none).
   * @throws {NonFiniteError} for a non-finite weight, unless `allowNonFinite`.
   * @example
   * ```ts
   * const bytes = encodeCheckpoint(trainer.checkpoint()); // anywhere
   * saveCheckpoint('runs/a/checkpoints/manual', trainer.checkpoint()); // Node: @gradkit/trainer/node
   * ```
   */
  checkpoint(callbacks: readonly Callback[] = [], options: CheckpointOptions = {}): Checkpoint {
    const callbackTensors: Record<string, StateDict> = {};
    for (const cb of callbacks) if (cb.stateTensors) callbackTensors[cb.name] = cb.stateTensors();
    const model = this.model.stateDict();
    if (!options.allowNonFinite) {
      const named: [string, StateDict[string]][] = Object.entries(model);
      for (const [cb, dict] of Object.entries(callbackTensors)) {
        for (const [k, v] of Object.entries(dict)) named.push([`${cb}:${k}`, v]);
      }
      const found = firstNonFiniteEntry(named);
      if (found) {
        const size = named.find(([n]) => n === found.name)?.[1].data.length ?? 0;
        throw new NonFiniteError(
          `checkpoint: ${found.name.includes(':') ? 'callback tensor' : 'parameter'} ${found.name}: ` +
            `${describeNonFinite(found, size)} after ${this.epoch} epoch${this.epoch === 1 ? '' : 's'} ` +
            `(step ${this.step}); refusing to save non-finite weights (allowNonFinite: true saves them anyway)`,
          this.epoch,
          -1,
          null,
          found.name,
        );
      }
    }
    return {
      model,
      optimizer: this.optimizer.stateDict(),
      trainer: this.state(callbacks),
      callbackTensors,
      modelSpec: this.modelSpec,
      config: this.config,
    };
  }

  /**
   * Restores a checkpoint into this trainer (model weights, optimizer state, loop state); the
   * callback states are handed to the callbacks of the next `fit`. Continuing with `fit` then
   * gives the same weights as a run that was never interrupted.
   */
  restore(ckpt: Checkpoint): void {
    this.model.loadStateDict(ckpt.model);
    this.optimizer.loadStateDict(ckpt.optimizer as never);
    this.loadState(ckpt.trainer, ckpt.callbackTensors);
  }

  /** The loop's own state, for checkpoints (the model and optimizer are saved separately). */
  state(callbacks: readonly Callback[] = []): TrainerState {
    const cbs: Record<string, Json> = {};
    for (const cb of callbacks) if (cb.stateDict) cbs[cb.name] = cb.stateDict();
    return {
      epoch: this.epoch,
      step: this.step,
      history: this.history.map((r) => ({ ...r, logs: { ...r.logs } })),
      dataRng: [...this.dataRng.state()],
      globalRng: [...getRng().state()],
      callbacks: cbs,
      stopped: this.stopped,
    };
  }

  /**
   * Restores the loop's state from {@link Trainer.state}; callback states are handed to the
   * callbacks of the next `fit` (matched by name).
   */
  loadState(state: TrainerState, callbackTensors: Record<string, StateDict> = {}): void {
    this.epoch = state.epoch;
    this.step = state.step;
    this.history = state.history.map((r) => ({ ...r, logs: { ...r.logs } }));
    this.dataRng.setState(state.dataRng as [number, number, number, number]);
    this.dataSeeded = true;
    getRng().setState(state.globalRng as [number, number, number, number]);
    this.pendingCallbackState = state.callbacks;
    this.pendingCallbackTensors = callbackTensors;
  }

  /** A new, reset instance of every extra metric, for one pass over a dataset. */
  private freshMetrics(): Record<string, Metric> {
    const out: Record<string, Metric> = {};
    for (const [k, make] of Object.entries(this.metrics)) {
      out[k] = make();
      out[k].reset();
    }
    return out;
  }

  private restoreCallbacks(callbacks: readonly Callback[]): void {
    const s = this.pendingCallbackState;
    const t = this.pendingCallbackTensors;
    if (!s && !t) return;
    for (const cb of callbacks) {
      if (s && s[cb.name] !== undefined) cb.loadStateDict?.(s[cb.name]);
      if (t?.[cb.name]) cb.loadStateTensors?.(t[cb.name]);
    }
    this.pendingCallbackState = null;
    this.pendingCallbackTensors = null;
  }

  /**
   * Throws a {@link NonFiniteError} naming the first parameter or persistent buffer (state-dict
   * order) that holds NaN or an infinity. On the device: one `isFinite` map and one `min` per
   * tensor, combined into one flag, so a healthy model costs one scalar read-back.
   */
  private *checkStateFinite(epoch: number, batch: number): Reads<void> {
    const entries = stateEntries(this.model).filter(([, t]) => t.size > 0);
    if (entries.length === 0) return;
    // one flag per tensor (1 when all its values are finite), and their minimum per device
    const flags = scope(() =>
      entries.map(([, t]) => keep(new Tensor(t.device.unary('isFinite', t.array)).min())),
    );
    let bad = -1;
    try {
      const groups = new Map<unknown, Tensor>();
      scope(() => {
        for (const f of flags) {
          const g = groups.get(f.device);
          groups.set(f.device, keep(g ? g.minimum(f) : f.mul(1)));
          g?.dispose();
        }
      });
      let allFinite = true;
      for (const g of groups.values()) {
        try {
          if ((yield g)[0] !== 1) allFinite = false;
        } finally {
          g.dispose();
        }
      }
      if (allFinite) return;
      for (let k = 0; k < flags.length && bad < 0; k++) if ((yield flags[k])[0] !== 1) bad = k;
    } finally {
      for (const f of flags) f.dispose();
    }
    if (bad < 0) return;
    const [name, t] = entries[bad];
    const data = yield t;
    const found = firstNonFiniteEntry([[name, { data }]]);
    const what = found ? describeNonFinite(found, data.length) : 'not finite';
    throw new NonFiniteError(
      `parameter ${name}: ${what} at the end of epoch ${epoch} (step ${this.step}, after batch ${batch}): ` +
        'training diverged (is the learning rate too large?)',
      epoch,
      batch,
      null,
      name,
    );
  }

  /** Finds the first layer whose output is not finite and throws a {@link NonFiniteError}. */
  private raiseNonFinite(x: Tensor, value: number, epoch: number, batch: number): never {
    let layer: string | null = null;
    const m = this.model as unknown as Partial<ForwardEach>;
    if (typeof m.forwardEach === 'function') {
      noGrad(() =>
        m.forwardEach!(x, (name, l, out) => {
          if (layer !== null) return;
          const v = out.dataSync();
          for (let i = 0; i < v.length; i++) {
            if (!Number.isFinite(v[i])) {
              layer = `${name} (${(l as object).constructor.name})`;
              return;
            }
          }
        }),
      );
    }
    const where = layer
      ? `; first non-finite output: layer ${layer}`
      : '; every layer output is finite (the loss itself overflowed)';
    throw new NonFiniteError(
      `loss is ${value} at epoch ${epoch}, batch ${batch}${where}`,
      epoch,
      batch,
      layer,
    );
  }
}
