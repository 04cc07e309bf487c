import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceArray } from './device.js';
import { ShapeError, ValueError } from './errors.js';
import { backendsToTest, createDevice } from './select.js';
import { closeTo, testData } from './testing/reference.js';

// Device.softmaxCrossEntropy (loss, lse, probabilities) and its gradient on every backend against
// a float64 reference written from PyTorch's definition (F.cross_entropy, reduction 'none',
// label_smoothing), special values as PyTorch 1.13 gives them, and on wasm the fused kernels
// against the composed ones. Tolerances: loss and lse |got - want| <= 1e-5 + 2e-5 |want| (float32
// storage and the float32 exp); probabilities and gradient <= 1e-6 + 1e-5 |want| (one float32
// exp, a float32 scaling and two roundings per element).
const LOSS_TOL = [1e-5, 2e-5] as const;
const GRAD_TOL = [1e-6, 1e-5] as const;

/** float64 reference: loss [N], lse [N], probabilities [N, C] and the gradient scale dy_n (softmax - q). */
function reference(
  x: ArrayLike<number>,
  n: number,
  c: number,
  labels: readonly number[],
  eps: number,
  dy: readonly number[],
  scale: number,
): { loss: number[]; lse: number[]; probs: number[]; grad: number[] } {
  const loss: number[] = [];
  const lse: number[] = [];
  const probs: number[] = [];
  const grad: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: c }, (_, j) => x[i * c + j]);
    const m = Math.max(...row);
    // PyTorch's log_softmax: NaN for a row with a NaN or a +Infinity
    const l =
      Number.isNaN(m) || m === Infinity
        ? Number.NaN
        : m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    lse.push(l);
    const q = row.map((_, j) => (j === labels[i] ? 1 - eps : 0) + eps / c);
    loss.push(row.reduce((s, v, j) => (q[j] === 0 ? s : s + q[j] * (l - v)), 0));
    const g = scale * dy[dy.length === 1 ? 0 : i];
    for (let j = 0; j < c; j++) {
      probs.push(Math.exp(row[j] - l));
      grad.push(g * (Math.exp(row[j] - l) - q[j]));
    }
  }
  return { loss, lse, probs, grad };
}

const expectClose = (
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  [atol, rtol]: readonly [number, number],
  what: string,
) => expect(closeTo(got, want, atol, rtol), what).toBeNull();

describe.each(backendsToTest())('softmax cross-entropy on %s', (name) => {
  const d = createDevice({ backend: name });
  afterAll(() => d.destroy());

  const cases: [number, number, number][] = [
    [1, 1, 0],
    [3, 5, 0],
    [4, 4, 0.1],
    [5, 13, 0.25],
    [7, 1000, 0],
    [2, 1001, 1],
    [6, 3, 0.1],
  ];
  it.each(cases)(
    '[%i, %i] with smoothing %f: loss, lse, probabilities and gradient as the float64 reference',
    (n, c, eps) => {
      const v = testData(n * c, n * 31 + c, -8, 8);
      // labels: in range, plus (where there are rows for them) out of range, fractional and NaN ones,
      // which match no class
      const labels = Array.from({ length: n }, (_, i) => (i * 7 + 3) % c);
      if (n >= 5) {
        labels[1] = c;
        labels[2] = -1;
        labels[3] = 0.5;
        labels[4] = Number.NaN;
      }
      const x = d.array(v, [n, c]);
      const y = d.array(labels);
      const [loss, lse, probs] = d.softmaxCrossEntropy(x, y, eps, true);
      expect(loss.shape).toEqual([n]);
      expect(lse.shape).toEqual([n, 1]);
      expect(probs!.shape).toEqual([n, c]);
      const dyRows = Array.from({ length: n }, (_, i) => 0.5 + i);
      const want = reference(v, n, c, labels, eps, dyRows, 0.25);
      expectClose(loss.read(), want.loss, LOSS_TOL, 'loss');
      expectClose(lse.read(), want.lse, LOSS_TOL, 'lse');
      expectClose(probs!.read(), want.probs, GRAD_TOL, 'probs');
      // without the probabilities: the same loss and lse
      const [loss2, lse2, none] = d.softmaxCrossEntropy(x, y, eps);
      expect(none).toBeNull();
      expect(loss2.read()).toEqual(loss.read());
      expect(lse2.read()).toEqual(lse.read());
      const dy = d.array(dyRows);
      const g = d.softmaxCrossEntropyGrad(probs!, y, dy, eps, 0.25);
      expect(g.shape).toEqual([n, c]);
      expectClose(g.read(), want.grad, GRAD_TOL, 'grad, dy per row');
      const one = d.array([2]);
      const g1 = d.softmaxCrossEntropyGrad(probs!, y, one, eps, 1 / n);
      expectClose(g1.read(), reference(v, n, c, labels, eps, [2], 1 / n).grad, GRAD_TOL, 'grad, one dy');
      for (const a of [x, y, loss, lse, probs!, loss2, lse2, dy, g, one, g1]) a.dispose();
    },
  );

  it('special values as PyTorch: NaN and +Infinity rows NaN, -Infinity logits, huge logits, zeros', () => {
    const inf = Number.POSITIVE_INFINITY;
    const nan = Number.NaN;
    const rows = [
      [1, -inf, 2],
      [1, -inf, 2],
      [1, inf, 2],
      [1, inf, 2],
      [1, nan, 2],
      [1e30, 0, -1e30],
      [-0, 0, -0],
    ];
    const labels = [0, 1, 0, 1, 0, 1, 2];
    const x = d.array(rows.flat(), [7, 3]);
    const y = d.array(labels);
    const ones = d.array([1, 1, 1, 1, 1, 1, 1]);
    // PyTorch 1.13: F.cross_entropy(x, y, reduction='none', label_smoothing=eps) and x.grad of its sum
    const want: Record<string, { loss: number[]; grad: number[][] }> = {
      0: {
        loss: [1.31326162815094, inf, nan, nan, nan, 1.0000000150474662e30, 1.0986123085021973],
        grad: [
          [-0.7310585975646973, 0, 0.7310585975646973],
          [0.2689414322376251, -1, 0.7310585975646973],
          [nan, nan, nan],
          [nan, nan, nan],
          [nan, nan, nan],
          [1, -1, 0],
          [0.3333333134651184, 0.3333333134651184, -0.6666666865348816],
        ],
      },
      0.1: {
        loss: [inf, inf, nan, nan, nan, 1.0000000150474662e30, 1.0986123085021973],
        grad: [
          [-0.6643918752670288, -0.03333333507180214, 0.697725236415863],
          [0.23560810089111328, -0.9333333373069763, 0.697725236415863],
          [nan, nan, nan],
          [nan, nan, nan],
          [nan, nan, nan],
          [0.9666666388511658, -0.9333333373069763, -0.03333333507180214],
          [0.29999998211860657, 0.29999998211860657, -0.6000000238418579],
        ],
      },
    };
    for (const eps of [0, 0.1]) {
      const [loss, lse, probs] = d.softmaxCrossEntropy(x, y, eps, true);
      expectClose(loss.read(), want[eps].loss, LOSS_TOL, `loss, smoothing ${eps}`);
      const g = d.softmaxCrossEntropyGrad(probs!, y, ones, eps, 1);
      expectClose(g.read(), want[eps].grad.flat(), GRAD_TOL, `grad, smoothing ${eps}`);
      for (const a of [loss, lse, probs!, g]) a.dispose();
    }
    for (const a of [x, y, ones]) a.dispose();
  });

  it('an empty batch gives empty results', () => {
    const x = d.array(new Float32Array(0), [0, 4]);
    const y = d.array(new Float32Array(0));
    const [loss, lse, probs] = d.softmaxCrossEntropy(x, y, 0, true);
    expect(loss.shape).toEqual([0]);
    expect(probs!.shape).toEqual([0, 4]);
    const g = d.softmaxCrossEntropyGrad(probs!, y, d.array([1]), 0, 1);
    expect(g.shape).toEqual([0, 4]);
    for (const a of [x, y, loss, lse, probs!, g]) a.dispose();
  });

  it('names the op and the shapes or values it refuses', () => {
    const x = d.array(testData(12, 1), [3, 4]);
    const y = d.array([0, 1, 2]);
    const p = d.softmaxCrossEntropy(x, y, 0, true)[2]!;
    expect(() => d.softmaxCrossEntropy(d.array([1, 2, 3]), y)).toThrow(ShapeError);
    expect(() => d.softmaxCrossEntropy(d.array([1, 2, 3]), y)).toThrow(
      /softmaxCrossEntropy: x must be \[N, C\] with C >= 1, got \[3\]/,
    );
    expect(() => d.softmaxCrossEntropy(d.array(new Float32Array(0), [3, 0]), y)).toThrow(
      /C >= 1, got \[3,0\]/,
    );
    expect(() => d.softmaxCrossEntropy(x, d.array([0, 1]))).toThrow(
      /softmaxCrossEntropy: labels \[2\] must be \[3\] for x \[3,4\]/,
    );
    expect(() => d.softmaxCrossEntropy(x, y, 1.5)).toThrow(ValueError);
    expect(() => d.softmaxCrossEntropy(x, y, -0.1)).toThrow(/smoothing must be in \[0, 1\], got -0.1/);
    expect(() => d.softmaxCrossEntropy(x, y, Number.NaN)).toThrow(/got NaN/);
    expect(() => d.softmaxCrossEntropyGrad(p, y, d.array([1, 2]), 0, 1)).toThrow(
      /softmaxCrossEntropyGrad: dy \[2\] must be \[3\] or one value/,
    );
    expect(() => d.softmaxCrossEntropyGrad(d.array([1, 2]), y, d.array([1]), 0, 1)).toThrow(
      /softmaxCrossEntropyGrad: probs must be \[N, C\] with C >= 1, got \[2\]/,
    );
    expect(() => d.softmaxCrossEntropyGrad(p, d.array([1]), d.array([1]), 0, 1)).toThrow(
      /softmaxCrossEntropyGrad: labels \[1\] must be \[3\] for probs \[3,4\]/,
    );
    expect(() => d.softmaxCrossEntropyGrad(p, y, d.array([1]), 2, 1)).toThrow(
      /smoothing must be in \[0, 1\]/,
    );
  });

  it.runIf(name === 'wasm')(
    'wasm: the same lse as logsumexp and the composed gradient bit for bit, probabilities within 1 ulp-ish of exp(x - lse)',
    () => {
      const [n, c] = [9, 203];
      const v = testData(n * c, 5, -20, 20);
      v[7] = -0;
      v[c + 2] = 88; // e^(x - lse) near 1
      const x = d.array(v, [n, c]);
      const labels = Array.from({ length: n }, (_, i) => (i * 37) % c);
      labels[3] = c + 4; // no class
      const y = d.array(labels);
      const dy = d.array(testData(n, 9, 0.5, 2));
      for (const eps of [0, 0.2]) {
        const [, lse, probs] = d.softmaxCrossEntropy(x, y, eps, true);
        // the composition Device uses on backends without the fused kernels
        const m = d.logsumexp(x, 1, true);
        expect(Buffer.from(lse.read().buffer).equals(Buffer.from(m.read().buffer))).toBe(true);
        // probabilities against float64 softmax: the float32 argument x - max of exp carries a
        // relative error up to |x - max| 2^-24 into the result; exp, the sum and the scaling by
        // f32(1 / sum) add a few ulp
        const pr = probs!.read();
        for (let r = 0; r < n; r++) {
          const row = Array.from(v.subarray(r * c, r * c + c));
          const mx = Math.max(...row);
          const sum = row.reduce((t, u) => t + Math.exp(u - mx), 0);
          for (let j = 0; j < c; j++) {
            const want = Math.exp(row[j] - mx) / sum;
            const tol = (Math.abs(row[j] - mx) + 8) * 2 ** -24 * want + 2 ** -149;
            expect(Math.abs(pr[r * c + j] - want), `probs[${r}, ${j}]`).toBeLessThanOrEqual(tol);
          }
        }
        let q: DeviceArray = d.oneHot(y, c);
        if (eps > 0) q = d.scalar('affine', q, 1 - eps, eps / c);
        const composed = d.map(
          { name: 'test_ceGrad', arity: 3, params: 1, expr: 'p0 * c * (a - b)' },
          [probs!, q, d.reshape(dy, [n, 1])],
          [0.125],
        );
        const fused = d.softmaxCrossEntropyGrad(probs!, y, dy, eps, 0.125);
        const a = fused.read();
        const b = composed.read();
        const diff = Array.from(a).findIndex((t, i) => !Object.is(t, b[i]));
        expect(diff, `first difference at ${diff}: ${a[diff]} vs ${b[diff]} (smoothing ${eps})`).toBe(-1);
      }
    },
  );
});
