import { describe, expect, it } from 'vitest';
import { type StepScheduleOptions, stepSchedule } from './step.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

describe('stepSchedule (PyTorch StepLR)', () => {
  const cases = scheduleCases<StepScheduleOptions>('step');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(stepSchedule(c.options), c);
  });

  it('holds its TSDoc example', () => {
    const schedule = stepSchedule({ lr: 0.05, stepSize: 30 });
    expect(schedule(29)).toBe(0.05);
    expect(schedule(30)).toBeCloseTo(0.005, 15);
    expect(schedule(60)).toBeCloseTo(0.0005, 15);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'stepSchedule';
    expectValueError(() => stepSchedule({ lr: -0.1, stepSize: 3 }), op, 'lr', '-0.1');
    expectValueError(() => stepSchedule({ lr: 0.1, stepSize: 0 }), op, 'stepSize', '0');
    expectValueError(() => stepSchedule({ lr: 0.1, stepSize: 1.5 }), op, 'stepSize', '1.5');
    expectValueError(() => stepSchedule({ lr: 0.1, stepSize: 3, gamma: 0 }), op, 'gamma', '0');
    expectValueError(() => stepSchedule({ lr: 0.1, stepSize: 3, gamma: -0.5 }), op, 'gamma', '-0.5');
    expectValueError(() => stepSchedule({ lr: 0.1, stepSize: 3 })(0.5), op, 'step', '0.5');
  });
});
