// Test-only: replays the PyTorch trajectories of fixtures/<optimizer>.json (written by
// fixtures/generate.py) through three faces of an optimizer, on the current default device:
// - 'optimizer': the stateful face, `adam(params, options)`, `setLr`, `step()`, `zeroGrad()`;
// - 'transform': the named transformation, `adamTransform(options)` (+ injectHyperparams for lr
//   changes), with `applyUpdates` and `releaseState`;
// - 'chain': the same optimizer composed from building blocks (`chain(addDecayedWeights(wd),
//   scaleByAdam(...), scaleByLearningRate(lr))`), which proves chain == named == PyTorch.
import type { GradientTransformation, Tensor } from '@gradkit/tensor';
import { linear, mseLoss, Parameter, scope, tensor, zeroGrad } from '@gradkit/tensor';
import type { Tolerance } from '@gradkit/test-utils';
import { loadFixture, mismatch } from '@gradkit/test-utils';
import { expect, it } from 'vitest';
import {
  adadelta,
  adadeltaTransform,
  adagrad,
  adagradTransform,
  adam,
  adamax,
  adamaxTransform,
  adamTransform,
  adamw,
  adamwTransform,
  addDecayedWeights,
  applyUpdates,
  chain,
  gradsOf,
  injectHyperparams,
  lamb,
  lambTransform,
  lion,
  lionTransform,
  nadam,
  nadamTransform,
  type Optimizer,
  radam,
  radamTransform,
  releaseState,
  rmsprop,
  rmspropTransform,
  scale,
  scaleByAdadelta,
  scaleByAdagrad,
  scaleByAdam,
  scaleByAdamax,
  scaleByLearningRate,
  scaleByLion,
  scaleByNadam,
  scaleByRadam,
  scaleByRms,
  scaleByTrustRatio,
  sgd,
  sgdTransform,
  tensorsOf,
  trace,
} from '../index.js';

/** A tensor in a fixture. */
export interface FixtureTensor {
  readonly shape: number[];
  readonly data: number[];
}

/** One case of a fixture: options (gradkit's names), optional groups and per-step learning rates. */
export interface FixtureCase {
  readonly id: string;
  readonly optimizer: OptimizerName;
  readonly options: Record<string, unknown>;
  readonly reference: string;
  readonly groups?: ({ params: string[] } & Record<string, unknown>)[];
  readonly lrs?: number[];
  readonly trajectories: Record<ProblemName, Record<string, number[]>[]>;
}

/** A fixture file. */
export interface Fixture {
  readonly torch: string;
  readonly steps: number;
  readonly problems: {
    readonly given: { params: Record<string, FixtureTensor>; grads: Record<string, number[]>[] };
    readonly lsq: { params: Record<string, FixtureTensor>; x: FixtureTensor; y: FixtureTensor };
  };
  readonly cases: FixtureCase[];
}

export type OptimizerName =
  | 'sgd'
  | 'adagrad'
  | 'rmsprop'
  | 'adam'
  | 'adamw'
  | 'adamax'
  | 'nadam'
  | 'radam'
  | 'adadelta'
  | 'lion'
  | 'lamb';
export type ProblemName = 'given' | 'lsq';
export type Face = 'optimizer' | 'transform' | 'chain';

/** Reads fixtures/<name>.json. */
export function loadOptimizerFixture(name: OptimizerName | 'clipping'): Fixture {
  return loadFixture<Fixture>(new URL(`../../fixtures/${name}.json`, import.meta.url));
}

/**
 * The tolerance at step `step` (0-based): rtol 1e-5 and atol 1e-6 at the first step, growing
 * linearly to 4x at step 16, for float32 rounding that accumulates (and differs in order: fused
 * kernels round once where PyTorch rounds per op; GL's sqrt and division are not correctly rounded).
 */
export function tolerance(step: number): Tolerance {
  const grow = 1 + (3 * step) / 15;
  return { rtol: 1e-5 * grow, atol: 1e-6 * grow };
}

type AnyOptions = Record<string, unknown>;
type Factory = (params: unknown, options: AnyOptions) => Optimizer<never>;
type TxFactory = (options: AnyOptions) => GradientTransformation<unknown>;

const OPTIMIZERS = {
  sgd,
  adagrad,
  rmsprop,
  adam,
  adamw,
  adamax,
  nadam,
  radam,
  adadelta,
  lion,
  lamb,
} as unknown as Record<OptimizerName, Factory>;
const TRANSFORMS = {
  sgd: sgdTransform,
  adagrad: adagradTransform,
  rmsprop: rmspropTransform,
  adam: adamTransform,
  adamw: adamwTransform,
  adamax: adamaxTransform,
  nadam: nadamTransform,
  radam: radamTransform,
  adadelta: adadeltaTransform,
  lion: lionTransform,
  lamb: lambTransform,
} as unknown as Record<OptimizerName, TxFactory>;

/** The resolved options (defaults filled in) of a case, read from a throwaway optimizer. */
function resolved(c: FixtureCase): AnyOptions {
  const p = new Parameter([0]);
  const opt = OPTIMIZERS[c.optimizer]([p], c.options);
  const options = { ...(opt.paramGroups[0].options as AnyOptions) };
  opt.dispose();
  p.dispose();
  return options;
}

/**
 * The case as a chain of building blocks, or null where no chain expresses it (Keras's Adam
 * epsilon, param groups).
 */
export function chainOf(c: FixtureCase): GradientTransformation<unknown> | null {
  if (c.groups) return null;
  const o = resolved(c) as Record<string, never>;
  if ((c.optimizer === 'adam' || c.optimizer === 'adamw') && o.convention === 'keras') return null;
  const lr = c.lrs ? (t: number) => (c.lrs as number[])[t] : (o.lr as number);
  const head: GradientTransformation<unknown>[] = o.maximize ? [scale(-1)] : [];
  const l2 = addDecayedWeights(o.weightDecay);
  const adamOpts = { betas: o.betas, eps: o.eps };
  switch (c.optimizer) {
    case 'sgd':
      return chain(
        ...head,
        l2,
        trace({ decay: o.momentum, dampening: o.dampening, nesterov: o.nesterov }),
        scaleByLearningRate(lr),
      );
    case 'adagrad':
      return chain(
        ...head,
        l2,
        scaleByAdagrad({
          initialAccumulatorValue: o.initialAccumulatorValue,
          eps: o.eps,
          epsInsideSqrt: o.epsInsideSqrt,
        }),
        scaleByLearningRate((t) => (typeof lr === 'number' ? lr : lr(t)) / (1 + t * o.lrDecay)),
      );
    case 'rmsprop':
      return chain(
        ...head,
        l2,
        scaleByRms({ alpha: o.alpha, eps: o.eps, centered: o.centered, epsInsideSqrt: o.epsInsideSqrt }),
        trace({ decay: o.momentum }),
        scaleByLearningRate(lr),
      );
    case 'adam':
      return chain(...head, l2, scaleByAdam({ ...adamOpts, amsgrad: o.amsgrad }), scaleByLearningRate(lr));
    case 'adamw':
      return chain(...head, scaleByAdam({ ...adamOpts, amsgrad: o.amsgrad }), l2, scaleByLearningRate(lr));
    case 'adamax':
      return chain(...head, l2, scaleByAdamax(adamOpts), scaleByLearningRate(lr));
    case 'nadam': {
      const direction = scaleByNadam({
        ...adamOpts,
        momentumDecay: o.momentumDecay,
        legacyMuProduct: o.legacyMuProduct,
      });
      return o.decoupledWeightDecay
        ? chain(...head, direction, l2, scaleByLearningRate(lr))
        : chain(...head, l2, direction, scaleByLearningRate(lr));
    }
    case 'radam':
      return chain(...head, l2, scaleByRadam(adamOpts), scaleByLearningRate(lr));
    case 'adadelta':
      return chain(...head, l2, scaleByAdadelta({ rho: o.rho, eps: o.eps }), scaleByLearningRate(lr));
    case 'lion':
      return chain(...head, scaleByLion({ betas: o.betas }), l2, scaleByLearningRate(lr));
    case 'lamb':
      return chain(...head, scaleByAdam(adamOpts), l2, scaleByTrustRatio(), scaleByLearningRate(lr));
  }
}

function makeParams(spec: Record<string, FixtureTensor>): Record<string, Parameter> {
  const out: Record<string, Parameter> = {};
  for (const [k, v] of Object.entries(spec)) out[k] = new Parameter(v.data, { shape: v.shape });
  return out;
}

/** A stepper: applies one update with the parameters' current gradients (and lr), clears them. */
type Stepper = { step(lr: number | undefined): void; dispose(): void };

function stepperFor(face: Face, c: FixtureCase, params: Record<string, Parameter>): Stepper | null {
  if (face === 'optimizer') {
    const input = c.groups
      ? c.groups.map(({ params: names, ...rest }) => ({
          ...rest,
          params: names.map((n) => [n, params[n]] as const),
        }))
      : params;
    const opt = OPTIMIZERS[c.optimizer](input, c.options);
    return {
      step(lr) {
        if (lr !== undefined) opt.setLr(lr);
        opt.step();
        opt.zeroGrad();
      },
      dispose: () => opt.dispose(),
    };
  }
  if (c.groups) return null;
  let tx: GradientTransformation<unknown> | null;
  if (face === 'transform') {
    tx = c.lrs ? injectHyperparams(TRANSFORMS[c.optimizer])(c.options) : TRANSFORMS[c.optimizer](c.options);
  } else tx = chainOf(c);
  if (!tx) return null;
  const t = tx;
  let state = t.init(params);
  return {
    step(lr) {
      if (lr !== undefined && face === 'transform')
        (state as { hyperparams: Record<string, number> }).hyperparams.lr = lr;
      const grads = gradsOf(params);
      const [updates, next] = t.update(grads, state, params);
      applyUpdates(params, updates);
      const grad = tensorsOf(grads);
      for (const u of tensorsOf(updates)) if (!grad.has(u)) u.dispose();
      state = releaseState(state, next);
      zeroGrad(params);
    },
    dispose() {
      for (const s of tensorsOf(state)) s.dispose();
    },
  };
}

/**
 * Replays case `c` on `problem` through `face` and returns the parameter values after every step,
 * or null when the face cannot express the case.
 */
export function replay(
  fixture: Fixture,
  c: FixtureCase,
  problem: ProblemName,
  face: Face,
): Record<string, Float32Array>[] | null {
  const spec = fixture.problems[problem];
  const params = makeParams(spec.params);
  const stepper = stepperFor(face, c, params);
  if (!stepper) {
    for (const p of Object.values(params)) p.dispose();
    return null;
  }
  const x = problem === 'lsq' ? tensor(fixture.problems.lsq.x.data, fixture.problems.lsq.x.shape) : null;
  const y = problem === 'lsq' ? tensor(fixture.problems.lsq.y.data, fixture.problems.lsq.y.shape) : null;
  const out: Record<string, Float32Array>[] = [];
  for (let step = 0; step < fixture.steps; step++) {
    if (problem === 'given') {
      const g = fixture.problems.given.grads[step];
      for (const [k, p] of Object.entries(params)) p.grad = tensor(g[k], p.shape);
    } else {
      scope(() => mseLoss(linear(x as Tensor, params.w, params.b), y as Tensor).backward());
    }
    stepper.step(c.lrs?.[step]);
    const values: Record<string, Float32Array> = {};
    for (const [k, p] of Object.entries(params)) values[k] = p.dataSync();
    out.push(values);
  }
  stepper.dispose();
  x?.dispose();
  y?.dispose();
  for (const p of Object.values(params)) p.dispose();
  return out;
}

/** The first step whose values fall outside {@link tolerance}, as a message, or null. */
export function trajectoryMismatch(
  got: Record<string, Float32Array>[],
  want: Record<string, number[]>[],
): string | null {
  for (let step = 0; step < want.length; step++) {
    for (const k of Object.keys(want[step])) {
      const m = mismatch(got[step][k], want[step][k], tolerance(step));
      if (m) return `step ${step + 1}, ${k}${m}`;
    }
  }
  return null;
}

/** The largest error of a trajectory relative to the step's tolerance (<= 1 passes). */
export function worstRatio(got: Record<string, Float32Array>[], want: Record<string, number[]>[]): number {
  let worst = 0;
  for (let step = 0; step < want.length; step++) {
    const tol = tolerance(step);
    for (const k of Object.keys(want[step])) {
      want[step][k].forEach((w, i) => {
        worst = Math.max(worst, Math.abs(got[step][k][i] - w) / (tol.atol + tol.rtol * Math.abs(w)));
      });
    }
  }
  return worst;
}

/** Which faces replay which problems (every case runs the optimizer face on both problems). */
const PLAN: readonly [Face, ProblemName][] = [
  ['optimizer', 'given'],
  ['optimizer', 'lsq'],
  ['transform', 'given'],
  ['chain', 'lsq'],
];

/**
 * Defines one test per case, face and problem of fixtures/<name>.json, each checking the 16
 * steps against PyTorch within {@link tolerance}.
 */
export function replayFixture(name: OptimizerName): void {
  const fixture = loadOptimizerFixture(name);
  for (const c of fixture.cases) {
    for (const [face, problem] of PLAN) {
      if ((face !== 'optimizer' && c.groups) || (face === 'chain' && chainOfIsNull(c))) continue;
      const against = c.reference.startsWith('torch')
        ? `PyTorch ${fixture.torch}`
        : `its reference (${c.reference})`;
      it(`${c.id} (${face}, ${problem}) matches ${against} for ${fixture.steps} steps`, () => {
        const got = replay(fixture, c, problem, face);
        expect(got).not.toBeNull();
        const want = c.trajectories[problem];
        if (process.env.GRADKIT_REPORT_TOLERANCE) {
          console.log(
            `${c.id} ${face} ${problem}: worst error / tolerance = ${worstRatio(got!, want).toFixed(3)}`,
          );
        }
        const m = trajectoryMismatch(got!, want);
        expect(m, `${c.id} (${face}, ${problem}): ${m}`).toBeNull();
      });
    }
  }
}

function chainOfIsNull(c: FixtureCase): boolean {
  return (
    !!c.groups || ((c.optimizer === 'adam' || c.optimizer === 'adamw') && c.options.convention === 'keras')
  );
}
