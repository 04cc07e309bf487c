// Test-only helpers for the schedule tests (not exported from the barrel, not part of the build).
import { readFileSync } from 'node:fs';
import type { Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { expect } from 'vitest';

/** One configuration recorded by fixtures/schedules_generate.py (PyTorch 1.13). */
export interface ScheduleCase<O = Record<string, unknown>> {
  /** The options, with the TypeScript names. */
  options: O;
  /** The number of `scheduler.step()` calls recorded after construction. */
  steps: number;
  /** PyTorch's lr at each recorded step (every step, or `sampledSteps`). */
  values: number[];
  /** For long runs: the steps whose values were kept. */
  sampledSteps?: number[];
  /** OneCycleLR only: the cycled momentum at every step. */
  momentum?: number[];
}

interface ScheduleFixtures {
  torch: string;
  schedules: Record<string, ScheduleCase[]>;
}

const FIXTURES = new URL('../../fixtures/schedules.json', import.meta.url);

/** The recorded configurations of one schedule kind (`'step'`, `'cosineAnnealing'`, ...). */
export function scheduleCases<O>(kind: string): ScheduleCase<O>[] {
  const all = JSON.parse(readFileSync(FIXTURES, 'utf8')) as ScheduleFixtures;
  const cases = all.schedules[kind];
  if (cases === undefined || cases.length === 0) throw new Error(`no fixtures for ${kind}`);
  return cases as ScheduleCase<O>[];
}

/** Reads a JSON file next to the schedule fixtures. */
export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** The tolerance of every replayed sequence: |got - want| <= 1e-12 |want| (so 0 must be exactly 0). */
export const RTOL = 1e-12;

/** The steps a case recorded. */
export function stepsOf(c: ScheduleCase<unknown>): number[] {
  return c.sampledSteps ?? Array.from({ length: c.steps + 1 }, (_, i) => i);
}

/** The largest |got - want| / |want| (0 where both are 0; Infinity where only want is 0). */
export function maxRelativeError(got: readonly number[], want: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (d === 0) continue;
    worst = Math.max(worst, want[i] === 0 ? Number.POSITIVE_INFINITY : d / Math.abs(want[i]));
    if (Number.isNaN(d)) return Number.NaN;
  }
  return worst;
}

/** Expects `schedule` at the case's steps to equal PyTorch's values within {@link RTOL}. */
export function expectMatches(schedule: Schedule, c: ScheduleCase<unknown>, want: number[] = c.values): void {
  const steps = stepsOf(c);
  expect(want.length).toBe(steps.length);
  const got = steps.map((t) => schedule(t));
  for (let i = 0; i < steps.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= RTOL * Math.abs(want[i]);
    if (!ok) {
      expect.fail(
        `${JSON.stringify(c.options)}: step ${steps[i]}: got ${got[i]}, PyTorch ${want[i]} (rtol ${RTOL})`,
      );
    }
  }
  expect(maxRelativeError(got, want)).toBeLessThanOrEqual(RTOL);
}

/** A short name for a case in test titles. */
export function title(c: ScheduleCase<unknown>): string {
  return `${JSON.stringify(c.options)}, ${c.steps} steps`;
}

/**
 * Expects `fn` to throw a `ValueError` from `op` whose message names `argument` and shows
 * `shown` (the rejected value as the message prints it).
 */
export function expectValueError(fn: () => unknown, op: string, argument: string, shown: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `${op}: expected a ValueError for ${argument} = ${shown}`).toBeInstanceOf(ValueError);
  const error = thrown as ValueError;
  expect(error.op).toBe(op);
  expect(error.message).toContain(`${op}: `);
  expect(error.message).toContain(argument);
  expect(error.message).toContain(`got ${shown}`);
}
