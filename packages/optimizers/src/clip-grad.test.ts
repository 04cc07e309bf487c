import { Parameter, tensor } from '@gradkit/tensor';
import { expectClose, loadFixture, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradValue } from './clip-grad.js';
import { expectValueError } from './testing/errors.js';
import { givenGradValues } from './testing/params.js';

interface ClippingFixture {
  readonly torch: string;
  readonly cases: {
    kind: 'norm' | 'value';
    maxNorm?: number;
    clipValue?: number;
    totalNorm?: number;
    clipped: Record<string, number[]>;
  }[];
}
const fixture = loadFixture<ClippingFixture>(new URL('../fixtures/clipping.json', import.meta.url));

function withGrads() {
  const g = givenGradValues(0);
  const w = new Parameter([0, 0, 0, 0, 0, 0], { shape: [2, 3] });
  const b = new Parameter([0, 0]);
  const frozen = new Parameter([1]);
  w.grad = tensor(g.w, [2, 3]);
  b.grad = tensor(g.b, [2]);
  return {
    w,
    b,
    frozen,
    dispose: () => {
      for (const p of [w, b, frozen]) p.dispose();
    },
  };
}

describe.each(testBackends)('clipGradNorm / clipGradValue on %s', (backend) => {
  useBackend(backend);

  it.each(fixture.cases.filter((c) => c.kind === 'norm'))(
    `clipGradNorm clips .grad in place and returns the norm, as clip_grad_norm_ (maxNorm $maxNorm)`,
    (c) => {
      const { w, b, frozen, dispose } = withGrads();
      const norm = clipGradNorm({ w, b, frozen }, c.maxNorm as number);
      expect(norm.item()).toBeCloseTo(c.totalNorm as number, 5);
      expectClose(w.grad!, c.clipped.w, { rtol: 1e-6, atol: 1e-7 }, 'w');
      expectClose(b.grad!, c.clipped.b, { rtol: 1e-6, atol: 1e-7 }, 'b');
      expect(frozen.grad).toBeNull();
      norm.dispose();
      dispose();
    },
  );

  it.each(fixture.cases.filter((c) => c.kind === 'value'))(
    'clipGradValue clips .grad in place, as clip_grad_value_ (clipValue $clipValue)',
    (c) => {
      const { w, b, dispose } = withGrads();
      clipGradValue([w, b], c.clipValue as number);
      expectClose(w.grad!, c.clipped.w, { rtol: 0, atol: 0 }, 'w');
      expectClose(b.grad!, c.clipped.b, { rtol: 0, atol: 0 }, 'b');
      dispose();
    },
  );

  it('rejects bad bounds', () => {
    const { w, dispose } = withGrads();
    expectValueError(() => clipGradNorm([w], -1), 'clipGradNorm: maxNorm must be >= 0, got -1');
    expectValueError(
      () => clipGradValue([w], Number.POSITIVE_INFINITY),
      'clipGradValue: clipValue must be a finite number, got Infinity',
    );
    dispose();
  });
});
