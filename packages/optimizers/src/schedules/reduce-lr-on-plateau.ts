import { ValueError } from '@gradkit/tensor';
import { learningRate, nonNegative, nonNegativeInteger, oneOf, show } from './validate.js';

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** The initial learning rate (the optimizer's `lr` in PyTorch), `>= 0`. */
  lr: number;
  /** `'min'`: the metric should fall (a loss); `'max'`: it should rise (an accuracy). Default `'min'`. */
  mode?: 'min' | 'max';
  /** The factor applied to the rate on a plateau, in `(0, 1)`. Default `0.1`. */
  factor?: number;
  /** The number of bad steps tolerated; the rate falls on the next one. Integer `>= 0`. Default `10`. */
  patience?: number;
  /** How much better a metric must be to count as an improvement, `>= 0`. Default `1e-4`. */
  threshold?: number;
  /** `'rel'`: `threshold` is relative to the best metric; `'abs'`: absolute. Default `'rel'`. */
  thresholdMode?: 'rel' | 'abs';
  /** The number of steps after a reduction during which bad steps are not counted. Integer `>= 0`. Default `0`. */
  cooldown?: number;
  /** The lower bound of the rate, `>= 0`. Default `0`. */
  minLr?: number;
  /** A reduction smaller than this is skipped, `>= 0`. Default `1e-8`. */
  eps?: number;
}

/**
 * The JSON-safe state of a {@link ReduceLROnPlateau}, from `stateDict()`: the current rate, the
 * best metric so far (non-finite values as the strings `'Infinity'` and `'-Infinity'`, because
 * JSON has no literal for them; `'Infinity'` in `'min'` mode and `'-Infinity'` in `'max'` mode
 * mean "no metric yet"), the counters, and the number of `step` calls.
 */
export interface ReduceLROnPlateauState {
  /** The current learning rate. */
  lr: number;
  /** The best metric so far; `'Infinity'` / `'-Infinity'` for the infinities. */
  best: number | 'Infinity' | '-Infinity';
  /** Bad steps counted since the last improvement, reduction or cooldown step (PyTorch's `num_bad_epochs`). */
  numBadEpochs: number;
  /** Cooldown steps left (PyTorch's `cooldown_counter`). */
  cooldownCounter: number;
  /** The number of `step` calls so far (PyTorch's `last_epoch`). */
  lastEpoch: number;
}

/**
 * PyTorch's `ReduceLROnPlateau`: reduce the learning rate when a metric stops improving. Each
 * call `step(metric)` (typically once per epoch, with the validation loss) decides, in PyTorch's
 * order:
 *
 * ```text
 * better = metric < best * (1 - threshold)   (min, rel)     metric < best - threshold   (min, abs)
 *          metric > best * (1 + threshold)   (max, rel)     metric > best + threshold   (max, abs)
 * if better: best = metric, numBadEpochs = 0   else: numBadEpochs += 1
 * if cooldownCounter > 0: cooldownCounter -= 1, numBadEpochs = 0
 * if numBadEpochs > patience:
 *   newLr = max(lr * factor, minLr); if lr - newLr > eps: lr = newLr
 *   cooldownCounter = cooldown, numBadEpochs = 0
 * ```
 *
 * and returns the rate to use from then on. `best` starts at `+Infinity` (`'min'`) or
 * `-Infinity` (`'max'`).
 *
 * Defaults (PyTorch's): `mode = 'min'`, `factor = 0.1`, `patience = 10`, `threshold = 1e-4`,
 * `thresholdMode = 'rel'`, `cooldown = 0`, `minLr = 0`, `eps = 1e-8`.
 *
 * Surprising in PyTorch, reproduced here: a NaN metric is never better, so it counts as a bad
 * step (a diverged loss eventually lowers the rate) and never becomes `best`; with
 * `patience = 2` the rate falls on the third bad step in a row, not the second; the bad steps
 * counted during a cooldown are discarded; a reduction of at most `eps` (e.g. when `minLr` is
 * reached) is skipped but still starts a cooldown and resets the count; in `'rel'` mode with a
 * negative best the threshold works the other way (as in PyTorch, where `best * (1 - threshold)`
 * is then larger than `best`).
 *
 * Unlike PyTorch's, which writes to the optimizer's param groups, this class holds the rate:
 * give the returned value to the optimizer. One rate (PyTorch supports one per param group).
 *
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html
 * @example
 * ```ts
 * const plateau = new ReduceLROnPlateau({ lr: 0.1, patience: 2, factor: 0.5 });
 * for (const valLoss of [1.0, 0.9, 0.9, 0.9, 0.9]) optimizer.lr = plateau.step(valLoss);
 * plateau.lr; // 0.05: the third bad epoch in a row (the 5th call) halved the rate
 * const saved = JSON.stringify(plateau.stateDict()); // for a checkpoint
 * const resumed = new ReduceLROnPlateau({ lr: 0.1, patience: 2, factor: 0.5 });
 * resumed.loadStateDict(JSON.parse(saved));
 * ```
 */
export class ReduceLROnPlateau {
  /** `'min'` or `'max'`. */
  readonly mode: 'min' | 'max';
  /** The factor applied to the rate on a plateau. */
  readonly factor: number;
  /** The number of bad steps tolerated. */
  readonly patience: number;
  /** The improvement threshold. */
  readonly threshold: number;
  /** `'rel'` or `'abs'`. */
  readonly thresholdMode: 'rel' | 'abs';
  /** The number of steps without counting bad steps after a reduction. */
  readonly cooldown: number;
  /** The lower bound of the rate. */
  readonly minLr: number;
  /** The smallest reduction applied. */
  readonly eps: number;

  #lr: number;
  #best: number;
  #numBadEpochs = 0;
  #cooldownCounter = 0;
  #lastEpoch = 0;

  /**
   * @param options see {@link ReduceLROnPlateauOptions}.
   * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when `lr`,
   *   `threshold`, `minLr` or `eps` is negative or not finite, `factor` is outside `(0, 1)`,
   *   `patience` or `cooldown` is not an integer `>= 0`, or `mode` / `thresholdMode` is unknown.
   */
  constructor(options: ReduceLROnPlateauOptions) {
    const op = 'ReduceLROnPlateau';
    this.#lr = learningRate(op, 'lr', options.lr);
    this.mode = oneOf(op, 'mode', options.mode ?? 'min', ['min', 'max']);
    const factor = options.factor ?? 0.1;
    if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) {
      throw new ValueError(op, `factor must be in (0, 1) (new lr = lr * factor), got ${show(factor)}`);
    }
    this.factor = factor;
    this.patience = nonNegativeInteger(op, 'patience', options.patience ?? 10);
    this.threshold = nonNegative(op, 'threshold', options.threshold ?? 1e-4);
    this.thresholdMode = oneOf(op, 'thresholdMode', options.thresholdMode ?? 'rel', ['rel', 'abs']);
    this.cooldown = nonNegativeInteger(op, 'cooldown', options.cooldown ?? 0);
    this.minLr = nonNegative(op, 'minLr', options.minLr ?? 0);
    this.eps = nonNegative(op, 'eps', options.eps ?? 1e-8);
    this.#best = this.#worst();
  }

  /** The current learning rate. */
  get lr(): number {
    return this.#lr;
  }

  /** The best metric so far (`+Infinity` in `'min'` mode, `-Infinity` in `'max'` mode before the first). */
  get best(): number {
    return this.#best;
  }

  /** The number of bad steps since the last improvement, reduction or cooldown step. */
  get numBadEpochs(): number {
    return this.#numBadEpochs;
  }

  /** The number of cooldown steps left. */
  get cooldownCounter(): number {
    return this.#cooldownCounter;
  }

  /** The number of `step` calls so far (PyTorch's `last_epoch`). */
  get lastEpoch(): number {
    return this.#lastEpoch;
  }

  /** Whether bad steps are currently ignored after a reduction. */
  get inCooldown(): boolean {
    return this.#cooldownCounter > 0;
  }

  /**
   * Whether `metric` improves on `best` by the threshold (PyTorch's `is_better`).
   *
   * @example
   * ```ts
   * new ReduceLROnPlateau({ lr: 0.1 }).isBetter(0.99, 1); // true: 0.99 < 1 * (1 - 1e-4)
   * ```
   */
  isBetter(metric: number, best: number): boolean {
    if (this.mode === 'min') {
      return this.thresholdMode === 'rel'
        ? metric < best * (1 - this.threshold)
        : metric < best - this.threshold;
    }
    return this.thresholdMode === 'rel'
      ? metric > best * (this.threshold + 1)
      : metric > best + this.threshold;
  }

  /**
   * Records one metric (e.g. the validation loss of an epoch) and returns the learning rate to
   * use from now on (see the class documentation for the decision).
   *
   * @param metric the monitored value; NaN counts as a bad step, as in PyTorch.
   * @throws ValueError (from `@gradkit/tensor`) when `metric` is not a number.
   * @example
   * ```ts
   * const lr = plateau.step(valLoss);
   * ```
   */
  step(metric: number): number {
    if (typeof metric !== 'number') {
      throw new ValueError('ReduceLROnPlateau.step', `metric must be a number, got ${show(metric)}`);
    }
    this.#lastEpoch += 1;
    if (this.isBetter(metric, this.#best)) {
      this.#best = metric;
      this.#numBadEpochs = 0;
    } else {
      this.#numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.#cooldownCounter -= 1;
      this.#numBadEpochs = 0; // bad steps in cooldown are ignored
    }
    if (this.#numBadEpochs > this.patience) {
      const newLr = Math.max(this.#lr * this.factor, this.minLr);
      if (this.#lr - newLr > this.eps) this.#lr = newLr;
      this.#cooldownCounter = this.cooldown;
      this.#numBadEpochs = 0;
    }
    return this.#lr;
  }

  /**
   * The mutable state, JSON-safe (see {@link ReduceLROnPlateauState}); the options are not part
   * of it (construct with the same options, then `loadStateDict`).
   *
   * @example
   * ```ts
   * writeFileSync('plateau.json', JSON.stringify(plateau.stateDict()));
   * ```
   */
  stateDict(): ReduceLROnPlateauState {
    const best = this.#best;
    return {
      lr: this.#lr,
      best: Number.isFinite(best) ? best : best > 0 ? 'Infinity' : '-Infinity',
      numBadEpochs: this.#numBadEpochs,
      cooldownCounter: this.#cooldownCounter,
      lastEpoch: this.#lastEpoch,
    };
  }

  /**
   * Restores a state from {@link ReduceLROnPlateau.stateDict} (also after a JSON round trip);
   * the following steps continue exactly as the saved scheduler would have.
   *
   * @throws ValueError (from `@gradkit/tensor`) naming the field and its value when a field is
   *   missing or invalid; nothing is changed then.
   * @example
   * ```ts
   * plateau.loadStateDict(JSON.parse(readFileSync('plateau.json', 'utf8')));
   * ```
   */
  loadStateDict(state: ReduceLROnPlateauState): void {
    const op = 'ReduceLROnPlateau.loadStateDict';
    if (typeof state !== 'object' || state === null) {
      throw new ValueError(op, `state must be an object, got ${show(state)}`);
    }
    const lr = nonNegative(op, 'lr', state.lr);
    const raw: unknown = state.best;
    let best: number;
    if (raw === 'Infinity') best = Number.POSITIVE_INFINITY;
    else if (raw === '-Infinity') best = Number.NEGATIVE_INFINITY;
    else if (typeof raw === 'number' && !Number.isNaN(raw)) best = raw;
    else throw new ValueError(op, `best must be a number, 'Infinity' or '-Infinity', got ${show(raw)}`);
    const numBadEpochs = nonNegativeInteger(op, 'numBadEpochs', state.numBadEpochs);
    const cooldownCounter = nonNegativeInteger(op, 'cooldownCounter', state.cooldownCounter);
    const lastEpoch = nonNegativeInteger(op, 'lastEpoch', state.lastEpoch);
    this.#lr = lr;
    this.#best = best;
    this.#numBadEpochs = numBadEpochs;
    this.#cooldownCounter = cooldownCounter;
    this.#lastEpoch = lastEpoch;
  }

  #worst(): number {
    return this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
}
