// Test-only: assertions on the typed errors of gradkit.
import { ValueError } from '@gradkit/tensor';
import { expect } from 'vitest';

/** Expects `fn` to throw a ValueError whose message is exactly `message`. */
export function expectValueError(fn: () => unknown, message: string): void {
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ValueError '${message}'`).toBeInstanceOf(ValueError);
  expect((error as Error).message).toBe(message);
}
