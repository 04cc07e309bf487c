import { Parameter, tensor } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, it } from 'vitest';
import { releaseState, tensorsOf } from './state-tree.js';
import { expectValueError } from './testing/errors.js';
import { trace } from './trace.js';

const G = [
  [1, -2],
  [0.5, 0.5],
  [-1, 3],
  [2, 0],
];

describe.each(testBackends)('trace on %s', (backend) => {
  useBackend(backend);

  it.each([
    [0.9, 0, false],
    [0.9, 0.3, false],
    [0.5, 0, true],
  ] as const)(
    'decay %s, dampening %s, nesterov %s: buf_1 = g, buf = decay buf + (1 - dampening) g',
    (decay, damp, nesterov) => {
      const p = { x: new Parameter([0, 0]) };
      const tx = trace({ decay, dampening: damp, nesterov });
      let state = tx.init(p);
      let buf = [0, 0];
      G.forEach((g, t) => {
        buf = buf.map((b, i) => (t === 0 ? g[i] : decay * b + (1 - damp) * g[i]));
        const want = nesterov ? g.map((gi, i) => gi + decay * buf[i]) : buf;
        const grads = { x: tensor(g) };
        const [u, next] = tx.update(grads, state);
        expectClose(u.x, want, { rtol: 1e-6, atol: 1e-7 }, `step ${t + 1}`);
        state = releaseState(state, next);
        u.x.dispose();
        grads.x.dispose();
      });
      for (const t of tensorsOf(state)) t.dispose();
      p.x.dispose();
    },
  );

  it('rejects a negative decay or a dampening outside [0, 1]', () => {
    expectValueError(() => trace({ decay: -0.9 }), 'trace: decay must be >= 0, got -0.9');
    expectValueError(() => trace({ decay: 0.9, dampening: 2 }), 'trace: dampening must be in [0, 1], got 2');
  });
});
