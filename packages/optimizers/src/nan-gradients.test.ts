import { Parameter, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { clipGradNorm } from './clip-grad.js';
import { lion } from './lion.js';

// A NaN gradient never turns into a quiet "no change": clipping by the global norm makes every
// gradient NaN (as torch.nn.utils.clip_grad_norm_ does: its clip coefficient is NaN), and Lion's
// sign of a NaN is NaN, so the weight becomes NaN and the trainer's finite-weights check sees it.
describe.each(testBackends)('NaN gradients on %s', (backend) => {
  useBackend(backend);

  it('clipGradNorm: one NaN gradient makes every gradient NaN, as PyTorch', () => {
    const p = new Parameter([1, 2]);
    const q = new Parameter([3]);
    p.grad = tensor([1, 1]);
    q.grad = tensor([Number.NaN]);
    const norm = clipGradNorm([p, q], 1);
    expect(Number.isNaN(norm.item())).toBe(true);
    norm.dispose();
    expect(Array.from(p.grad.dataSync()).every(Number.isNaN)).toBe(true);
    expect(Array.from(q.grad.dataSync()).every(Number.isNaN)).toBe(true);
    p.dispose();
    q.dispose();
  });

  it('lion: a NaN gradient makes its weight NaN instead of leaving it unchanged', () => {
    const p = new Parameter([1, 2, 3]);
    const opt = lion([p], { lr: 0.1 });
    p.grad = tensor([Number.NaN, 1, -1]);
    opt.step();
    const w = p.dataSync();
    expect(Number.isNaN(w[0])).toBe(true);
    expect(w[1]).toBeCloseTo(1.9, 6);
    expect(w[2]).toBeCloseTo(3.1, 6);
    p.dispose();
  });
});
