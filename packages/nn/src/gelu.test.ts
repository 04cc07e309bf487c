import { gelu, Rng, scope, tensor, ValueError } from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { GELU } from './activations.js';
import { Linear } from './linear.js';
import { buildModel, describeModel } from './model-spec.js';
import { Sequential } from './sequential.js';

// nn.GELU(approximate=...) and the model-spec 'gelu' layer's `approximate` option. The op itself
// is checked against PyTorch fixtures in @gradkit/tensor (gelu.test.ts); here: the module computes
// that op in both forms (PyTorch 1.13 float32 values at x = 1, -1, 2.5 within 1e-6), Sequential
// fuses it with a Linear without changing values (1e-6) or gradients (finite differences: eps 1e-2,
// atol 1e-3, rtol 1e-2), and model descriptions carry and validate the option.

// torch.nn.GELU(approximate=...)(torch.tensor([1., -1., 2.5])) in PyTorch 1.13, float32
const TORCH = {
  none: [0.8413447141647339, -0.1586552858352661, 2.48447585105896],
  tanh: [0.8411920070648193, -0.15880799293518066, 2.4849157333374023],
};

function data(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  return new Rng(seed).fillUniform(new Float32Array(n), lo, hi);
}

describe.each(testBackends)('GELU module on %s', (backend) => {
  useBackend(backend);

  it('computes the exact form by default and the tanh form with approximate: tanh, as PyTorch', () =>
    scope(() => {
      const x = tensor([1, -1, 2.5], [3]);
      expectClose(new GELU().forward(x), TORCH.none, { atol: 1e-6, rtol: 1e-6 }, 'exact');
      expectClose(
        new GELU({ approximate: 'none' }).forward(x),
        TORCH.none,
        { atol: 1e-6, rtol: 1e-6 },
        'none',
      );
      expectClose(
        new GELU({ approximate: 'tanh' }).forward(x),
        TORCH.tanh,
        { atol: 1e-6, rtol: 1e-6 },
        'tanh',
      );
      const xs = tensor(data(40, 3, -5, 5), [4, 10]);
      expect(Array.from(new GELU({ approximate: 'tanh' }).forward(xs).dataSync())).toEqual(
        Array.from(gelu(xs, { approximate: 'tanh' }).dataSync()),
      );
      expect(new GELU().activation).toBe('gelu');
      expect(new GELU({ approximate: 'tanh' }).activation).toBe('geluTanh');
      expect(new GELU({ approximate: 'tanh' }).approximate).toBe('tanh');
      expect(String(new GELU())).toBe('GELU()');
      expect(String(new GELU({ approximate: 'tanh' }))).toBe("GELU(approximate='tanh')");
    }));

  it('Sequential fuses Linear + GELU(tanh) with the same values and gradients as the unfused path', () =>
    scope(() => {
      const model = new Sequential(
        new Linear(5, 4, { rng: new Rng(1) }),
        new GELU({ approximate: 'tanh' }),
        new Linear(4, 3, { rng: new Rng(2) }),
      );
      const x = tensor(data(6 * 5, 4), [6, 5], { requiresGrad: true });
      const fused = model.forward(x);
      const unfused = model.forwardEach(x, () => {});
      expectClose(fused, unfused.dataSync(), { atol: 1e-6, rtol: 1e-6 }, 'fused vs unfused');
      // the fused path differs from an exact-GELU model: the option reached the fused kernel
      const exact = new Sequential(model.children[0] as Linear, new GELU(), model.children[2] as Linear);
      const diff = Math.max(
        ...Array.from(fused.dataSync(), (v, i) => Math.abs(v - exact.forward(x).dataSync()[i])),
      );
      expect(diff).toBeGreaterThan(1e-5);
      expectGradcheck((xi) => model.forward(xi).square().sum(), [x]);
      const [l0] = model.children as [Linear];
      expectGradcheck(
        (w, b) =>
          new Sequential(new GELU({ approximate: 'tanh' }))
            .forward(x.matmul(w, { transB: true }).add(b))
            .sum(),
        [l0.weight, l0.bias!],
      );
    }));

  it("the model spec's gelu layer takes approximate, round-trips it and validates it", () =>
    scope(() => {
      const layers = [
        { type: 'linear', in: 4, out: 3 },
        { type: 'gelu', approximate: 'tanh' },
        { type: 'linear', in: 3, out: 2 },
        { type: 'gelu' },
      ];
      const model = buildModel(JSON.parse(JSON.stringify(layers)), { rng: new Rng(5) });
      expect((model.children[1] as GELU).approximate).toBe('tanh');
      expect((model.children[3] as GELU).approximate).toBe('none');
      expect(describeModel(model).layers).toEqual(layers);
      expect((buildModel([{ type: 'gelu', approximate: 'none' }]).children[0] as GELU).approximate).toBe(
        'none',
      );
      for (const bad of ['fast', 'Tanh', true, 1, null]) {
        expect(() => buildModel([{ type: 'gelu', approximate: bad }])).toThrow(ValueError);
        expect(() => buildModel([{ type: 'gelu', approximate: bad }])).toThrow(
          `layer 0 (gelu): buildModel: layer 'gelu': 'approximate' must be 'none' or 'tanh', got ${JSON.stringify(bad)}`,
        );
      }
    }));

  it('bad constructor options are ValueErrors naming GELU', () => {
    expect(() => new GELU({ approximate: 'fast' as 'tanh' })).toThrow(
      `GELU: approximate must be one of 'none', 'tanh', got "fast"`,
    );
    expect(() => new GELU({ approx: 'tanh' } as never)).toThrow(/GELU: unknown option 'approx'/);
    expect(() => new GELU('tanh' as never)).toThrow(/GELU: options must be an object/);
  });
});
