// Memory of training loops (issue 13, "Memory without ceremony"): opt.step(closure) runs the
// closure and the update in a scope, step() frees its own temporaries, and the loops the tensor
// and optimizers READMEs show stay flat (tensors, device arrays, buffers, bytes): the tensor README's
// PyTorch-style loop over 2,000 steps (the check), the others over 500.
import {
  linear,
  Module,
  memory,
  mseLoss,
  noGrad,
  Rng,
  randn,
  scope,
  softmaxCrossEntropy,
  type Tensor,
  zeros,
} from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import {
  adam,
  adamTransform,
  adamw,
  chain,
  clipByGlobalNorm,
  clipGradNorm,
  cosineAnnealingSchedule,
  fromTransformation,
  lamb,
  sgd,
} from './index.js';

const STEPS = 2000;
/** The other loops: 500 steps (the 2,000-step gl runs take seconds each under SwiftShader). */
const SHORT = 500;
const FIRST = 100;

/** Live tensors and the device's arrays, buffers and bytes (what "flat" compares). */
const counts = () => {
  const m = memory();
  return { tensors: m.tensors, arrays: m.arrays, buffers: m.buffers, bytes: m.bytes };
};

/**
 * Live tensors, arrays and buffers less the device's cached constants (an index table made on
 * the first cross-entropy and kept for the device's life): compares a test's end with its start.
 */
const owned = () => {
  const m = memory();
  const cached = m.devices.reduce((n, d) => n + d.cached, 0);
  return { tensors: m.tensors, arrays: m.arrays - cached, buffers: m.buffers - cached };
};

/** The tensor README's model, verbatim. */
class Mlp extends Module {
  readonly w1 = this.registerParameter('w1', randn([16, 8], { std: 0.35 }));
  readonly b1 = this.registerParameter('b1', zeros([16]));
  readonly w2 = this.registerParameter('w2', randn([3, 16], { std: 0.25 }));
  readonly b2 = this.registerParameter('b2', zeros([3]));
  forward(x: Tensor): Tensor {
    return linear(linear(x, this.w1, this.b1, { activation: 'relu' }), this.w2, this.b2);
  }
}

/** Runs `loop(step)` `steps` times; returns the counts after step FIRST and after the last. */
function runFlat(
  steps: number,
  loop: (step: number) => void,
): {
  atFirst: ReturnType<typeof counts>;
  atLast: ReturnType<typeof counts>;
} {
  let atFirst = counts();
  for (let step = 0; step < steps; step++) {
    loop(step);
    if (step + 1 === FIRST) atFirst = counts();
  }
  return { atFirst, atLast: counts() };
}

describe.each(testBackends)('training-loop memory on %s', (backend) => {
  useBackend(backend);

  it('the tensor README loop (PyTorch style, opt.step(closure)) is flat over 2,000 steps', () => {
    const before = owned();
    const model = new Mlp();
    const x = randn([32, 8]);
    const labels = Array.from({ length: 32 }, (_, i) => i % 3);
    const opt = adam(model, { lr: 1e-3 });
    const seen: number[] = [];
    const { atFirst, atLast } = runFlat(STEPS, (step) => {
      // as in packages/tensor/README.md, "Training loops that do not leak"
      const loss = opt.step(() => {
        opt.zeroGrad();
        const l = softmaxCrossEntropy(model.forward(x), labels);
        l.backward();
        return l; // the forward's other tensors are freed when the step ends
      });
      if (step % 500 === 0) seen.push(loss.item());
      loss.dispose();
    });
    expect(atLast).toEqual(atFirst);
    expect(seen[seen.length - 1]).toBeLessThan(seen[0]); // it trains
    opt.dispose();
    model.dispose();
    x.dispose();
    expect(owned()).toEqual(before);
  });

  it('the tensor README loop with scope() is flat over 500 steps', () => {
    const before = owned();
    const model = new Mlp();
    const x = randn([32, 8]);
    const labels = Array.from({ length: 32 }, (_, i) => i % 3);
    const opt = sgd(model, { lr: 0.1, momentum: 0.9 });
    const { atFirst, atLast } = runFlat(SHORT, () => {
      scope(() => {
        opt.zeroGrad();
        const loss = softmaxCrossEntropy(model.forward(x), labels);
        loss.backward();
        opt.step();
      });
    });
    expect(atLast).toEqual(atFirst);
    opt.dispose();
    model.dispose();
    x.dispose();
    expect(owned()).toEqual(before);
  });

  it("the tensor README's first example (hand-written SGD in scope()) is flat over 500 steps", () => {
    const before = owned();
    const model = new Mlp();
    const x = randn([32, 8]);
    const labels = Array.from({ length: 32 }, (_, i) => i % 3);
    const { atFirst, atLast } = runFlat(SHORT, () => {
      const loss = scope(() => {
        const l = softmaxCrossEntropy(model.forward(x), labels);
        l.backward();
        noGrad(() => {
          for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.1)));
        });
        model.zeroGrad();
        return l;
      });
      loss.dispose();
    });
    expect(atLast).toEqual(atFirst);
    model.dispose();
    x.dispose();
    expect(owned()).toEqual(before);
  });

  it('the optimizers README example (adamw, schedule, clipping in the closure) is flat over 500 steps', () => {
    const before = owned();
    class Regressor extends Module {
      readonly w = this.registerParameter('w', randn([1, 3], { std: 0.1 }));
      readonly b = this.registerParameter('b', zeros([1]));
      forward(x: Tensor): Tensor {
        return linear(x, this.w, this.b);
      }
    }
    const rng = new Rng(0);
    const x = randn([64, 3], { rng });
    const y = scope(() => x.matmul(randn([3, 1], { rng })).add(0.5));
    const model = new Regressor();
    const opt = adamw(model, { lr: 0.05, weightDecay: 1e-4 });
    const schedule = cosineAnnealingSchedule({ lr: 0.05, tMax: SHORT });
    let last = Number.NaN;
    const { atFirst, atLast } = runFlat(SHORT, (step) => {
      opt.setLr(schedule(step));
      const loss = opt.step(() => {
        opt.zeroGrad();
        const l = mseLoss(model.forward(x), y);
        l.backward();
        clipGradNorm(model, 1.0).dispose();
        return l;
      });
      if (step === SHORT - 1) last = loss.item();
      loss.dispose();
    });
    expect(atLast).toEqual(atFirst);
    expect(last).toBeLessThan(1e-3);
    opt.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
    expect(owned()).toEqual(before);
  });

  it('a transformation optimizer with a chain is flat over 500 closure steps', () => {
    const before = owned();
    const model = new Mlp();
    const x = randn([32, 8]);
    const labels = Array.from({ length: 32 }, (_, i) => i % 3);
    const opt = fromTransformation(model, chain(clipByGlobalNorm(1), adamTransform({ lr: 1e-3 })));
    const { atFirst, atLast } = runFlat(SHORT, () => {
      opt
        .step(() => {
          opt.zeroGrad();
          const l = softmaxCrossEntropy(model.forward(x), labels);
          l.backward();
          return l;
        })
        .dispose();
    });
    expect(atLast).toEqual(atFirst);
    opt.dispose();
    model.dispose();
    x.dispose();
    expect(owned()).toEqual(before);
  });
});

describe.each(testBackends)('opt.step(closure) scopes on %s', (backend) => {
  useBackend(backend);

  const setup = () => {
    const model = new Mlp();
    const x = randn([4, 8]);
    const labels = [0, 1, 2, 0];
    return {
      model,
      x,
      labels,
      dispose: () => {
        model.dispose();
        x.dispose();
      },
    };
  };

  const faces = [
    ['Adam', (m: Module) => adam(m, { lr: 1e-3 })],
    ['TransformationOptimizer', (m: Module) => fromTransformation(m, adamTransform({ lr: 1e-3 }))],
  ] as const;

  for (const [name, make] of faces) {
    it(`${name}: frees the closure's intermediates, the returned loss survives`, () => {
      const { model, x, labels, dispose } = setup();
      const opt = make(model);
      const before = owned();
      let logits: Tensor | null = null;
      const loss = opt.step(() => {
        opt.zeroGrad();
        logits = model.forward(x);
        const l = softmaxCrossEntropy(logits, labels);
        l.backward();
        return l;
      });
      expect((logits as Tensor | null)?.isDisposed).toBe(true);
      expect(loss.isDisposed).toBe(false);
      expect(Number.isFinite(loss.item())).toBe(true);
      // the loss, and the parameters' new gradients (4), are all that is left
      expect(memory().tensors - before.tensors).toBe(1 + 4);
      loss.dispose();
      opt.zeroGrad();
      expect(owned()).toEqual(before);
      opt.dispose();
      dispose();
    });

    it(`${name}: returned tensors (at any depth) move to the caller's scope`, () => {
      const { model, x, labels, dispose } = setup();
      const opt = make(model);
      const before = owned();
      let kept: { loss: Tensor; logits: Tensor } | null = null;
      scope(() => {
        kept = opt.step(() => {
          opt.zeroGrad();
          const logits = model.forward(x);
          const loss = softmaxCrossEntropy(logits, labels);
          loss.backward();
          return { loss, logits };
        });
        expect(kept.loss.isDisposed).toBe(false);
        expect(kept.logits.shape).toEqual([4, 3]);
      });
      const k = kept as { loss: Tensor; logits: Tensor } | null;
      expect(k?.loss.isDisposed).toBe(true);
      expect(k?.logits.isDisposed).toBe(true);
      opt.zeroGrad();
      expect(owned()).toEqual(before);
      opt.dispose();
      dispose();
    });

    it(`${name}: a closure that throws leaves nothing behind and updates nothing`, () => {
      const { model, x, labels, dispose } = setup();
      const opt = make(model);
      const w = model.namedParameters().find(([n]) => n === 'w1')![1];
      const w0 = w.dataSync().slice();
      const before = owned();
      expect(() =>
        opt.step(() => {
          const l = softmaxCrossEntropy(model.forward(x), labels);
          l.mul(2);
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(owned()).toEqual(before);
      expect(Array.from(w.dataSync())).toEqual(Array.from(w0));
      opt.dispose();
      dispose();
    });
  }

  it('step() without a closure frees the update temporaries (Adam, SGD momentum, LAMB, chain)', () => {
    const { model, x, labels, dispose } = setup();
    const opts = [
      adam(model, { lr: 1e-3, amsgrad: true }),
      sgd(model, { lr: 0.1, momentum: 0.9, nesterov: true }),
      lamb(model, { lr: 1e-3, weightDecay: 0.01 }),
      fromTransformation(model, chain(clipByGlobalNorm(0.5), adamTransform({ lr: 1e-3 }))),
    ];
    scope(() => softmaxCrossEntropy(model.forward(x), labels).backward());
    for (const opt of opts) {
      const before = owned();
      for (let i = 0; i < 3; i++) opt.step();
      expect(owned()).toEqual(before);
      opt.dispose();
    }
    model.zeroGrad();
    dispose();
  });

  it('non-tensor results pass through', () => {
    const { model, x, labels, dispose } = setup();
    const opt = adam(model);
    const before = owned();
    const v = opt.step(() => {
      opt.zeroGrad();
      const l = softmaxCrossEntropy(model.forward(x), labels);
      l.backward();
      return l.item();
    });
    expect(typeof v).toBe('number');
    expect(opt.step()).toBeUndefined();
    opt.zeroGrad();
    expect(owned()).toEqual(before);
    opt.dispose();
    dispose();
  });
});
