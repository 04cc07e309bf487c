// Test-only: tolerances and shared assertions.
import type { Module, Tensor } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import type { Tolerance } from '@gradkit/test-utils';
import { expectClose } from '@gradkit/test-utils';
import { expect } from 'vitest';
import type { Named, PenaltyCase } from './fixture.js';
import { FIXTURE } from './fixture.js';

/**
 * float32 results against PyTorch's float64 references: pass when
 * |got - want| <= 1e-6 + 1e-5 |want| (a few float32 ulps after a handful of operations).
 */
export const REF: Tolerance = { atol: 1e-6, rtol: 1e-5 };

/** The fixture's penalty case of this name. */
export function penaltyCase(name: PenaltyCase['name']): PenaltyCase {
  const c = FIXTURE.penalties.find((p) => p.name === name);
  if (!c) throw new Error(`no fixture case '${name}'`);
  return c;
}

/**
 * Checks a penalty's value against the case and, after backward(), every parameter's gradient:
 * the case's gradient for the penalized ones, no gradient at all for the others.
 */
export function expectPenaltyMatches(model: Module<never, unknown>, penalty: Tensor, c: PenaltyCase): void {
  expect(penalty.shape).toEqual([]);
  expectClose(penalty, [c.value], REF, `${c.name} value`);
  penalty.backward();
  for (const [name, p] of model.namedParameters()) {
    const want = c.grads[name];
    if (want) expectClose(p.grad!, want.data, REF, `${c.name} grad of ${name}`);
    else expect(p.grad, `${c.name}: ${name} is excluded`).toBeNull();
  }
}

/** Every parameter of the model against the named expected values. */
export function expectParams(
  model: Module<never, unknown>,
  want: Named,
  tol: Tolerance = REF,
  what = '',
): void {
  for (const [name, p] of model.namedParameters()) expectClose(p, want[name].data, tol, `${what} ${name}`);
}

/** Expects `fn` to throw a ValueError whose message names the function, the argument and the value. */
export function expectValueError(fn: () => unknown, op: string, arg: string, value: string): void {
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValueError);
  const message = (error as Error).message;
  expect(message.startsWith(`${op}: `), message).toBe(true);
  expect(message, message).toContain(arg);
  expect(message, message).toContain(value);
}
