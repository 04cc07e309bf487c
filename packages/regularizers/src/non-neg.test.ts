import { scope, tensor } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { nonNeg } from './non-neg.js';
import { REF } from './testing/check.js';
import { FIXTURE, fromEncoded } from './testing/fixture.js';

// Against torch.clamp(w, min=0) (fixtures/generate.py) within REF (1e-6 abs + 1e-5 rel).

const C = FIXTURE.constraints;

describe.each(testBackends)('nonNeg on %s', (backend) => {
  useBackend(backend);

  it('matches torch.clamp(w, min=0); biases only with exclude: null', () =>
    scope(() => {
      for (const name of ['dense.weight', 'conv.weight']) {
        const w = fromEncoded(C.inputs[name]);
        nonNeg({ [name]: w });
        expectClose(w, C.nonNeg[name].data, REF, name);
      }
      const bias = tensor([-1, 2]);
      nonNeg({ bias });
      expect(Array.from(bias.dataSync())).toEqual([-1, 2]);
      nonNeg({ bias }, { exclude: null });
      expect(Array.from(bias.dataSync())).toEqual([0, 2]);
    }));

  it('keeps NaN (no silent repair)', () =>
    scope(() => {
      const w = tensor([[Number.NaN, -1]]);
      nonNeg({ w });
      const got = w.dataSync();
      expect(Number.isNaN(got[0])).toBe(true);
      expect(got[1]).toBe(0);
    }));
});
