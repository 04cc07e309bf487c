import { expectGradcheck, expectValues, TRANSCENDENTAL, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { binaryCrossEntropyWithLogits } from './bce-with-logits.js';
import { tensor, zeros } from './creation.js';
import { ShapeError, ValueError } from './errors.js';
import { mseLoss } from './mse-loss.js';
import { scope } from './scope.js';
import { softmaxCrossEntropy } from './softmax-cross-entropy.js';
import type { Tensor } from './tensor.js';
import type { Ref } from './testing/reference.js';
import { data, map64, ref, smooth } from './testing/reference.js';

// Loss values against float64 references written from PyTorch's documented definitions (not the
// fused formulas the ops use); TRANSCENDENTAL tolerance (1e-5 abs + 2e-5 rel). Gradients by
// gradcheck (eps 1e-2, atol 1e-3, rtol 1e-2), for every reduction.

const t = (r: Ref, requiresGrad = false): Tensor => tensor(r.data, r.shape, { requiresGrad });
const LOGITS = ref(data(12, 111, -3, 3), [3, 4]);
const LABELS = [2, 0, 3];

/** PyTorch's cross_entropy with label_smoothing eps: (1-eps) nll + eps * mean_c(-log p_c), per row. */
function ce64(x: Ref, labels: number[], eps: number): number[] {
  const [n, c] = x.shape;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = x.data.slice(i * c, (i + 1) * c);
    const z = row.reduce((s, v) => s + Math.exp(v), 0);
    const logp = row.map((v) => v - Math.log(z));
    const nll = -logp[labels[i]];
    const smoothTerm = -logp.reduce((s, v) => s + v, 0) / c;
    out.push((1 - eps) * nll + eps * smoothTerm);
  }
  return out;
}
const reduce = (v: number[], r: 'mean' | 'sum' | 'none'): Ref =>
  r === 'none' ? ref(v, [v.length]) : ref([v.reduce((s, q) => s + q, 0) / (r === 'mean' ? v.length : 1)], []);

const sig = (x: number) => 1 / (1 + Math.exp(-x));
/** Textbook BCE on probabilities, as PyTorch documents BCEWithLogits: -[pw t log s + (1-t) log(1-s)]. */
const bce64 = (x: number, y: number, pw = 1) => -(pw * y * Math.log(sig(x)) + (1 - y) * Math.log(1 - sig(x)));

describe.each(testBackends)('losses on %s', (backend) => {
  useBackend(backend);

  for (const eps of [0, 0.1]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      it(`softmaxCrossEntropy (labelSmoothing ${eps}, ${reduction}): values and gradient`, () =>
        scope(() => {
          const want = reduce(ce64(LOGITS, LABELS, eps), reduction);
          expectValues(
            softmaxCrossEntropy(t(LOGITS), LABELS, { labelSmoothing: eps, reduction }),
            want,
            TRANSCENDENTAL,
          );
          expectValues(
            softmaxCrossEntropy(t(LOGITS), tensor(LABELS), { labelSmoothing: eps, reduction }),
            want,
            TRANSCENDENTAL,
          );
          expectGradcheck(
            (x) => softmaxCrossEntropy(x, LABELS, { labelSmoothing: eps, reduction }),
            [t(LOGITS, true)],
          );
        }));
    }
  }

  it('softmaxCrossEntropy: default is mean without smoothing; gradient is softmax - onehot over N', () =>
    scope(() => {
      const x = t(LOGITS, true);
      softmaxCrossEntropy(x, new Int32Array(LABELS)).backward();
      const want: number[] = [];
      for (let i = 0; i < 3; i++) {
        const row = LOGITS.data.slice(i * 4, i * 4 + 4);
        const z = row.reduce((s, v) => s + Math.exp(v), 0);
        for (let j = 0; j < 4; j++) want.push((Math.exp(row[j]) / z - (j === LABELS[i] ? 1 : 0)) / 3);
      }
      expectValues(x.grad!, ref(want, [3, 4]), TRANSCENDENTAL);
    }));

  it('softmaxCrossEntropy: stable for large logits', () =>
    scope(() => {
      const l = softmaxCrossEntropy(tensor([[1e4, 0, -1e4]]), [1]).item();
      expect(l).toBeCloseTo(1e4, 0);
      expect(softmaxCrossEntropy(tensor([[1e4, 0, -1e4]]), [0]).item()).toBe(0);
    }));

  it('softmaxCrossEntropy: checks labels on the host, shapes and options', () =>
    scope(() => {
      const x = t(LOGITS);
      expect(() => softmaxCrossEntropy(x, [2, 0, 1.5])).toThrow(ValueError);
      expect(() => softmaxCrossEntropy(x, [2, 0, 1.5])).toThrow(
        /softmaxCrossEntropy: label 2 is 1.5; labels must be integers in \[0, 4\)/,
      );
      expect(() => softmaxCrossEntropy(x, [2, 0, 4])).toThrow(/label 2 is 4/);
      expect(() => softmaxCrossEntropy(x, [-1, 0, 1])).toThrow(/label 0 is -1/);
      expect(() => softmaxCrossEntropy(x, [0, 1])).toThrow(ShapeError);
      expect(() => softmaxCrossEntropy(x, [0, 1])).toThrow(/got 2 labels, expected shape \[3\]/);
      expect(() => softmaxCrossEntropy(x, tensor([[0, 1, 2]]))).toThrow(
        /labels have shape \[1,3\], expected \[3\]/,
      );
      expect(() => softmaxCrossEntropy(zeros([4]), [0])).toThrow(
        /softmaxCrossEntropy: logits must be \[N, C\], got \[4\]/,
      );
      expect(() => softmaxCrossEntropy(x, LABELS, { labelSmoothing: 1.5 })).toThrow(
        /labelSmoothing must be in \[0, 1\]/,
      );
      expect(() => softmaxCrossEntropy(x, LABELS, { reduction: 'avg' as 'mean' })).toThrow(ValueError);
    }));

  const P = ref(smooth(6, 121), [2, 3]);
  const Q = ref(smooth(6, 122), [2, 3]);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`mseLoss (${reduction}): values and gradients for pred and target`, () =>
      scope(() => {
        const sq = map64((a, b) => (a - b) ** 2, P, Q);
        const want = reduction === 'none' ? sq : reduce(sq.data, reduction);
        expectValues(mseLoss(t(P), t(Q), { reduction }), want, TRANSCENDENTAL);
        expectGradcheck((a, b) => mseLoss(a, b, { reduction }), [t(P, true), t(Q, true)]);
      }));
  }

  it('mseLoss: shapes must match (no silent broadcasting)', () =>
    scope(() => {
      expect(() => mseLoss(t(P), zeros([3]))).toThrow(
        /mseLoss: pred \[2,3\] and target \[3\] must have the same shape/,
      );
    }));

  const XB = ref([-3.5, -1.2, -0.3, 0.4, 1.7, 2.9], [2, 3]);
  const TB = ref([0, 1, 0.3, 1, 0, 0.8], [2, 3]);
  const PW = ref([3, 0.5, 1.5], [3]);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`binaryCrossEntropyWithLogits (${reduction}): values and gradients, posWeight none / number / tensor`, () =>
      scope(() => {
        const plain = map64((x, y) => bce64(x, y), XB, TB);
        const num = map64((x, y) => bce64(x, y, 2.5), XB, TB);
        const vec = map64((x, y, w) => bce64(x, y, w), XB, TB, PW);
        const r = (v: Ref) => (reduction === 'none' ? v : reduce(v.data, reduction));
        expectValues(binaryCrossEntropyWithLogits(t(XB), t(TB), { reduction }), r(plain), TRANSCENDENTAL);
        expectValues(
          binaryCrossEntropyWithLogits(t(XB), t(TB), { reduction, posWeight: 2.5 }),
          r(num),
          TRANSCENDENTAL,
        );
        expectValues(
          binaryCrossEntropyWithLogits(t(XB), t(TB), { reduction, posWeight: t(PW) }),
          r(vec),
          TRANSCENDENTAL,
        );
        expectGradcheck(
          (x, y) => binaryCrossEntropyWithLogits(x, y, { reduction }),
          [t(XB, true), t(TB, true)],
        );
        expectGradcheck(
          (x, y) => binaryCrossEntropyWithLogits(x, y, { reduction, posWeight: 2.5 }),
          [t(XB, true), t(TB, true)],
        );
        expectGradcheck(
          (x, y) => binaryCrossEntropyWithLogits(x, y, { reduction, posWeight: t(PW) }),
          [t(XB, true), t(TB, true)],
        );
      }));
  }

  it('binaryCrossEntropyWithLogits: stable at large |x| where the textbook formula overflows', () =>
    scope(() => {
      const v = binaryCrossEntropyWithLogits(tensor([100, -100, 100]), tensor([0, 1, 1]), {
        reduction: 'none',
      }).dataSync();
      expect(Array.from(v)).toEqual([100, 100, 0]);
    }));

  it('binaryCrossEntropyWithLogits: shape errors', () =>
    scope(() => {
      expect(() => binaryCrossEntropyWithLogits(t(XB), zeros([3]))).toThrow(ShapeError);
      expect(() => binaryCrossEntropyWithLogits(t(XB), t(TB), { posWeight: zeros([2]) })).toThrow(
        /binaryCrossEntropyWithLogits: shapes \[2,3\] and \[2\] cannot be broadcast/,
      );
      expect(() => binaryCrossEntropyWithLogits(t(XB), t(TB), { posWeight: zeros([4, 2, 3]) })).toThrow(
        /posWeight \[4,2,3\] must broadcast to the logits' shape \[2,3\]/,
      );
    }));
});
