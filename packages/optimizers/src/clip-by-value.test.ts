import { tensor } from '@gradkit/tensor';
import { expectClose, loadFixture, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { clipByValue } from './clip-by-value.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads } from './testing/params.js';

interface ClippingFixture {
  readonly torch: string;
  readonly cases: { kind: 'norm' | 'value'; clipValue?: number; clipped: Record<string, number[]> }[];
}
const fixture = loadFixture<ClippingFixture>(new URL('../fixtures/clipping.json', import.meta.url));

describe.each(testBackends)('clipByValue on %s', (backend) => {
  useBackend(backend);

  it.each(fixture.cases.filter((c) => c.kind === 'value'))(
    `matches torch.nn.utils.clip_grad_value_ (PyTorch ${fixture.torch}) with clipValue $clipValue`,
    (c) => {
      const grads = givenGrads(0);
      const [u] = clipByValue(c.clipValue as number).update(grads, {});
      expectClose(u.w, c.clipped.w, { rtol: 0, atol: 0 }, 'w');
      expectClose(u.b, c.clipped.b, { rtol: 0, atol: 0 }, 'b');
      disposeAll(u, grads);
    },
  );

  it('bounds every element, is idempotent and keeps NaN', () => {
    const grads = { g: tensor([-3, -0.2, 0, 0.2, 3, Number.NaN]) };
    const tx = clipByValue(0.5);
    const [once] = tx.update(grads, {});
    const [twice] = tx.update(once, {});
    const v = once.g.dataSync();
    expect(Array.from(v.slice(0, 5))).toEqual([-0.5, Math.fround(-0.2), 0, Math.fround(0.2), 0.5]);
    expect(Number.isNaN(v[5])).toBe(true);
    expect(twice.g.dataSync()).toEqual(v);
    disposeAll(grads, once, twice);
  });

  it('rejects a negative bound', () => {
    expectValueError(() => clipByValue(-0.5), 'clipByValue: clipValue must be >= 0, got -0.5');
  });
});
