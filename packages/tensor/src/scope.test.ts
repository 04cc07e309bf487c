import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { ones, tensor, zeros } from './creation.js';
import { Parameter } from './parameter.js';
import { keep, memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';

describe.each(testBackends)('scope and memory on %s', (backend) => {
  const device = useBackend(backend);

  it('disposes what was created inside, except the returned tensor', () => {
    const before = memory();
    let inner: Tensor | null = null;
    const out = scope(() => {
      inner = ones([3]);
      return inner.add(1);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(out.isDisposed).toBe(false);
    expect(memory().tensors).toBe(before.tensors + 1);
    out.dispose();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.arrays).toBe(before.arrays);
    expect(after.buffers).toBe(before.buffers);
    expect(after.bytes).toBe(before.bytes);
  });

  it('returned arrays, objects and Maps of tensors survive, at any depth', () => {
    const before = memory().tensors;
    const r = scope(() => {
      const a = ones([2]);
      const b = zeros([2]);
      const c = ones([1]);
      zeros([5]);
      return { list: [a, { deep: b }], map: new Map([['c', c]]), n: 3 };
    });
    expect(memory().tensors).toBe(before + 3);
    expect(r.list[0]).not.toHaveProperty('isDisposed', true);
    for (const t of [r.list[0] as Tensor, (r.list[1] as { deep: Tensor }).deep, r.map.get('c')!]) {
      expect(t.isDisposed).toBe(false);
      t.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('keep() exempts tensors from every scope', () => {
    let kept: Tensor | null = null;
    let tmp: Tensor | null = null;
    scope(() => {
      scope(() => {
        kept = keep(ones([2]));
        tmp = zeros([2]);
      });
    });
    expect(tmp!.isDisposed).toBe(true);
    expect(kept!.isDisposed).toBe(false);
    kept!.dispose();
  });

  it('nested scopes: a returned tensor moves to the enclosing scope', () => {
    let mid: Tensor | null = null;
    const outer = scope(() => {
      mid = scope(() => ones([2]).mul(2));
      expect(mid.isDisposed).toBe(false);
      return mid.add(1);
    });
    expect(mid!.isDisposed).toBe(true);
    expect(Array.from(outer.dataSync())).toEqual([3, 3]);
    outer.dispose();
  });

  it('an exception disposes the scope and propagates', () => {
    const before = memory().tensors;
    expect(() =>
      scope(() => {
        ones([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory().tensors).toBe(before);
  });

  it('async scopes dispose when the promise settles', async () => {
    const before = memory().tensors;
    let inner: Tensor | null = null;
    const out = await scope(async () => {
      inner = ones([2]);
      await new Promise((r) => setTimeout(r, 1));
      return inner.mul(3);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(Array.from(out.dataSync())).toEqual([3, 3]);
    out.dispose();
    await expect(
      scope(async () => {
        ones([2]);
        await Promise.resolve();
        throw new Error('async boom');
      }),
    ).rejects.toThrow('async boom');
    expect(memory().tensors).toBe(before);
  });

  it('parameters and gradients survive scopes', () => {
    const p = new Parameter([1, 2, 3]);
    scope(() => {
      p.mul(p).sum().backward();
    });
    expect(p.isDisposed).toBe(false);
    expect(p.grad!.isDisposed).toBe(false);
    expect(Array.from(p.grad!.dataSync())).toEqual([2, 4, 6]);
    p.dispose();
    expect(p.grad).toBeNull();
  });

  it('memory() reports tensors and the device counters per device', () =>
    scope(() => {
      const m0 = memory();
      const dev = m0.devices.find((d) => d.device === device());
      const x = tensor([1, 2, 3, 4]);
      const m1 = memory();
      const dev1 = m1.devices.find((d) => d.device === device())!;
      expect(dev1.backend).toBe(backend);
      expect(dev1.tensors).toBe((dev?.tensors ?? 0) + 1);
      expect(dev1.uploads).toBe((dev?.uploads ?? 0) + 1);
      expect(dev1.bytes).toBe((dev?.bytes ?? 0) + 16);
      x.dataSync();
      expect(memory().readbacks).toBe(m1.readbacks + 1);
      const y = x.add(1);
      expect(memory().kernels).toBeGreaterThan(m1.kernels);
      y.dispose();
    }));
});
