import { scope, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { alphaDropout } from './alpha-dropout.js';
import { dropConnect } from './drop-connect.js';
import { dropout } from './dropout.js';
import { gaussianDropout } from './gaussian-dropout.js';

// A NaN or an infinity in the input stays non-finite whether its unit is kept or dropped, as in
// PyTorch (torch.nn.functional.dropout(full(nan)) is all NaN: it multiplies by the mask). A
// dropped NaN that became 0 would hide a diverged layer from the trainer's guard.
describe.each(testBackends)('dropout family keeps NaN and inf on %s', (backend) => {
  useBackend(backend);
  const n = 64;
  const cases = {
    dropout: (x: ReturnType<typeof tensor>) => dropout(x, 0.5, { training: true }),
    alphaDropout: (x: ReturnType<typeof tensor>) => alphaDropout(x, 0.5, { training: true }),
    gaussianDropout: (x: ReturnType<typeof tensor>) => gaussianDropout(x, 0.5, { training: true }),
    dropConnect: (x: ReturnType<typeof tensor>) => dropConnect(x, 0.5, { training: true }),
  };

  it.each(Object.keys(cases) as (keyof typeof cases)[])(
    '%s: every NaN and inf input is non-finite out',
    (name) => {
      scope(() => {
        const v = new Float32Array(n).map((_, i) => (i % 4 === 0 ? Number.NaN : i % 4 === 1 ? Infinity : i));
        const y = cases[name](tensor(v, [8, 8])).dataSync();
        for (let i = 0; i < n; i++) {
          if (i % 4 === 0) expect(Number.isNaN(y[i]), `${name}[${i}] = ${y[i]}`).toBe(true);
          if (i % 4 === 1) expect(Number.isFinite(y[i]), `${name}[${i}] = ${y[i]}`).toBe(false);
        }
        // and the mask really dropped some units (else the test proves nothing)
        if (name !== 'gaussianDropout') expect(Array.from(y).some((u, i) => i % 4 > 1 && u !== i)).toBe(true);
      });
    },
  );
});
