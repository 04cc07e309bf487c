import {
  getRng,
  manualSeed,
  memory,
  noGrad,
  ones,
  Rng,
  randn,
  ShapeError,
  scope,
  tensor,
  ValueError,
} from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { Dropout2d, dropout2d } from './dropout2d.js';
import { expectWithin, FIXTURE, hostUniforms } from './testing/stats.js';

// Spatial dropout: one Bernoulli(1 - p) per (sample, channel). The fraction of kept channels over
// N * C = 2048 draws is checked within 5 standard errors (se = sqrt(p (1 - p) / 2048)); masks are
// compared channel by channel with the host reference (the generator's uniforms in (n, c) order,
// kept when u >= p), so every backend keeps the same channels; kept values are exactly
// float32(x * float32(1 / (1 - p))), PyTorch's scale (fixtures/dropout.json).

const [N, C, H, W] = [64, 32, 3, 2];
const HW = H * W;

/** Per (n, c) block of `hw` values: 'kept' (all equal `scale` times x), 'dropped' (all 0), or a description of what is wrong. */
function blocks(
  y: Float32Array,
  x: Float32Array,
  hw: number,
  scale: number,
): ('kept' | 'dropped' | string)[] {
  const out: string[] = [];
  for (let b = 0; b < y.length / hw; b++) {
    let zeros = 0;
    let scaled = 0;
    for (let k = b * hw; k < (b + 1) * hw; k++) {
      if (y[k] === 0 && x[k] !== 0) zeros++;
      if (y[k] === Math.fround(x[k] * scale)) scaled++;
    }
    out.push(
      zeros === hw
        ? 'dropped'
        : scaled === hw
          ? 'kept'
          : `block ${b}: ${zeros} zeros, ${scaled} scaled of ${hw}`,
    );
  }
  return out;
}

describe('dropout2d: PyTorch reference', () => {
  it.each(FIXTURE.dropout2d)('p = $p: one draw per (n, c), kept channels scaled by $scale', (c) => {
    expect(c.constantOverHW).toBe(true);
    expect(c.gradEqualsOutput).toBe(true);
    expect(Math.fround(1 / (1 - c.p))).toBe(c.scale);
    const draws = c.shape[0] * c.shape[1];
    expectWithin(c.channelKeepRate, 1 - c.p, Math.sqrt((c.p * (1 - c.p)) / draws), 'torch channel keep rate');
    expect(FIXTURE.dropout2dEvalIsInput).toBe(true);
  });
});

describe.each(testBackends)('dropout2d on %s', (backend) => {
  useBackend(backend);

  it.each(FIXTURE.dropout2d.map((c) => c.p))(
    'p = %d: whole channels kept or zeroed, kept fraction 1 - p, kept values 1/(1-p)',
    (p) => {
      const x = ones([N, C, H, W]);
      const y = dropout2d(x, p, { rng: new Rng(200) });
      const states = blocks(y.dataSync(), x.dataSync(), HW, Math.fround(1 / (1 - p)));
      y.dispose();
      x.dispose();
      const bad = states.filter((s) => s !== 'kept' && s !== 'dropped');
      expect(bad).toEqual([]);
      const kept = states.filter((s) => s === 'kept').length;
      expectWithin(kept / (N * C), 1 - p, Math.sqrt((p * (1 - p)) / (N * C)), 'channel keep rate');
    },
  );

  it('the mask is the host reference: channel (n, c) kept iff uniform n * C + c of the generator >= p', () =>
    scope(() => {
      const p = 0.3;
      const x = randn([N, C, H, W], { rng: new Rng(1) });
      const y = dropout2d(x, p, { rng: new Rng(123) });
      const states = blocks(y.dataSync(), x.dataSync(), HW, Math.fround(1 / (1 - p)));
      const u = hostUniforms(new Rng(123), N * C);
      const want = Array.from(u, (v) => (v >= p ? 'kept' : 'dropped'));
      expect(states).toEqual(want);
    }));

  it('an unbatched [C, H, W] input gets one draw per channel (PyTorch 2 semantics)', () =>
    scope(() => {
      const p = 0.5;
      const x = randn([16, 2, 3], { rng: new Rng(2) });
      const y = dropout2d(x, p, { rng: new Rng(9) });
      expect(y.shape).toEqual([16, 2, 3]);
      const u = hostUniforms(new Rng(9), 16);
      expect(blocks(y.dataSync(), x.dataSync(), 6, 2)).toEqual(
        Array.from(u, (v) => (v >= p ? 'kept' : 'dropped')),
      );
    }));

  it('gradients flow only through kept channels, scaled by 1/(1-p); finite differences agree', () =>
    scope(() => {
      const p = 0.4;
      const shape = [2, 3, 2, 2];
      const x = randn(shape, { rng: new Rng(3), requiresGrad: true });
      const dy = randn(shape, { rng: new Rng(4) });
      dropout2d(x, p, { rng: new Rng(5) }).backward(dy);
      const u = hostUniforms(new Rng(5), 6);
      const g = x.grad!.dataSync();
      const d = dy.dataSync();
      const scale = Math.fround(1 / (1 - p));
      for (let i = 0; i < 24; i++) {
        // a dropped channel's gradient is dy * 0: +0 or -0, as PyTorch's
        if (u[Math.floor(i / 4)] >= p) expect(g[i]).toBe(Math.fround(d[i] * scale));
        else expect(g[i] === 0, `element ${i}: ${g[i]}`).toBe(true);
      }
      expect(u.some((v) => v < p) && u.some((v) => v >= p)).toBe(true); // both cases occur
      expectGradcheck(
        (t) =>
          dropout2d(t, p, { rng: new Rng(5) })
            .mul(dy)
            .sum(),
        [randn(shape, { rng: new Rng(6), requiresGrad: true })],
      );
    }));

  it('eval, training: false and p = 0 return the input itself with no random draw; the module follows its mode', () =>
    scope(() => {
      const x = randn([2, 3, 2, 2], { rng: new Rng(7) });
      const rng = new Rng(8);
      const state = rng.state();
      const globalState = getRng().state();
      const m = new Dropout2d(0.5, { rng }).eval();
      expect(m.forward(x)).toBe(x);
      expect(dropout2d(x, 0.5, { training: false, rng })).toBe(x);
      expect(dropout2d(x, 0, { rng })).toBe(x);
      expect(rng.state()).toEqual(state);
      expect(getRng().state()).toEqual(globalState);
      m.train();
      expect(m.forward(x)).not.toBe(x);
      expect(rng.state()).not.toEqual(state);
      expect(String(m)).toBe('Dropout2d(p=0.5)');
    }));

  it('same seed, same mask; the module draws from the global generator by default', () =>
    scope(() => {
      const x = ones([4, 8, 2, 2]);
      const a = dropout2d(x, 0.5, { rng: new Rng(10) }).dataSync();
      expect(dropout2d(x, 0.5, { rng: new Rng(10) }).dataSync()).toEqual(a);
      expect(dropout2d(x, 0.5, { rng: new Rng(11) }).dataSync()).not.toEqual(a);
      const saved = getRng().state();
      try {
        manualSeed(12);
        const g = new Dropout2d().forward(x).dataSync();
        manualSeed(12);
        expect(dropout2d(x).dataSync()).toEqual(g); // default p = 0.5, training = true
      } finally {
        getRng().setState(saved);
      }
    }));

  it('one upload (N * C uniforms) and one kernel forward, one kernel backward; nothing leaks', () => {
    const x = randn([2, 3, 2, 2], { rng: new Rng(13), requiresGrad: true });
    const g = ones([2, 3, 2, 2]);
    const m0 = memory();
    const y = dropout2d(x, 0.5, { rng: new Rng(14) });
    const m1 = memory();
    expect(m1.kernels - m0.kernels).toBe(1);
    expect(m1.uploads - m0.uploads).toBe(1);
    expect(m1.bytes - m0.bytes).toBe(4 * (6 + 24)); // the [2,3,1,1] mask and the output
    y.backward(g);
    expect(memory().kernels - m1.kernels).toBe(1);
    y.dispose();
    x.grad = null;
    const arrays = memory().arrays;
    scope(() => dropout2d(x, 0.5, { rng: new Rng(15) }).backward(g));
    x.grad = null;
    scope(() => {
      noGrad(() => dropout2d(x, 0.5, { rng: new Rng(16) })); // no graph: the mask is freed at once
    });
    expect(memory().arrays).toBe(arrays);
    x.dispose();
    g.dispose();
  });

  it('errors name the function or layer, the shape and the value', () =>
    scope(() => {
      for (const shape of [[4, 3], [2, 3, 2, 2, 2], [5]]) {
        expect(() => dropout2d(randn(shape), 0.5)).toThrow(ShapeError);
        expect(() => dropout2d(randn(shape), 0.5)).toThrow(
          `dropout2d: expects an input [N, C, H, W] or [C, H, W] (one mask value per channel), got shape [${shape.join(',')}]`,
        );
      }
      const m = new Dropout2d(0.5);
      expect(() => m.forward(randn([4, 3]))).toThrow(/^Dropout2d: expects an input \[N, C, H, W\]/);
      m.eval();
      expect(() => m.forward(randn([4, 3]))).toThrow(ShapeError); // the shape is wrong in eval mode too
      const x = ones([1, 2, 2, 2]);
      expect(() => dropout2d(x, 1.5)).toThrow('dropout2d: p must be in [0, 1), got 1.5');
      expect(() => dropout2d(x, 1)).toThrow(ValueError);
      expect(() => new Dropout2d(-0.1)).toThrow('Dropout2d: p must be in [0, 1), got -0.1');
      expect(() => dropout2d(x, 0.5, { training: 'yes' as unknown as boolean })).toThrow(
        'dropout2d: training must be a boolean, got "yes"',
      );
      const gone = tensor([1, 2]);
      gone.dispose();
      expect(() => dropout2d(gone, 0.5)).toThrow('dropout2d: the input tensor was disposed');
    }));
});
