// The leak check (issue 13): an optimizer whose live-tensor count grows at every step warns once
// per process with the fix; a loop that frees what it allocates never sees it; it can be silenced.
import { linear, Module, randn, scope, softmaxCrossEntropy, type Tensor, zeros } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { adam, adamTransform, configureLeakCheck, fromTransformation } from './index.js';
import { setLeakWarned } from './leak-check.js';
import { expectValueError } from './testing/errors.js';

class Mlp extends Module {
  readonly w1 = this.registerParameter('w1', randn([16, 8], { std: 0.35 }));
  readonly b1 = this.registerParameter('b1', zeros([16]));
  readonly w2 = this.registerParameter('w2', randn([3, 16], { std: 0.25 }));
  readonly b2 = this.registerParameter('b2', zeros([3]));
  forward(x: Tensor): Tensor {
    return linear(linear(x, this.w1, this.b1, { activation: 'relu' }), this.w2, this.b2);
  }
}

const labels = [0, 1, 2, 0];

/** The gradkit warnings among the console.warn calls (other code may warn too). */
const leakWarnings = (spy: MockInstance) =>
  spy.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('gradkit: the number of live tensors'));

describe.each(testBackends)('the leak check on %s', (backend) => {
  useBackend(backend);
  let spy: MockInstance;
  let wasWarned: boolean;
  let settings: ReturnType<typeof configureLeakCheck>;
  let env: string | undefined;

  beforeEach(() => {
    // the warning is printed once per process and test files share one: start from "not yet",
    // with the default settings, and put everything back afterwards
    wasWarned = setLeakWarned(false);
    settings = configureLeakCheck({ enabled: undefined, window: 64 });
    env = process.env.GRADKIT_LEAK_CHECK;
    delete process.env.GRADKIT_LEAK_CHECK;
    spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => {
    spy.mockRestore();
    if (env === undefined) delete process.env.GRADKIT_LEAK_CHECK;
    else process.env.GRADKIT_LEAK_CHECK = env;
    configureLeakCheck(settings);
    setLeakWarned(wasWarned);
  });

  /**
   * A PyTorch-style loop without scope() or a closure: leaks the forward's tensors at every step.
   * It runs inside one outer scope so that the test itself leaves nothing behind: the count still
   * grows step over step until that scope ends, which is what the check sees.
   */
  const leakyLoop = (steps: number, face: 'Adam' | 'transformation' = 'Adam') =>
    scope(() => {
      const model = new Mlp();
      const x = randn([4, 8]);
      const opt = face === 'Adam' ? adam(model) : fromTransformation(model, adamTransform());
      try {
        for (let i = 0; i < steps; i++) {
          opt.zeroGrad();
          const loss = softmaxCrossEntropy(model.forward(x), labels);
          loss.backward();
          opt.step();
        }
      } finally {
        opt.dispose();
        model.dispose();
      }
    });

  it('a loop that leaks on purpose sees the warning exactly once, with the fix', () => {
    leakyLoop(64);
    expect(leakWarnings(spy)).toHaveLength(0); // 63 rises so far: one short of the window
    leakyLoop(200);
    const warnings = leakWarnings(spy);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/grew at each of the last 64 Adam\.step\(\) calls/);
    // per step: the two layers' outputs and the loss (linear runs its bias and activation as the
    // matmul's epilogue, so no separate product tensor is left behind)
    expect(warnings[0]).toMatch(/about 3 per step/);
    expect(warnings[0]).toContain('scope(() => { ... })');
    expect(warnings[0]).toContain('opt.step(() => {');
    expect(warnings[0]).toContain('GRADKIT_LEAK_CHECK=0');
    leakyLoop(200, 'transformation'); // once per process, whichever optimizer sees it
    expect(leakWarnings(spy)).toHaveLength(1);
  });

  it('the transformation face warns too', () => {
    leakyLoop(100, 'transformation');
    const warnings = leakWarnings(spy);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/TransformationOptimizer\.step\(\)/);
  });

  it('clean loops (scope, closure, a periodically flushed buffer) see none', () => {
    const model = new Mlp();
    const x = randn([4, 8]);
    const opt = adam(model);
    for (let i = 0; i < 300; i++) {
      scope(() => {
        opt.zeroGrad();
        softmaxCrossEntropy(model.forward(x), labels).backward();
        opt.step();
      });
    }
    for (let i = 0; i < 300; i++) {
      opt
        .step(() => {
          opt.zeroGrad();
          const l = softmaxCrossEntropy(model.forward(x), labels);
          l.backward();
          return l;
        })
        .dispose();
    }
    // growth that is freed every 50 steps (a buffer flushed periodically) is not a leak
    let pending: Tensor[] = [];
    for (let i = 0; i < 300; i++) {
      pending.push(
        opt.step(() => {
          opt.zeroGrad();
          const l = softmaxCrossEntropy(model.forward(x), labels);
          l.backward();
          return l;
        }),
      );
      if (pending.length === 50) {
        for (const t of pending) t.dispose();
        pending = [];
      }
    }
    for (const t of pending) t.dispose();
    expect(leakWarnings(spy)).toHaveLength(0);
    opt.dispose();
    model.dispose();
    x.dispose();
  });

  it('the returned loss left undisposed is a leak the check names', () => {
    scope(() => {
      const model = new Mlp();
      const x = randn([4, 8]);
      const opt = adam(model);
      for (let i = 0; i < 100; i++) {
        opt.step(() => {
          opt.zeroGrad();
          const l = softmaxCrossEntropy(model.forward(x), labels);
          l.backward();
          return l; // never disposed
        });
      }
      opt.dispose();
      model.dispose();
    });
    const warnings = leakWarnings(spy);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/about 1 per step/);
  });

  it('GRADKIT_LEAK_CHECK=0 silences it; configureLeakCheck({ enabled }) overrides the variable', () => {
    process.env.GRADKIT_LEAK_CHECK = '0';
    leakyLoop(100);
    expect(leakWarnings(spy)).toHaveLength(0);
    configureLeakCheck({ enabled: true });
    leakyLoop(100);
    expect(leakWarnings(spy)).toHaveLength(1);
  });

  it('configureLeakCheck({ enabled: false }) silences it', () => {
    configureLeakCheck({ enabled: false });
    leakyLoop(100);
    expect(leakWarnings(spy)).toHaveLength(0);
  });

  it('window sets how many rising steps it takes', () => {
    configureLeakCheck({ window: 8 });
    leakyLoop(8);
    expect(leakWarnings(spy)).toHaveLength(0);
    leakyLoop(9);
    expect(leakWarnings(spy)).toHaveLength(1);
    expect(leakWarnings(spy)[0]).toMatch(/last 8 Adam/);
  });

  it('configureLeakCheck returns the previous settings and rejects bad ones', () => {
    const prev = configureLeakCheck({ window: 10, enabled: false });
    expect(prev).toEqual({ enabled: undefined, window: 64 });
    expect(configureLeakCheck({})).toEqual({ enabled: false, window: 10 });
    expectValueError(
      () => configureLeakCheck({ window: 1 }),
      'configureLeakCheck: window must be an integer >= 2, got 1',
    );
    expectValueError(
      () => configureLeakCheck({ window: 2.5 }),
      'configureLeakCheck: window must be an integer >= 2, got 2.5',
    );
    expectValueError(
      () => configureLeakCheck({ enabled: 'yes' as unknown as boolean }),
      'configureLeakCheck: enabled must be a boolean, got yes',
    );
  });
});
