import type { Params } from '@gradkit/tensor';
import { memory, Rng, randn } from '@gradkit/tensor';
import { expectClose, loadFixture, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm.js';
import { globalNorm } from './global-norm.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads } from './testing/params.js';

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
const TOL = { rtol: 1e-6, atol: 1e-7 };

function randomGrads(seed: number, scale: number): Params {
  const rng = new Rng(seed);
  return { w: randn([2, 3], { rng, std: scale }), b: randn([2], { rng, std: scale }) };
}

describe.each(testBackends)('clipByGlobalNorm on %s', (backend) => {
  useBackend(backend);

  it.each(fixture.cases.filter((c) => c.kind === 'norm'))(
    `matches torch.nn.utils.clip_grad_norm_ (PyTorch ${fixture.torch}) with maxNorm $maxNorm`,
    (c) => {
      const grads = givenGrads(0);
      const tx = clipByGlobalNorm(c.maxNorm as number);
      const [u] = tx.update(grads, tx.init(grads));
      expectClose(u.w, c.clipped.w, TOL, 'w');
      expectClose(u.b, c.clipped.b, TOL, 'b');
      disposeAll(u, grads);
    },
  );

  // PyTorch divides by norm + 1e-6, so its clipped norm is maxNorm * norm / (norm + 1e-6) and a second
  // clip shrinks by another ~1e-6 / maxNorm: idempotent to float rounding with eps 0 (optax), and to
  // ~1e-6 relative for maxNorm >= 0.5 with PyTorch's eps.
  it.each([
    [
      0,
      [
        [0.5, 1],
        [1, 10],
        [0.001, 0.01],
        [3, 100],
      ],
    ],
    [
      1e-6,
      [
        [0.5, 1],
        [1, 10],
        [3, 100],
      ],
    ],
  ] as const)(
    'with eps %s: clipped norm = maxNorm * norm / (norm + eps) <= maxNorm, and clipping twice equals once',
    (eps, bounds: readonly (readonly [number, number])[]) => {
      bounds.forEach(([maxNorm, std], i) => {
        const grads = randomGrads(i + 1, std);
        const tx = clipByGlobalNorm(maxNorm, { eps });
        const [once] = tx.update(grads, {});
        const [twice] = tx.update(once, {});
        const n0 = globalNorm(grads);
        const n1 = globalNorm(once);
        const before = n0.item();
        expect(before).toBeGreaterThan(maxNorm); // so the bound is active
        expect(n1.item()).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
        expect(Math.abs(n1.item() - (maxNorm * before) / (before + eps))).toBeLessThanOrEqual(2e-6 * maxNorm);
        expectClose(twice.w, once.w.dataSync(), { rtol: 2e-6, atol: 0 }, 'w');
        expectClose(twice.b, once.b.dataSync(), { rtol: 2e-6, atol: 0 }, 'b');
        n0.dispose();
        n1.dispose();
        disposeAll(grads, once, twice);
      });
    },
  );

  it('leaves gradients below the bound exactly unchanged', () => {
    const grads = randomGrads(5, 0.1);
    const tx = clipByGlobalNorm(10);
    const [u] = tx.update(grads, {});
    expect(u.w.dataSync()).toEqual(grads.w.dataSync());
    expect(u.b.dataSync()).toEqual(grads.b.dataSync());
    disposeAll(grads, u);
  });

  it('computes the norm on the device: no read-back', () => {
    const grads = randomGrads(6, 3);
    const before = memory().readbacks;
    const [u] = clipByGlobalNorm(1).update(grads, {});
    expect(memory().readbacks).toBe(before);
    disposeAll(grads, u);
  });

  it('rejects a negative or non-finite bound', () => {
    expectValueError(() => clipByGlobalNorm(-1), 'clipByGlobalNorm: maxNorm must be >= 0, got -1');
    expectValueError(
      () => clipByGlobalNorm(Number.NaN),
      'clipByGlobalNorm: maxNorm must be a finite number, got NaN',
    );
    expectValueError(() => clipByGlobalNorm(1, { eps: -1 }), 'clipByGlobalNorm: eps must be >= 0, got -1');
  });
});
