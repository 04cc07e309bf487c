import { describe, expect, it } from 'vitest';
import {
  type CosineAnnealingWarmRestartsScheduleOptions,
  cosineAnnealingWarmRestartsSchedule,
} from './cosine-annealing-warm-restarts.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

describe('cosineAnnealingWarmRestartsSchedule (PyTorch CosineAnnealingWarmRestarts)', () => {
  const cases = scheduleCases<CosineAnnealingWarmRestartsScheduleOptions>('cosineAnnealingWarmRestarts');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(cosineAnnealingWarmRestartsSchedule(c.options), c);
  });

  it('holds its TSDoc example: restarts at 10 and 30 with tMult 2', () => {
    const schedule = cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 10, tMult: 2 });
    expect(schedule(0)).toBe(0.1);
    expect(schedule(5)).toBeCloseTo(0.05, 15);
    expect(schedule(9)).toBeLessThan(0.01);
    expect(schedule(10)).toBe(0.1);
    expect(schedule(29)).toBeLessThan(0.001);
    expect(schedule(30)).toBe(0.1);
    expect(schedule(70)).toBe(0.1);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'cosineAnnealingWarmRestartsSchedule';
    expectValueError(() => cosineAnnealingWarmRestartsSchedule({ lr: -1, t0: 10 }), op, 'lr', '-1');
    expectValueError(() => cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 0 }), op, 't0', '0');
    expectValueError(() => cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 1.5 }), op, 't0', '1.5');
    expectValueError(
      () => cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 10, tMult: 0 }),
      op,
      'tMult',
      '0',
    );
    expectValueError(
      () => cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 10, tMult: 1.5 }),
      op,
      'tMult',
      '1.5',
    );
    expectValueError(
      () => cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 10, etaMin: -0.5 }),
      op,
      'etaMin',
      '-0.5',
    );
    expectValueError(
      () => cosineAnnealingWarmRestartsSchedule({ lr: 0.1, t0: 10 })(3.25),
      op,
      'step',
      '3.25',
    );
  });
});
