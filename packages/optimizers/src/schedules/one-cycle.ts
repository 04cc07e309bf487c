import type { Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import {
  checkStep,
  inInterval,
  learningRate,
  nonNegative,
  oneOf,
  positive,
  positiveInteger,
  show,
} from './validate.js';

/** How {@link oneCycleSchedule} moves between its phase boundaries: half a cosine, or a line. */
export type AnnealStrategy = 'cos' | 'linear';

/** The options that shape the phases of one-cycle, shared by the learning-rate and momentum schedules. */
export interface OneCyclePhaseOptions {
  /** The number of steps in the cycle, an integer `>= 1` (required). */
  totalSteps: number;
  /** The fraction of the cycle spent increasing the rate, in `(0, 1)`. Default `0.3`. */
  pctStart?: number;
  /** `'cos'` (cosine annealing) or `'linear'`. Default `'cos'`. */
  annealStrategy?: AnnealStrategy;
  /**
   * `true`: three phases as in Smith's paper (up, down symmetrically, then annihilation to the
   * minimum); `false`: two phases as in fastai (up, then down to the minimum). Default `false`.
   */
  threePhase?: boolean;
}

/** Options of {@link oneCycleSchedule} (PyTorch's `OneCycleLR`). */
export interface OneCycleScheduleOptions extends OneCyclePhaseOptions {
  /** The peak learning rate, `>= 0` (required). */
  maxLr: number;
  /** The initial rate is `maxLr / divFactor`, `> 0`. Default `25`. */
  divFactor?: number;
  /** The final rate is `maxLr / divFactor / finalDivFactor`, `> 0`. Default `1e4`. */
  finalDivFactor?: number;
}

/** Options of {@link oneCycleMomentumSchedule} (the momentum that PyTorch's `OneCycleLR` cycles). */
export interface OneCycleMomentumScheduleOptions extends OneCyclePhaseOptions {
  /** The momentum at the peak of the learning rate, `>= 0`. Default `0.85`. */
  baseMomentum?: number;
  /** The momentum at the start and end of the cycle, `>= 0`. Default `0.95`. */
  maxMomentum?: number;
}

interface Phase {
  /** The step at which the phase ends (a fraction in general, as in PyTorch). */
  readonly endStep: number;
  readonly start: number;
  readonly end: number;
}

type Anneal = (start: number, end: number, pct: number) => number;

// PyTorch's _annealing_cos and _annealing_linear, same operations in the same order.
const annealCos: Anneal = (start, end, pct) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
const annealLinear: Anneal = (start, end, pct) => (end - start) * pct + start;

/**
 * PyTorch 1.13's OneCycleLR.get_lr() as a schedule, for the `[start, end]` levels of each phase
 * given by `levels`: the learning rate and the momentum share the phases and differ in levels.
 */
function oneCycle(
  op: string,
  options: OneCyclePhaseOptions,
  levels: (threePhase: boolean) => [start: number, end: number][],
): Schedule {
  const totalSteps = positiveInteger(op, 'totalSteps', options.totalSteps);
  const pctStart = inInterval(op, 'pctStart', options.pctStart ?? 0.3, 0, 1, false, false);
  const strategy = oneOf<AnnealStrategy>(op, 'annealStrategy', options.annealStrategy ?? 'cos', [
    'cos',
    'linear',
  ]);
  const threePhase = options.threePhase ?? false;
  if (typeof threePhase !== 'boolean') {
    throw new ValueError(op, `threePhase must be a boolean, got ${show(threePhase)}`);
  }
  const ends = threePhase
    ? [pctStart * totalSteps - 1, 2 * pctStart * totalSteps - 2, totalSteps - 1]
    : [pctStart * totalSteps - 1, totalSteps - 1];
  const phases: Phase[] = levels(threePhase).map(([start, end], i) => ({ endStep: ends[i], start, end }));
  // A phase of zero length makes PyTorch divide by zero (ZeroDivisionError) when a step lands in it.
  let previous = 0;
  for (const phase of phases) {
    if (phase.endStep === previous) {
      throw new ValueError(
        op,
        `pctStart ${pctStart} with totalSteps ${totalSteps} gives a phase of zero length ` +
          `(ending at step ${phase.endStep}); PyTorch's OneCycleLR divides by zero there`,
      );
    }
    previous = phase.endStep;
  }
  const anneal = strategy === 'cos' ? annealCos : annealLinear;
  return (step: number): number => {
    checkStep(op, step);
    if (step > totalSteps) {
      throw new ValueError(
        op,
        `step must be <= totalSteps (${totalSteps}), got ${step}; PyTorch's OneCycleLR also fails there ` +
          `("Tried to step ${step + 1} times")`,
      );
    }
    // PyTorch's get_lr(): the first phase whose end is not before `step`, or the last one.
    let i = 0;
    let startStep = 0;
    while (i < phases.length - 1 && step > phases[i].endStep) {
      startStep = phases[i].endStep;
      i++;
    }
    const phase = phases[i];
    return anneal(phase.start, phase.end, (step - startStep) / (phase.endStep - startStep));
  };
}

/**
 * PyTorch's `OneCycleLR`, the 1cycle policy: the rate rises from `maxLr / divFactor` to `maxLr`
 * over the first `pctStart` of the cycle, then falls to `maxLr / divFactor / finalDivFactor`;
 * with `threePhase` it first falls back to the initial rate symmetrically, then to the minimum.
 * Each phase anneals from its start level `a` to its end level `b` by
 *
 * ```text
 * cos:     b + (a - b) / 2 * (1 + cos(pi * p))
 * linear:  a + (b - a) * p
 * p = (t - s) / (e - s)    for the phase's start step s and end step e
 * ```
 *
 * with phase ends `pctStart * totalSteps - 1` and `totalSteps - 1` (two phases), or
 * `pctStart * totalSteps - 1`, `2 * pctStart * totalSteps - 2` and `totalSteps - 1` (three
 * phases); the ends are fractional in general, exactly as in PyTorch.
 *
 * Defaults (PyTorch's): `pctStart = 0.3`, `annealStrategy = 'cos'`, `divFactor = 25`,
 * `finalDivFactor = 1e4`, `threePhase = false`. The schedule defines its own rates: PyTorch
 * ignores the optimizer's lr too. {@link oneCycleMomentumSchedule} gives the momentum cycled
 * inversely (PyTorch's `cycle_momentum`).
 *
 * Surprising in PyTorch, reproduced here: the minimum is reached at step `totalSteps - 1`, and
 * step `totalSteps` (the value after the last `scheduler.step()`, unused if you train for
 * `totalSteps` updates) extrapolates the last phase: with `'cos'` the rate rises again, with
 * `'linear'` it goes below the minimum and can be negative. Steps past `totalSteps` throw, as
 * PyTorch does. When `pctStart * totalSteps < 1` PyTorch skips the warm-up entirely (step 0
 * starts near `maxLr`); keep `pctStart * totalSteps >= 2` for a real warm-up. A phase of length
 * exactly 0 (e.g. `pctStart * totalSteps = 1`) makes PyTorch divide by zero and throws here.
 *
 * `step` counts whatever unit the caller advances; one-cycle is meant to be stepped per batch
 * (`totalSteps = epochs * batchesPerEpoch`). The value at step 0 is PyTorch's lr right after
 * the scheduler is built.
 *
 * @param options see {@link OneCycleScheduleOptions}.
 * @returns a {@link Schedule} defined for steps `0 ... totalSteps`.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value when
 *   `maxLr < 0`, `totalSteps` is not an integer `>= 1`, `pctStart` is outside `(0, 1)`,
 *   `annealStrategy` is not `'cos'` or `'linear'`, `divFactor <= 0`, `finalDivFactor <= 0`, or
 *   a phase has zero length; and when the schedule is called with a step that is not an integer
 *   in `[0, totalSteps]`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.OneCycleLR.html
 * @see Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large
 *   Learning Rates", 2017, https://arxiv.org/abs/1708.07120
 * @example
 * ```ts
 * const cycle = { totalSteps: 1000, pctStart: 0.3 };
 * const lr = oneCycleSchedule({ ...cycle, maxLr: 0.1 });
 * const momentum = oneCycleMomentumSchedule(cycle);
 * lr(0); // ≈ 0.004 (maxLr / 25); momentum(0) is 0.95
 * lr(299); // 0.1 (the peak, at pctStart * totalSteps - 1); momentum(299) is 0.85
 * lr(999); // 4e-7 (0.004 / 1e4); momentum(999) is 0.95
 * ```
 */
export function oneCycleSchedule(options: OneCycleScheduleOptions): Schedule {
  const op = 'oneCycleSchedule';
  const maxLr = learningRate(op, 'maxLr', options.maxLr);
  const divFactor = positive(op, 'divFactor', options.divFactor ?? 25);
  const finalDivFactor = positive(op, 'finalDivFactor', options.finalDivFactor ?? 1e4);
  const initialLr = maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
  return oneCycle(op, options, (threePhase) =>
    threePhase
      ? [
          [initialLr, maxLr],
          [maxLr, initialLr],
          [initialLr, minLr],
        ]
      : [
          [initialLr, maxLr],
          [maxLr, minLr],
        ],
  );
}

/**
 * The momentum that PyTorch's `OneCycleLR` cycles inversely to the learning rate
 * (`cycle_momentum=True`, written to SGD's `momentum` or Adam's `beta1`): from `maxMomentum`
 * down to `baseMomentum` while the rate rises, back up to `maxMomentum` while it falls, and (with
 * `threePhase`) constant at `maxMomentum` during the final annihilation. Same phases, annealing
 * and step range as {@link oneCycleSchedule}; pass it the same phase options.
 *
 * Defaults (PyTorch's): `baseMomentum = 0.85`, `maxMomentum = 0.95`, `pctStart = 0.3`,
 * `annealStrategy = 'cos'`, `threePhase = false`. Like PyTorch's, the step `totalSteps`
 * extrapolates the last phase (past `maxMomentum`, for `'linear'`).
 *
 * @param options see {@link OneCycleMomentumScheduleOptions}.
 * @returns a {@link Schedule} of momentum defined for steps `0 ... totalSteps`.
 * @throws ValueError (from `@gradkit/tensor`) naming the argument and its value for bad phase
 *   options (as {@link oneCycleSchedule}) or a negative or non-finite momentum; and when the
 *   schedule is called with a step that is not an integer in `[0, totalSteps]`.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.OneCycleLR.html
 * @see Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large
 *   Learning Rates", 2017, https://arxiv.org/abs/1708.07120
 * @example
 * ```ts
 * const momentum = oneCycleMomentumSchedule({ totalSteps: 100 });
 * momentum(0); // 0.95
 * momentum(29); // 0.85 (at the learning-rate peak)
 * momentum(99); // 0.95
 * ```
 */
export function oneCycleMomentumSchedule(options: OneCycleMomentumScheduleOptions): Schedule {
  const op = 'oneCycleMomentumSchedule';
  const base = nonNegative(op, 'baseMomentum', options.baseMomentum ?? 0.85);
  const max = nonNegative(op, 'maxMomentum', options.maxMomentum ?? 0.95);
  return oneCycle(op, options, (threePhase) =>
    threePhase
      ? [
          [max, base],
          [base, max],
          [max, max],
        ]
      : [
          [max, base],
          [base, max],
        ],
  );
}
