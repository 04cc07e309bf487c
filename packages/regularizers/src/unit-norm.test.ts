import { scope, tensor } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, it } from 'vitest';
import { expectValueError, REF } from './testing/check.js';
import { FIXTURE, fromEncoded } from './testing/fixture.js';
import { unitNorm } from './unit-norm.js';

// Against w / (1e-7 + ||w_unit||) computed by PyTorch in float64 (fixtures/generate.py), within
// REF (1e-6 abs + 1e-5 rel).

const C = FIXTURE.constraints;

describe.each(testBackends)('unitNorm on %s', (backend) => {
  useBackend(backend);

  it('normalizes every output unit (an all-zero row stays 0); axis: 0 matches Keras UnitNorm', () =>
    scope(() => {
      for (const name of ['dense.weight', 'conv.weight']) {
        const w = fromEncoded(C.inputs[name]);
        unitNorm({ [name]: w });
        expectClose(w, C.unitNorm[name].data, REF, name);
      }
      const kernel = fromEncoded(C.inputs.kernel);
      unitNorm({ kernel }, { axis: 0 });
      expectClose(kernel, C.unitNorm.kernelKeras.data, REF, 'kernel');
    }));

  it('rejects a bad eps or axis', () =>
    scope(() => {
      const w = tensor([[3, 4]]);
      expectValueError(() => unitNorm({ w }, { eps: -1 }), 'unitNorm', 'eps', '-1');
      expectValueError(() => unitNorm({ w }, { axis: [] }), 'unitNorm', 'axis', 'empty');
    }));
});
