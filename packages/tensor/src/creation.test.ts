import { Rng } from '@gradkit/kernels';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { arange, full, ones, onesLike, tensor, zeros, zerosLike } from './creation.js';
import { DisposedError, ShapeError, ValueError } from './errors.js';
import { bernoulli, getRng, manualSeed, rand, randn } from './random.js';
import { scope } from './scope.js';
import { Tensor } from './tensor.js';

describe.each(testBackends)('creation and reading on %s', (backend) => {
  const device = useBackend(backend);

  it('tensor(): scalars, nested arrays, flat arrays with a shape, typed arrays', () =>
    scope(() => {
      const s = tensor(3.5);
      expect(s.shape).toEqual([]);
      expect(s.rank).toBe(0);
      expect(s.size).toBe(1);
      expect(s.item()).toBe(3.5);
      expect(s.toArray()).toBe(3.5);
      const m = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      expect(m.shape).toEqual([2, 3]);
      expect(m.device).toBe(device());
      expect(Array.from(m.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      expect(tensor([1, 2, 3, 4], [2, 2]).toArray()).toEqual([
        [1, 2],
        [3, 4],
      ]);
      expect(tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 1, 2]).toArray()).toEqual([
        [[1, 2]],
        [[3, 4]],
        [[5, 6]],
      ]);
      expect(tensor(new Int32Array([7, 8])).toArray()).toEqual([7, 8]);
      expect(tensor([]).shape).toEqual([0]);
      expect(tensor([0.1]).dataSync()[0]).toBe(Math.fround(0.1));
    }));

  it('tensor(): ragged arrays, bad values and wrong sizes are errors', () =>
    scope(() => {
      expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
      expect(() => tensor([[1, 2], [3]])).toThrow(
        /tensor: ragged nested array: \[1\] should have 2 elements/,
      );
      expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/tensor: 3 values do not fill shape \[2,2\]/);
      expect(() => tensor([[1, 'a']] as unknown as number[][])).toThrow(ValueError);
      expect(() => tensor([1], [1.5])).toThrow(ShapeError);
    }));

  it('zeros, ones, full, zerosLike, onesLike, arange', () =>
    scope(() => {
      expect(zeros([2, 2]).toArray()).toEqual([
        [0, 0],
        [0, 0],
      ]);
      expect(ones([3]).toArray()).toEqual([1, 1, 1]);
      expect(full([2], -2.5).toArray()).toEqual([-2.5, -2.5]);
      const base = ones([2, 3], { requiresGrad: true });
      expect(base.requiresGrad).toBe(true);
      expect(zerosLike(base).shape).toEqual([2, 3]);
      expect(zerosLike(base).requiresGrad).toBe(false);
      expect(
        onesLike(base)
          .dataSync()
          .every((v) => v === 1),
      ).toBe(true);
      expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
      expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
      expect(arange(3, 0, -1).toArray()).toEqual([3, 2, 1]);
      expect(arange(0, 1, 0.3).shape).toEqual([4]);
      expect(() => arange(0, 1, 0)).toThrow(/arange: step must not be zero/);
      expect(() => arange(0, 1, -1)).toThrow(ValueError);
    }));

  it('rand, randn, bernoulli: seeded, reproducible, in range', () =>
    scope(() => {
      manualSeed(123);
      const a = rand([1000]).dataSync();
      manualSeed(123);
      const b = rand([1000]).dataSync();
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(a.every((v) => v >= 0 && v < 1)).toBe(true);
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
      const u = rand([500], { low: -3, high: -1, rng: new Rng(9) }).dataSync();
      expect(u.every((v) => v >= -3 && v < -1)).toBe(true);
      const n = randn([4000], { mean: 2, std: 0.5, rng: new Rng(1) }).dataSync();
      const m = n.reduce((s, v) => s + v, 0) / n.length;
      const sd = Math.sqrt(n.reduce((s, v) => s + (v - m) ** 2, 0) / n.length);
      expect(Math.abs(m - 2)).toBeLessThan(0.05);
      expect(Math.abs(sd - 0.5)).toBeLessThan(0.05);
      const k = bernoulli([4000], 0.3, { rng: new Rng(2) }).dataSync();
      expect(k.every((v) => v === 0 || v === 1)).toBe(true);
      expect(Math.abs(k.reduce((s, v) => s + v, 0) / k.length - 0.3)).toBeLessThan(0.03);
      expect(() => bernoulli([2], 1.5)).toThrow(/p must be in \[0, 1\]/);
      // The explicit rng does not advance the global one.
      manualSeed(5);
      const state = getRng().state();
      rand([3], { rng: new Rng(0) });
      expect(getRng().state()).toEqual(state);
    }));

  it('data() is the awaitable read-back', async () => {
    const x = tensor([1, 2, 3]);
    expect(Array.from(await x.data())).toEqual([1, 2, 3]);
    x.dispose();
    await expect(x.data()).rejects.toThrow(DisposedError);
  });

  it('dispose: idempotent, isDisposed, DisposedError naming the op', () => {
    const x = tensor([1, 2]);
    expect(x.isDisposed).toBe(false);
    x.dispose();
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(() => x.dataSync()).toThrow(DisposedError);
    expect(() => x.dataSync()).toThrow(/dataSync: the array was disposed/);
    expect(() => x.add(1)).toThrow(/add/);
    expect(() => x.item()).toThrow(/item/);
    expect(String(x)).toBe('Tensor([2], disposed)');
  });

  it('item() needs exactly one element; toString reads nothing', () =>
    scope(() => {
      expect(() => tensor([1, 2]).item()).toThrow(/item: needs a tensor with one element, got shape \[2\]/);
      expect(tensor([[5]]).item()).toBe(5);
      const before = device().memory().readbacks;
      expect(String(tensor([1, 2], undefined, { requiresGrad: true }).mul(2))).toBe(
        'Tensor([2], requiresGrad, gradFn=mul)',
      );
      expect(device().memory().readbacks).toBe(before);
    }));

  it('the Tensor constructor wraps a DeviceArray (the bridge to @gradkit/kernels)', () =>
    scope(() => {
      const arr = device().array([1, 2, 3, 4], [2, 2]);
      const x = new Tensor(arr, { requiresGrad: true });
      expect(x.array).toBe(arr);
      expect(x.requiresGrad).toBe(true);
      expect(() => new Tensor({} as never)).toThrow(ValueError);
    }));
});
