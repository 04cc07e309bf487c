import { scope, tensor, ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { decoupledWeightDecay } from './decoupled-weight-decay.js';
import { frobeniusPenalty } from './frobenius.js';
import { l2Penalty } from './l2.js';
import { maxNorm } from './max-norm.js';

// The regularizers' argument errors use the shared checks of @gradkit/tensor: the same message
// format as the optimizers (`<op>: <name> must be <requirement>, got <value>`), pinned exactly.

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValueError);
    return (e as Error).message;
  }
  throw new Error('expected a ValueError');
}

describe('regularizer argument errors', () => {
  it('lambdas, bounds and options', () =>
    scope(() => {
      const w = tensor([[1, 2]]);
      expect(messageOf(() => l2Penalty({ w }, -1))).toBe('l2Penalty: lambda must be >= 0, got -1');
      expect(messageOf(() => l2Penalty({ w }, Number.NaN))).toBe(
        'l2Penalty: lambda must be a finite number, got NaN',
      );
      expect(messageOf(() => l2Penalty({ w }, 1, 3 as never))).toBe(
        'l2Penalty: options must be an object, got 3',
      );
      expect(messageOf(() => frobeniusPenalty({ w }, { w: -2 }))).toBe(
        "frobeniusPenalty: lambdas['w'] must be >= 0, got -2",
      );
      expect(messageOf(() => maxNorm({ w }, 0))).toBe('maxNorm: maxValue must be > 0, got 0');
    }));

  it('a learning rate given as a number or a Schedule', () =>
    scope(() => {
      expect(messageOf(() => decoupledWeightDecay(0.1, {} as never))).toBe(
        'decoupledWeightDecay: learningRate must be a number >= 0 or a Schedule, got undefined',
      );
      expect(messageOf(() => decoupledWeightDecay(-0.1, { learningRate: 0.1 }))).toBe(
        'decoupledWeightDecay: weightDecay must be >= 0, got -0.1',
      );
      const w = tensor([1, 2]);
      const tx = decoupledWeightDecay(0.1, { learningRate: (step) => (step === 0 ? Number.NaN : 0.1) });
      expect(messageOf(() => tx.update({ w: tensor([0, 0]) }, tx.init({ w }), { w }))).toBe(
        'decoupledWeightDecay: learningRate(0) must be a finite number, got NaN',
      );
    }));
});
