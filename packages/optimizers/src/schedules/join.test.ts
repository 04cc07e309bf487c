import type { Schedule } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { constantFactorSchedule } from './constant-factor.js';
import { cosineAnnealingSchedule } from './cosine-annealing.js';
import { cosineAnnealingWarmRestartsSchedule } from './cosine-annealing-warm-restarts.js';
import { exponentialSchedule } from './exponential.js';
import { joinSchedules } from './join.js';
import { linearSchedule } from './linear.js';
import { multiStepSchedule } from './multi-step.js';
import { oneCycleSchedule } from './one-cycle.js';
import { polynomialSchedule } from './polynomial.js';
import { stepSchedule } from './step.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

interface Part {
  kind: string;
  options: Record<string, unknown>;
}

// The fixture's inner PyTorch schedulers, built with the TypeScript schedules.
const build: Record<string, (options: never) => Schedule> = {
  constantFactor: constantFactorSchedule,
  cosineAnnealing: cosineAnnealingSchedule,
  cosineAnnealingWarmRestarts: cosineAnnealingWarmRestartsSchedule,
  exponential: exponentialSchedule,
  linear: linearSchedule,
  multiStep: multiStepSchedule,
  polynomial: polynomialSchedule,
  step: stepSchedule,
};

function part({ kind, options }: Part): Schedule {
  const make = build[kind];
  if (make === undefined) throw new Error(`unknown schedule kind ${kind}`);
  return make(options as never);
}

describe('joinSchedules (PyTorch SequentialLR)', () => {
  const cases = scheduleCases<{ schedules: Part[]; milestones: number[] }>('join');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(joinSchedules(c.options.schedules.map(part), c.options.milestones), c);
  });

  it("gives what PyTorch runs for its docstring example (1.0 at the milestone, not the docstring's 0.9)", () => {
    const schedule = joinSchedules(
      [
        constantFactorSchedule({ lr: 1, factor: 0.1, totalIters: 2 }),
        exponentialSchedule({ lr: 1, gamma: 0.9 }),
      ],
      [2],
    );
    expect(schedule(1)).toBe(0.1);
    expect(schedule(2)).toBe(1);
    expect(schedule(3)).toBe(0.9);
  });

  it('holds its TSDoc example', () => {
    const schedule = joinSchedules(
      [
        linearSchedule({ lr: 0.1, startFactor: 0.1, totalIters: 5 }),
        cosineAnnealingSchedule({ lr: 0.1, tMax: 95 }),
      ],
      [5],
    );
    const want = [0.01, 0.028, 0.082, 0.1, 0];
    [0, 1, 4, 5, 100].forEach((t, i) => {
      expect(schedule(t)).toBeCloseTo(want[i], 15);
    });
  });

  it('passes the errors of an inner schedule through (one-cycle past its end)', () => {
    const schedule = joinSchedules(
      [linearSchedule({ lr: 0.1 }), oneCycleSchedule({ maxLr: 0.1, totalSteps: 10 })],
      [5],
    );
    expect(schedule(15)).toBeGreaterThan(0);
    expectValueError(() => schedule(16), 'oneCycleSchedule', 'step', '11');
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'joinSchedules';
    const a = linearSchedule({ lr: 0.1 });
    const b = exponentialSchedule({ lr: 0.1, gamma: 0.9 });
    expectValueError(() => joinSchedules([], []), op, 'schedules', '[]');
    expectValueError(() => joinSchedules([a, 0.1 as unknown as Schedule], [3]), op, 'schedules[1]', '0.1');
    expectValueError(() => joinSchedules([a, b], []), op, 'milestones', '[]');
    expectValueError(() => joinSchedules([a, b], [3, 6]), op, 'milestones', '[3,6]');
    expectValueError(() => joinSchedules([a, b], [0]), op, 'milestones[0]', '0');
    expectValueError(() => joinSchedules([a, b], [2.5]), op, 'milestones[0]', '2.5');
    expectValueError(() => joinSchedules([a, b, a], [6, 6]), op, 'milestones', '[6,6]');
    expectValueError(() => joinSchedules([a, b, a], [6, 3]), op, 'milestones', '[6,3]');
    expectValueError(() => joinSchedules([a, b], [3])(-1), op, 'step', '-1');
  });
});
