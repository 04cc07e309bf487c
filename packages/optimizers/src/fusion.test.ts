import type { GradientTransformation, Tensor } from '@gradkit/tensor';
import { memory, noGrad, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adamTransform, chain, scaleByAdam, scaleByLearningRate, sgdTransform } from './index.js';
import { Pending, pending, realize, withoutFusion } from './kernel.js';
import { Affine, ALL_OPTIMIZERS, backwardLsq, lsqData } from './testing/models.js';

// Fusion of an update's kernels (pending values computed together by realize, one
// Device.mapMulti per parameter): every optimizer's parameters and state after several steps
// equal the kernel-by-kernel path bit for bit, on every backend; realize's grouping, order and
// fallbacks are checked on small templates.

const bits = (t: Tensor): number[] => {
  const f = t.dataSync();
  return Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
};

describe.each(testBackends)('fused optimizer updates on %s', (backend) => {
  const device = useBackend(backend);

  it.each(ALL_OPTIMIZERS)('%s: 6 fused steps equal 6 kernel-by-kernel steps bit for bit', (_name, make) => {
    const run = () => {
      const model = new Affine();
      const { x, y, dispose } = lsqData();
      const opt = make(model);
      for (let i = 0; i < 6; i++) {
        backwardLsq(model, x, y);
        opt.step();
        opt.zeroGrad();
      }
      const out = [bits(model.w), bits(model.b)];
      const state = opt.stateDict();
      opt.dispose();
      dispose();
      model.dispose();
      return { out, state: JSON.stringify(state) };
    };
    const fusedRun = run();
    const plain = withoutFusion(run);
    expect(fusedRun.out).toEqual(plain.out);
    expect(fusedRun.state).toEqual(plain.state);
  });

  it('transformations (update mode) fuse too and equal the kernel-by-kernel path', () => {
    const check = <S>(make: () => GradientTransformation<S>) => {
      const run = () =>
        noGrad(() => {
          const params = { w: tensor([0.5, -1, 2, 0.25], [2, 2]), b: tensor([0.1, -0.2]) };
          const grads = { w: tensor([0.3, 0.1, -0.7, 2], [2, 2]), b: tensor([1, -1]) };
          const tx = make();
          let state = tx.init(params);
          const outs: number[][] = [];
          for (let i = 0; i < 3; i++) {
            const [u, next] = tx.update(grads, state, params);
            outs.push(bits(u.w), bits(u.b));
            state = next;
          }
          return outs;
        });
      expect(run()).toEqual(withoutFusion(run));
    };
    check(() => adamTransform({ lr: 0.01, amsgrad: true, weightDecay: 0.01 }));
    check(() => chain(scaleByAdam(), scaleByLearningRate(0.01)));
    check(() => sgdTransform({ lr: 0.1, momentum: 0.9, nesterov: true }));
  });

  it('realize computes a chain of pending values in one pass where the backend fuses', () => {
    const g = tensor([1, -2, 3, 0.5]);
    const m = tensor([0.1, 0.2, 0.3, 0.4]);
    const m2 = pending('t.m', '$b * $m + $c * $g', { m, g }, { b: 0.9, c: 0.1 });
    const sq = pending('t.sq', { stmts: 'let t_s = $m2 * $m2;', expr: 't_s + $one' }, { m2 }, { one: 1 });
    const out = pending('t.out', '$g - $k * $m2 / $sq', { g, m2, sq }, { k: 0.5 });
    const before = device().memory().kernels;
    const [a, b] = realize([m2, out]);
    const launches = device().memory().kernels - before;
    const fuses = typeof device().backend.mapMulti === 'function';
    // fused: one pass, sq only a temporary; gl: one kernel per value, sq stored too
    expect(launches).toBe(fuses ? 1 : 3);
    expect(m2.value).toBe(a);
    expect(out.value).toBe(b);
    if (fuses) expect(sq.value).toBeNull();
    else expect(sq.value).not.toBeNull();
    const f32 = Math.fround;
    const G = [1, -2, 3, 0.5];
    const M = [0.1, 0.2, 0.3, 0.4].map(f32);
    const wantM = G.map((gi, i) => f32(0.9 * M[i] + 0.1 * gi));
    const wantOut = G.map((gi, i) => f32(gi - (0.5 * wantM[i]) / f32(wantM[i] * wantM[i] + 1)));
    Array.from(a.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(wantM[i], 6);
    });
    Array.from(b.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(wantOut[i], 5);
    });
    // the same values one kernel at a time
    const [a1, b1] = withoutFusion(() => {
      const m3 = pending('t.m', '$b * $m + $c * $g', { m, g }, { b: 0.9, c: 0.1 });
      const sq3 = pending('t.sq', { stmts: 'let t_s = $m3 * $m3;', expr: 't_s + $one' }, { m3 }, { one: 1 });
      const out3 = pending('t.out', '$g - $k * $m2 / $sq', { g, m2: m3, sq: sq3 }, { k: 0.5 });
      return realize([m3, out3]);
    });
    expect(bits(a)).toEqual(bits(a1));
    expect(bits(b)).toEqual(bits(b1));
  });

  it('groups by shape, keeps tensors as they are, and computes a value once', () => {
    const v = tensor([1, 2, 3]);
    const s = tensor(4);
    const full = pending('t.full', '$v * 2.0', { v });
    const scalar = pending('t.scalar', '$s + 1.0', { s });
    const both = pending('t.both', '$full + $scalar', { full, scalar });
    expect(both.shape).toEqual([3]);
    expect(scalar.shape).toEqual([]);
    const [x, y, z, w] = realize([full, v, scalar, both]);
    expect(y).toBe(v);
    expect(Array.from(x.dataSync())).toEqual([2, 4, 6]);
    expect(Array.from(z.dataSync())).toEqual([5]);
    expect(Array.from(w.dataSync())).toEqual([7, 9, 11]);
    const before = device().memory().kernels;
    expect(realize([full])[0]).toBe(x); // computed already: no kernel
    expect(full.tensor()).toBe(x);
    expect(device().memory().kernels).toBe(before);
  });

  it('more than six tensor operands: one kernel each, same values, nothing leaked', () => {
    const ts = Array.from({ length: 7 }, (_, i) => tensor([i + 1, -(i + 1)]));
    const live = memory().tensors;
    const run = () => {
      const a = pending('t.a', '$x + $y + $z', { x: ts[0], y: ts[1], z: ts[2] });
      const b = pending('t.b', '$x * $y + $z', { x: ts[3], y: ts[4], z: ts[5] });
      const c = pending('t.c', '$a - $b * $w', { a, b, w: ts[6] });
      return realize([a, c]);
    };
    const [a, c] = run();
    expect(Array.from(a.dataSync())).toEqual([6, -6]);
    // b = [4*5 + 6, 4*5 - 6] = [26, 14]; c = a - b * [7, -7]
    expect(Array.from(c.dataSync())).toEqual([6 - 26 * 7, -6 + 14 * 7]);
    expect(memory().tensors - live).toBe(3); // a, c and the materialized b
    expect(() => pending('t.none', '1.0', {})).toThrow(/needs 1 to 6 inputs, got 0/);
    expect(new Pending('t.p', { expr: '$x' }, { x: ts[0] }, {}).shape).toEqual([2]);
  });
});
