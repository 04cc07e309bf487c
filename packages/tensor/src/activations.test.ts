import type { Device } from '@gradkit/kernels';
import { expectGradcheck, expectValues, TRANSCENDENTAL, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it, vi } from 'vitest';
import type { Activation } from './activations.js';
import { elu, gelu, leakyRelu, relu, selu, sigmoid, softplus, tanh } from './activations.js';
import { tensor, zeros } from './creation.js';
import { ShapeError, ValueError } from './errors.js';
import { biasActivation, linear } from './linear.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { erf64, map64, matmul64, ref, smooth } from './testing/reference.js';

// Values against float64 references written from the definitions (TRANSCENDENTAL tolerance:
// 1e-5 abs + 2e-5 rel); gradients by gradcheck (eps 1e-2, atol 1e-3, rtol 1e-2) on inputs at
// least 0.05 away from 0 (the kink of relu / leakyRelu / selu).

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const SELU_A = 1.6732632423543772;
const SELU_S = 1.0507009873554805;
const sig64 = (x: number) => 1 / (1 + Math.exp(-x));

const REF: Record<Exclude<Activation, 'identity'>, (x: number) => number> = {
  relu: (x) => Math.max(x, 0),
  leakyRelu: (x) => (x > 0 ? x : 0.01 * x),
  sigmoid: sig64,
  tanh: Math.tanh,
  gelu: (x) => 0.5 * x * (1 + erf64(x / Math.SQRT2)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  selu: (x) => SELU_S * (x > 0 ? x : SELU_A * Math.expm1(x)),
  softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
};
const FN: Record<Exclude<Activation, 'identity'>, (x: Tensor) => Tensor> = {
  relu,
  leakyRelu: (x) => leakyRelu(x),
  sigmoid,
  tanh,
  gelu,
  geluTanh: (x) => gelu(x, { approximate: 'tanh' }),
  selu,
  softplus,
  elu,
};
const GRAD_OP: Record<Exclude<Activation, 'identity'>, string> = {
  relu: 'reluGrad',
  leakyRelu: 'leakyReluGrad',
  sigmoid: 'sigmoidGrad',
  tanh: 'tanhGrad',
  gelu: 'geluGrad',
  geluTanh: 'geluTanhGrad',
  selu: 'seluGrad',
  softplus: 'softplusGrad',
  elu: 'eluGrad',
};

const WIDE = ref([-30, -21, -5, -2.5, -1, -0.3, 0, 0.3, 1, 2.5, 5, 21], [3, 4]);
const X = ref(smooth(12, 31, -3, 3, 0.05), [3, 4]);
const Z = ref(smooth(6, 32, -2, 2, 0.05), [2, 3]);
const BIAS = ref([0.25, -0.4, 0.1], [3]);

describe.each(testBackends)('activations on %s', (backend) => {
  const device = useBackend(backend);

  for (const name of Object.keys(REF) as Exclude<Activation, 'identity'>[]) {
    it(`${name}: values (including |x| > 20 and 0)`, () =>
      scope(() => {
        expectValues(FN[name](t(WIDE)), map64(REF[name], WIDE), TRANSCENDENTAL);
      }));

    it(`${name}: gradient (gradcheck) uses the fused ${GRAD_OP[name]} kernel`, () =>
      scope(() => {
        expectGradcheck((a) => FN[name](a), [t(X, true)]);
        const spy = vi.spyOn(device() as Device, 'activationGrad');
        try {
          const x = t(X, true);
          FN[name](x).sum().backward();
          expect(spy.mock.calls.map((c) => c[0])).toEqual([GRAD_OP[name]]);
        } finally {
          spy.mockRestore();
        }
      }));

    it(`biasActivation(${name}): fused values and gradients for x and bias`, () =>
      scope(() => {
        const want = map64((z, b) => REF[name](z + b), Z, BIAS);
        expectValues(biasActivation(t(Z), t(BIAS), name), want, TRANSCENDENTAL);
        expectGradcheck((a, b) => biasActivation(a, b, name), [t(Z, true), t(BIAS, true)]);
      }));
  }

  it('leakyRelu with another slope; biasActivation identity', () =>
    scope(() => {
      expectValues(
        leakyRelu(t(X), 0.2),
        map64((x) => (x > 0 ? x : 0.2 * x), X),
        TRANSCENDENTAL,
      );
      expectGradcheck((a) => leakyRelu(a, 0.2), [t(X, true)]);
      expectGradcheck((a) => leakyRelu(a, -0.5), [t(X, true)]);
      expectGradcheck((a, b) => biasActivation(a, b, 'leakyRelu', -0.5), [t(Z, true), t(BIAS, true)]);
      expectValues(
        biasActivation(t(Z), t(BIAS)),
        map64((z, b) => z + b, Z, BIAS),
        TRANSCENDENTAL,
      );
      expectGradcheck((a, b) => biasActivation(a, b), [t(Z, true), t(BIAS, true)]);
    }));

  it('sigmoid and tanh stay finite and accurate at large |x|', () =>
    scope(() => {
      // sigmoid(-30) = 9.4e-14 keeps full relative accuracy (no 1 - e^x cancellation).
      expectValues(sigmoid(tensor([-30, 30])), ref([sig64(-30), sig64(30)], [2]), TRANSCENDENTAL);
      // sigmoid(-100) = 3.7e-44 is a float32 denormal, which GL flushes to 0: only bound it.
      const s = sigmoid(tensor([-100, 100])).dataSync();
      expect(s[0]).toBeGreaterThanOrEqual(0);
      expect(s[0]).toBeLessThan(1e-40);
      expect(s[1]).toBe(1);
      expect(Array.from(tanh(tensor([-100, 100])).dataSync())).toEqual([-1, 1]);
    }));

  it('biasActivation: bias must broadcast to x; unknown activation', () =>
    scope(() => {
      expect(() => biasActivation(t(Z), tensor([1, 2]), 'relu')).toThrow(ShapeError);
      expect(() => biasActivation(t(BIAS), t(Z), 'relu')).toThrow(
        /biasActivation: bias \[2,3\] must broadcast to x \[3\]/,
      );
      expect(() => biasActivation(t(Z), t(BIAS), 'swish' as Activation)).toThrow(ValueError);
    }));

  const XL = ref(smooth(8, 41, -1.5, 1.5, 0.02), [2, 4]);
  const W = ref(smooth(12, 42, -1, 1, 0.02), [3, 4]);
  const linearRef = (act: (v: number) => number) =>
    map64((z, b) => act(z + b), matmul64(XL, W, false, true), BIAS);

  it('linear: act(x W^T + b) values and gradients for x, W and b', () =>
    scope(() => {
      expectValues(
        linear(t(XL), t(W), t(BIAS)),
        linearRef((v) => v),
        TRANSCENDENTAL,
      );
      expectValues(
        linear(t(XL), t(W), t(BIAS), { activation: 'tanh' }),
        linearRef(Math.tanh),
        TRANSCENDENTAL,
      );
      expectValues(
        linear(t(XL), t(W), null, { activation: 'gelu' }),
        map64(REF.gelu, matmul64(XL, W, false, true)),
        TRANSCENDENTAL,
      );
      expectGradcheck(
        (x, w, b) => linear(x, w, b, { activation: 'tanh' }),
        [t(XL, true), t(W, true), t(BIAS, true)],
      );
      expectGradcheck((x, w) => linear(x, w), [t(XL, true), t(W, true)]);
      expectGradcheck((x, w) => linear(x, w, null, { activation: 'sigmoid' }), [t(XL, true), t(W, true)]);
    }));

  it('linear: its matmul intermediate is freed with the result (no scope needed)', () => {
    const x = t(XL);
    const w = t(W, true);
    const b = t(BIAS, true);
    const before = memory();
    const y = linear(x, w, b, { activation: 'relu' });
    y.sum().dispose();
    y.dispose();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.buffers).toBe(before.buffers);
    expect(after.arrays).toBe(before.arrays);
    for (const z of [x, w, b]) z.dispose();
  });

  it('linear: shape errors name linear and the shapes', () =>
    scope(() => {
      expect(() => linear(t(XL), t(Z))).toThrow(
        /linear: expects x \[N, in\] and weight \[out, in\], got x \[2,4\] and weight \[2,3\]/,
      );
      expect(() => linear(t(XL), t(W), zeros([4]))).toThrow(/linear: bias must have shape \[3\], got \[4\]/);
      expect(() => linear(zeros([4]), t(W))).toThrow(ShapeError);
    }));
});
