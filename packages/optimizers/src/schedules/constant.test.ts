import { describe, expect, it } from 'vitest';
import { constantSchedule } from './constant.js';
import { expectValueError } from './testing.js';

describe('constantSchedule', () => {
  it('gives lr at every step (a PyTorch optimizer without a scheduler)', () => {
    const schedule = constantSchedule(1e-3);
    for (const t of [0, 1, 2, 99, 10_000, 2 ** 40]) expect(schedule(t)).toBe(1e-3);
    expect(constantSchedule(0)(5)).toBe(0);
  });

  it('rejects a negative or non-finite lr and bad steps', () => {
    expectValueError(() => constantSchedule(-0.1), 'constantSchedule', 'lr', '-0.1');
    expectValueError(() => constantSchedule(Number.NaN), 'constantSchedule', 'lr', 'NaN');
    expectValueError(() => constantSchedule(Number.POSITIVE_INFINITY), 'constantSchedule', 'lr', 'Infinity');
    const schedule = constantSchedule(0.1);
    expectValueError(() => schedule(-1), 'constantSchedule', 'step', '-1');
    expectValueError(() => schedule(1.5), 'constantSchedule', 'step', '1.5');
    expectValueError(() => schedule(Number.NaN), 'constantSchedule', 'step', 'NaN');
  });
});
