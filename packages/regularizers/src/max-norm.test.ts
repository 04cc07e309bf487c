import {
  linear,
  memory,
  noGrad,
  Rng,
  randn,
  ShapeError,
  scope,
  softmaxCrossEntropy,
  tensor,
} from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { maxNorm } from './max-norm.js';
import { expectValueError, REF } from './testing/check.js';
import { FIXTURE, FixtureModel, fromEncoded } from './testing/fixture.js';

// Against torch.renorm (per output unit) and Keras' MaxNorm formula (axis 0 of an [in, out]
// kernel), float64 references from fixtures/generate.py, within REF (1e-6 abs + 1e-5 rel). After
// every training step each row norm is <= c (1 + 1e-5).

const C = FIXTURE.constraints;

const rowNorms = (values: Float32Array, rows: number): number[] => {
  const n = values.length / rows;
  return Array.from({ length: rows }, (_, r) =>
    Math.sqrt(values.subarray(r * n, (r + 1) * n).reduce((s, v) => s + v * v, 0)),
  );
};

describe.each(testBackends)('maxNorm on %s', (backend) => {
  useBackend(backend);

  it('matches torch.renorm(w, 2, 0, c) per output unit; rows under c are left exactly as they were', () =>
    scope(() => {
      for (const name of ['dense.weight', 'conv.weight']) {
        const w = fromEncoded(C.inputs[name]);
        const before = w.dataSync();
        maxNorm({ [name]: w }, C.maxNorm.c[name]);
        expectClose(w, C.maxNorm[name].data, REF, name);
        const after = w.dataSync();
        const norms = rowNorms(before, w.shape[0]);
        const unit = w.size / w.shape[0];
        norms.forEach((n, r) => {
          if (n <= C.maxNorm.c[name]) {
            expect(Array.from(after.subarray(r * unit, (r + 1) * unit))).toEqual(
              Array.from(before.subarray(r * unit, (r + 1) * unit)),
            );
          }
        });
      }
    }));

  it("with axis: 0 matches Keras' MaxNorm on an [in, out] kernel (columns)", () =>
    scope(() => {
      const kernel = fromEncoded(C.inputs.kernel);
      maxNorm({ kernel }, C.maxNorm.c.kernel, { axis: 0 });
      expectClose(kernel, C.maxNorm.kernelKeras.data, REF, 'kernel');
    }));

  it('holds after every step of a short training run, without read-back or leaks', () => {
    const c = 0.8;
    const model = new FixtureModel({
      'fc1.weight': FIXTURE.params['fc1.weight'],
      'fc1.bias': FIXTURE.params['fc1.bias'],
      'fc2.weight': FIXTURE.params['fc2.weight'],
      'fc2.bias': FIXTURE.params['fc2.bias'],
    });
    const p = Object.fromEntries(model.namedParameters());
    const rng = new Rng(5);
    const x = noGrad(() => randn([16, 3], { rng, std: 2 }));
    const labels = Array.from({ length: 16 }, (_, i) => (i * 7) % 2);
    let stepsAboveC = 0;
    let constraintReadbacks = 0;
    const live: number[] = [];
    for (let step = 0; step < 12; step++) {
      scope(() => {
        const h = linear(x, p['fc1.weight'], p['fc1.bias'], { activation: 'relu' });
        softmaxCrossEntropy(linear(h, p['fc2.weight'], p['fc2.bias']), labels).backward();
        noGrad(() => {
          for (const w of model.parameters()) w.assign(w.sub(w.grad!.mul(2)));
        });
        model.zeroGrad();
      });
      const before = [p['fc1.weight'], p['fc2.weight']].map((w) => rowNorms(w.dataSync(), w.shape[0]));
      if (before.flat().some((n) => n > c)) stepsAboveC++;
      const m0 = memory();
      maxNorm(model, c);
      const m1 = memory();
      constraintReadbacks += m1.readbacks - m0.readbacks;
      live.push(m1.arrays);
      for (const w of [p['fc1.weight'], p['fc2.weight']]) {
        for (const n of rowNorms(w.dataSync(), w.shape[0])) expect(n).toBeLessThanOrEqual(c * (1 + 1e-5));
      }
      // biases are excluded by default: not constrained
    }
    expect(stepsAboveC).toBeGreaterThanOrEqual(6); // the constraint had work to do
    expect(constraintReadbacks).toBe(0);
    expect(new Set(live).size).toBe(1);
    x.dispose();
    model.dispose();
  });

  it('rejects c <= 0, a bad eps or axis, and writes nothing when an axis does not fit', () =>
    scope(() => {
      const w = tensor([[3, 4]]);
      expectValueError(() => maxNorm({ w }, 0), 'maxNorm', 'maxValue', '0');
      expectValueError(() => maxNorm({ w }, -2), 'maxNorm', 'maxValue', '-2');
      expectValueError(() => maxNorm({ w }, Number.NaN), 'maxNorm', 'maxValue', 'NaN');
      expectValueError(() => maxNorm({ w }, 1, { eps: 0 }), 'maxNorm', 'eps', '0');
      expectValueError(() => maxNorm({ w }, 1, { axis: 0.5 }), 'maxNorm', 'axis', '0.5');
      const cube = tensor(
        Array.from({ length: 8 }, (_, i) => i + 1),
        [2, 2, 2],
      );
      const before = Array.from(cube.dataSync());
      expect(() => maxNorm({ cube, w }, 1, { axis: 2 })).toThrow(ShapeError);
      expect(() => maxNorm({ cube, w }, 1, { axis: 2 })).toThrow(
        /maxNorm: axis 2 .* parameter 'w' of shape \[1,2\]/,
      );
      expect(Array.from(cube.dataSync())).toEqual(before);
      maxNorm({ w }, 1);
      expectClose(w, [0.6, 0.8], REF);
    }));
});
