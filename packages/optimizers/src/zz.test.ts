import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, it } from 'vitest';
import { lamb } from './index.js';
import { Affine, backwardLsq, lsqData } from './testing/models.js';
describe.each(testBackends)('%s', (backend) => {
  const device = useBackend(backend);
  it('lamb', () => {
    const model = new Affine(); const { x, y } = lsqData(); const opt = lamb(model);
    backwardLsq(model, x, y); const b = device().memory().kernels; opt.step(); console.log('COUNT', backend, device().memory().kernels - b);
  });
});
