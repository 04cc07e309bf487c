// Test-only: small named parameters and gradients with the fixtures' shapes (w [2,3], b [2]).
import type { Params } from '@gradkit/tensor';
import { Parameter, tensor } from '@gradkit/tensor';
import { loadOptimizerFixture } from './replay.js';

/** Fresh parameters w [2,3], b [2] from the fixtures' `given` problem. */
export function givenParams(): Record<string, Parameter> {
  const p = loadOptimizerFixture('adam').problems.given.params;
  return {
    w: new Parameter(p.w.data, { shape: p.w.shape }),
    b: new Parameter(p.b.data, { shape: p.b.shape }),
  };
}

/** The fixtures' `given` gradients of step `step` as new tensors. */
export function givenGrads(step: number): Params {
  const g = loadOptimizerFixture('adam').problems.given.grads[step];
  return { w: tensor(g.w, [2, 3]), b: tensor(g.b, [2]) };
}

/** The fixtures' `given` gradients of step `step` as plain arrays. */
export function givenGradValues(step: number): Record<string, number[]> {
  return loadOptimizerFixture('adam').problems.given.grads[step];
}

/** Disposes every tensor of a record. */
export function disposeAll(...records: Params[]): void {
  for (const r of records) for (const t of Object.values(r)) t.dispose();
}
