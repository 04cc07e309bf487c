import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { NadamHyperparams } from './nadam.js';
import { nadam, nadamTransform } from './nadam.js';
import { scaleByNadam } from './scale-by-nadam.js';
import { expectValueError } from './testing/errors.js';
import { replayFixture } from './testing/replay.js';

describe.each(testBackends)('NAdam on %s', (backend) => {
  useBackend(backend);
  replayFixture('nadam');
});

describe('NAdam hyperparameters', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it('rejects bad values with a ValueError naming NAdam, the argument and the value', () => {
    expectValueError(() => nadam([w], { lr: -1 }), 'NAdam: lr must be >= 0, got -1');
    expectValueError(
      () => nadam([w], { lr: Number.POSITIVE_INFINITY }),
      'NAdam: lr must be a finite number, got Infinity',
    );
    expectValueError(() => nadam([w], { weightDecay: -0.01 }), 'NAdam: weightDecay must be >= 0, got -0.01');
    expectValueError(() => nadam([w], { maximize: 1 as never }), 'NAdam: maximize must be a boolean, got 1');
    expectValueError(() => nadam([w], { betas: [1, 0.999] }), 'NAdam: betas[0] must be in [0, 1), got 1');
    expectValueError(() => nadam([w], { betas: [0.9, -0.5] }), 'NAdam: betas[1] must be in [0, 1), got -0.5');
    expectValueError(
      () => nadam([w], { betas: [0.9] as never }),
      'NAdam: betas must be a pair [beta1, beta2], got [0.9]',
    );
    expectValueError(() => nadam([w], { eps: 0 }), 'NAdam: eps must be > 0, got 0');
    expectValueError(() => nadam([w], { eps: -1e-8 }), 'NAdam: eps must be > 0, got -1e-8');
    expectValueError(() => nadamTransform({ lr: -2 }), 'NAdam: lr must be >= 0, got -2');
    expectValueError(() => nadam([{ params: [w], lr: -3 }]), 'NAdam: lr must be >= 0, got -3');
    expectValueError(() => nadam([w], { momentumDecay: -1 }), 'NAdam: momentumDecay must be >= 0, got -1');
    expectValueError(
      () => nadam([w], { legacyMuProduct: 'yes' as never }),
      'NAdam: legacyMuProduct must be a boolean, got "yes"',
    );
    expectValueError(
      () => nadam([w], { decoupledWeightDecay: 1 as never }),
      'NAdam: decoupledWeightDecay must be a boolean, got 1',
    );
  });

  it('defaults follow PyTorch 2.x: legacyMuProduct and decoupledWeightDecay are false; the 1.13-era name is unknown', () => {
    const opt = nadam([w]);
    const o = opt.paramGroups[0].options as NadamHyperparams;
    expect([o.legacyMuProduct, o.decoupledWeightDecay, o.momentumDecay]).toEqual([false, false, 4e-3]);
    opt.dispose();
    expect(() => nadam([w], { fixMuProduct: true } as never)).toThrow(/NAdam: unknown option 'fixMuProduct'/);
    expect(() => scaleByNadam({ decoupledWeightDecay: true } as never)).toThrow(
      /scaleByNadam: unknown option 'decoupledWeightDecay'/,
    );
  });
});
