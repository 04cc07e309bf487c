import { describe, expect, it } from 'vitest';
import { type CosineAnnealingScheduleOptions, cosineAnnealingSchedule } from './cosine-annealing.js';
import {
  expectMatches,
  expectValueError,
  maxRelativeError,
  RTOL,
  scheduleCases,
  stepsOf,
  title,
} from './testing.js';

describe('cosineAnnealingSchedule (PyTorch CosineAnnealingLR)', () => {
  const cases = scheduleCases<CosineAnnealingScheduleOptions>('cosineAnnealing');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(cosineAnnealingSchedule(c.options), c);
  });

  it("follows PyTorch's recursion, which the closed form misses by more than 1e-12 on a long run", () => {
    const long = cases.find((c) => c.steps >= 20_000);
    expect(long).toBeDefined();
    const c = long!;
    const { lr, tMax, etaMin = 0 } = c.options;
    const closed = stepsOf(c).map((t) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
    expect(maxRelativeError(closed, c.values)).toBeGreaterThan(RTOL);
    expect(
      maxRelativeError(stepsOf(c).map(cosineAnnealingSchedule(c.options)), c.values),
    ).toBeLessThanOrEqual(RTOL);
  });

  it('gives the same values whatever order the steps are asked in (the memo is invisible)', () => {
    const options = { lr: 0.1, tMax: 10, etaMin: 0.001 };
    const fresh = cosineAnnealingSchedule(options);
    const forward = Array.from({ length: 5000 }, (_, t) => fresh(t));
    const shared = cosineAnnealingSchedule(options);
    const backward: number[] = [];
    for (let t = 4999; t >= 0; t--) backward[t] = shared(t);
    expect(backward).toEqual(forward);
    const random = cosineAnnealingSchedule(options);
    for (const t of [4000, 3, 2500, 4999, 0, 1024, 1023, 2048, 4096]) expect(random(t)).toBe(forward[t]);
  });

  it('holds its TSDoc example', () => {
    const schedule = cosineAnnealingSchedule({ lr: 0.1, tMax: 100, etaMin: 1e-5 });
    expect(schedule(0)).toBe(0.1);
    expect(schedule(50)).toBeCloseTo(0.050005, 12);
    expect(schedule(100)).toBeCloseTo(1e-5, 15);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'cosineAnnealingSchedule';
    expectValueError(() => cosineAnnealingSchedule({ lr: -0.1, tMax: 10 }), op, 'lr', '-0.1');
    expectValueError(() => cosineAnnealingSchedule({ lr: 0.1, tMax: 0 }), op, 'tMax', '0');
    expectValueError(() => cosineAnnealingSchedule({ lr: 0.1, tMax: -5 }), op, 'tMax', '-5');
    expectValueError(() => cosineAnnealingSchedule({ lr: 0.1, tMax: 2.5 }), op, 'tMax', '2.5');
    expectValueError(
      () => cosineAnnealingSchedule({ lr: 0.1, tMax: 10, etaMin: -1e-3 }),
      op,
      'etaMin',
      '-0.001',
    );
    expectValueError(() => cosineAnnealingSchedule({ lr: 0.1, tMax: 10 })(-2), op, 'step', '-2');
  });
});
