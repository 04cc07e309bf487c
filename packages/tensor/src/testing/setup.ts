// Test-only helpers: the backend matrix and shared assertions. Not part of the build.
import type { BackendName, Device } from '@gradkit/kernels';
import { backendsToTest, createDevice, setDevice } from '@gradkit/kernels';
import { afterAll, beforeAll, expect } from 'vitest';
import type { GradcheckOptions } from '../gradcheck.js';
import { gradcheck } from '../gradcheck.js';
import type { Tensor } from '../tensor.js';
import type { Ref } from './reference.js';
import { mismatch } from './reference.js';

/**
 * The backends this run covers (from the kernels' availability API): `GRADKIT_BACKEND` alone when
 * set; every available backend otherwise; a backend named in `GRADKIT_REQUIRE_BACKENDS` that
 * cannot start makes the run fail.
 */
export const testBackends: BackendName[] = backendsToTest();

/** Creates a device on `backend` for the enclosing describe block and makes it the default. */
export function useBackend(backend: BackendName): () => Device {
  let device: Device | null = null;
  beforeAll(() => {
    device = createDevice({ backend });
    setDevice(device);
  });
  afterAll(() => {
    device?.destroy();
  });
  return () => device!;
}

/**
 * Value tolerances against float64 references: |got - want| <= atol + rtol |want|.
 * EXACT for results float32 represents exactly or within one rounding (arithmetic, layout);
 * TRANSCENDENTAL for exp/log/tanh/erf-based results (GL and JS Math differ in the last bits,
 * and the kernels' erf approximation has |error| <= 1.5e-7).
 */
export const EXACT = { atol: 1e-6, rtol: 1e-6 } as const;
export const TRANSCENDENTAL = { atol: 1e-5, rtol: 2e-5 } as const;

/** Expects a tensor's shape and values to match a float64 reference. */
export function expectValues(t: Tensor, want: Ref, tol: { atol: number; rtol: number } = EXACT): void {
  expect([...t.shape]).toEqual(want.shape);
  const m = mismatch(t.dataSync(), want.data, tol.atol, tol.rtol);
  expect(m, m ?? '').toBeNull();
}

/**
 * Gradient-check tolerance for every differentiable op (central differences in float32):
 * eps = 1e-2, pass when |analytic - numeric| <= atol + rtol |numeric| with atol = 1e-3, rtol = 1e-2.
 */
export const GRADCHECK: GradcheckOptions = { eps: 1e-2, atol: 1e-3, rtol: 1e-2 };

/** Runs gradcheck with the stated tolerance and fails with its report. */
export function expectGradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): void {
  const report = gradcheck(fn, inputs, { ...GRADCHECK, ...options });
  expect(report.ok, report.message).toBe(true);
  for (const input of report.inputs)
    if (input.checked)
      expect(input.analytic.some((v) => v !== 0) || input.numeric.every((v) => v === 0)).toBe(true);
}
