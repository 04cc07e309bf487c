import type { Parameter, Tensor } from '@gradkit/tensor';
import { keep, linear, Module, mseLoss, Rng, scope, tensor, zeros } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { l1Proximal } from './l1-proximal.js';
import { l1Subgradient } from './l1-subgradient.js';
import { applyUpdates, chain, scale } from './testing/local-optim.js';

// L1-regularized linear regression (the lasso) on synthetic data: 64 samples, 8 standard-normal
// features, y = 1.5 x0 - 2 x1 + 1 x2 + 0.3 + 0.05 noise; features 3..7 are irrelevant.
// Objective mean((x w + b - y)^2) + lambda |w|_1 with lambda = 0.1, 200 steps of lr = 0.1.
// The reference is the exact lasso solution (float64 ISTA run to convergence on the same data).
// Proximal: irrelevant weights EXACTLY 0, every weight within 1e-3 of the lasso solution.
// Subgradient: irrelevant weights within lr lambda = 0.01 of 0 (not all exactly 0),
// relevant ones within 0.02 of the lasso solution. Both: relevant weights within
// 0.1 of the truth (the lasso shrinks them by about lambda / 2).

const N = 64;
const D = 8;
const TRUE_W = [1.5, -2, 1, 0, 0, 0, 0, 0];
const TRUE_B = 0.3;
const LAMBDA = 0.1;
const LR = 0.1;
const STEPS = 200;

function data() {
  const rng = new Rng(31);
  const x = new Float32Array(N * D).map(() => rng.normal());
  const y = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    let s = TRUE_B + 0.05 * rng.normal();
    for (let j = 0; j < D; j++) s += x[i * D + j] * TRUE_W[j];
    y[i] = s;
  }
  return { x, y };
}

/** The lasso solution in float64 (ISTA, 5000 iterations) and the optimality margin of the zeros. */
function lassoSolution(x: Float32Array, y: Float32Array) {
  const w = new Float64Array(D);
  let b = 0;
  const grad = () => {
    const gw = new Float64Array(D);
    let gb = 0;
    for (let i = 0; i < N; i++) {
      let r = b - y[i];
      for (let j = 0; j < D; j++) r += x[i * D + j] * w[j];
      for (let j = 0; j < D; j++) gw[j] += (2 / N) * r * x[i * D + j];
      gb += (2 / N) * r;
    }
    return { gw, gb };
  };
  for (let k = 0; k < 5000; k++) {
    const { gw, gb } = grad();
    for (let j = 0; j < D; j++) {
      const z = w[j] - LR * gw[j];
      w[j] = Math.sign(z) * Math.max(Math.abs(z) - LR * LAMBDA, 0) + 0; // + 0: no -0
    }
    b -= LR * gb;
  }
  const { gw } = grad();
  // at the solution |gradient| < lambda where w = 0; the margin says how strictly
  let margin = Number.POSITIVE_INFINITY;
  for (let j = 0; j < D; j++) if (w[j] === 0) margin = Math.min(margin, LAMBDA - Math.abs(gw[j]));
  return { w: Array.from(w), b, margin };
}

class LinearRegression extends Module {
  readonly weight: Parameter = this.registerParameter('weight', zeros([1, D]));
  readonly bias: Parameter = this.registerParameter('bias', zeros([1]));
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

describe.each(testBackends)('L1-regularized linear regression on %s', (backend) => {
  useBackend(backend);
  const { x: xs, y: ys } = data();
  const lasso = lassoSolution(xs, ys);

  function train(opt: ReturnType<typeof chain>) {
    const model = new LinearRegression();
    const x = keep(tensor(xs, [N, D]));
    const y = keep(tensor(ys, [N, 1]));
    const params = Object.fromEntries(model.namedParameters());
    let state = opt.init(params);
    for (let step = 0; step < STEPS; step++) {
      scope(() => {
        mseLoss(model.forward(x), y).backward();
        const grads = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, p.grad!]));
        const [updates, next] = opt.update(grads, state, params);
        state = next;
        applyUpdates(params, updates);
        model.zeroGrad();
      });
    }
    const w = Array.from(model.weight.dataSync());
    const b = model.bias.item();
    model.dispose();
    x.dispose();
    y.dispose();
    return { w, b };
  }

  it('the data make the irrelevant weights exactly 0 in the lasso solution, with margin', () => {
    expect(lasso.w.slice(3)).toEqual([0, 0, 0, 0, 0]);
    expect(lasso.margin).toBeGreaterThan(0.02);
  });

  it('proximal (SGD then l1Proximal): irrelevant weights exactly 0, the lasso solution recovered', () => {
    const { w, b } = train(chain(scale(-LR), l1Proximal(LAMBDA, { learningRate: LR })));
    expect(w.slice(3)).toEqual([0, 0, 0, 0, 0]);
    for (let j = 0; j < D; j++) {
      expect(Math.abs(w[j] - lasso.w[j]), `w${j}`).toBeLessThan(1e-3);
      expect(Math.abs(w[j] - TRUE_W[j]), `w${j}`).toBeLessThan(0.1);
    }
    expect(Math.abs(b - lasso.b)).toBeLessThan(1e-3); // the bias is not penalized (excluded by default)
  });

  it('subgradient (l1Subgradient then SGD): irrelevant weights near 0, relevant ones recovered', () => {
    const { w, b } = train(chain(l1Subgradient(LAMBDA), scale(-LR)));
    for (let j = 3; j < D; j++) expect(Math.abs(w[j]), `w${j}`).toBeLessThanOrEqual(LR * LAMBDA);
    // they hover around 0 instead of landing on it: what the proximal step is for
    expect(w.slice(3).some((v) => v !== 0)).toBe(true);
    for (let j = 0; j < 3; j++) {
      expect(Math.abs(w[j] - lasso.w[j]), `w${j}`).toBeLessThan(0.02);
      expect(Math.abs(w[j] - TRUE_W[j]), `w${j}`).toBeLessThan(0.1);
    }
    expect(Math.abs(b - TRUE_B)).toBeLessThan(0.05);
  });
});
