import { describe, expect, it } from 'vitest';
import { type MultiStepScheduleOptions, multiStepSchedule } from './multi-step.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

describe('multiStepSchedule (PyTorch MultiStepLR)', () => {
  const cases = scheduleCases<MultiStepScheduleOptions>('multiStep');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(multiStepSchedule(c.options), c);
  });

  it('holds its TSDoc example', () => {
    const schedule = multiStepSchedule({ lr: 0.05, milestones: [30, 80] });
    expect(schedule(29)).toBe(0.05);
    expect(schedule(30)).toBeCloseTo(0.005, 15);
    expect(schedule(80)).toBeCloseTo(0.0005, 15);
  });

  it('is constant without milestones, and does not keep a reference to the caller array', () => {
    expect(multiStepSchedule({ lr: 0.1, milestones: [] })(1000)).toBe(0.1);
    const milestones = [2, 4];
    const schedule = multiStepSchedule({ lr: 1, milestones, gamma: 0.5 });
    milestones[0] = 100;
    expect(schedule(3)).toBe(0.5);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'multiStepSchedule';
    expectValueError(() => multiStepSchedule({ lr: -1, milestones: [1] }), op, 'lr', '-1');
    expectValueError(() => multiStepSchedule({ lr: 0.1, milestones: [1], gamma: 0 }), op, 'gamma', '0');
    expectValueError(() => multiStepSchedule({ lr: 0.1, milestones: [5, 5] }), op, 'milestones', '[5,5]');
    expectValueError(() => multiStepSchedule({ lr: 0.1, milestones: [30, 10] }), op, 'milestones', '[30,10]');
    expectValueError(() => multiStepSchedule({ lr: 0.1, milestones: [-1, 3] }), op, 'milestones[0]', '-1');
    expectValueError(() => multiStepSchedule({ lr: 0.1, milestones: [1, 2.5] }), op, 'milestones[1]', '2.5');
    expectValueError(
      () => multiStepSchedule({ lr: 0.1, milestones: 3 as unknown as number[] }),
      op,
      'milestones',
      '3',
    );
  });
});
