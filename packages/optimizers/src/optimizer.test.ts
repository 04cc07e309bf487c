import type { Tensor } from '@gradkit/tensor';
import { memory, Parameter, tensor, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adam, type OptimizerStateDict, rmsprop, sgd } from './index.js';
import { expectValueError } from './testing/errors.js';
import { Affine, ALL_OPTIMIZERS, backwardLsq, lsqData } from './testing/models.js';

const live = () => {
  const m = memory();
  return { tensors: m.tensors, arrays: m.arrays, buffers: m.buffers, bytes: m.bytes };
};

describe.each(testBackends)('the stateful optimizer face on %s', (backend) => {
  const device = useBackend(backend);
  // backends that write an update's state and parameter in one pass (Device.mapMulti)
  const fuses = () => typeof device().backend.mapMulti === 'function';

  it('accepts a module, named parameters, pairs, plain tensors and param groups', () => {
    const model = new Affine();
    const named = (o: { paramGroups: readonly { names: readonly string[] }[] }) =>
      o.paramGroups.map((g) => g.names);
    const cases = [
      [adam(model), [['w', 'b']]],
      [adam({ w: model.w, b: model.b }), [['w', 'b']]],
      [adam(model.namedParameters()), [['w', 'b']]],
      [adam(model.parameters()), [['0', '1']]],
      [adam([{ params: [model.w] }, { params: [model.b], lr: 0.1 }]), [['0'], ['1']]],
      [
        adam([{ params: { weight: model.w } }, { params: [['bias', model.b] as const] }]),
        [['weight'], ['bias']],
      ],
    ] as const;
    for (const [opt, names] of cases) {
      expect(named(opt)).toEqual(names);
      opt.dispose();
    }
    model.dispose();
  });

  it('rejects empty, repeated or non-tensor parameters', () => {
    const w = new Parameter([1, 2]);
    expectValueError(() => adam([]), 'Adam: got an empty parameter list');
    expectValueError(() => adam([w, w]), "Adam: parameter '1' appears in more than one place");
    expectValueError(
      () => adam([{ params: [w] }, { params: [w] }]),
      "Adam: parameter '1' appears in more than one place",
    );
    expectValueError(
      () => adam([['a', w] as const, ['a', new Parameter([1])] as const]),
      "Adam: parameter name 'a' appears twice",
    );
    expectValueError(
      () => adam([1, 2] as never),
      'Adam: parameter 0 is neither a Tensor nor a [name, Tensor] pair',
    );
    expectValueError(() => adam({ w: [1, 2] } as never), "Adam: parameter 'w' is not a Tensor");
    expectValueError(() => adam([{ params: [] }]), 'Adam: param group 0 has no parameters');
    w.dispose();
  });

  it('skips parameters without a gradient, whose step count stays put (as PyTorch)', () => {
    const model = new Affine();
    const opt = adam(model, { lr: 0.1 });
    const b0 = model.b.dataSync();
    model.w.grad = tensor([1, 1, 1, 1, 1, 1], [2, 3]);
    opt.step();
    expect(opt.getState('w').step).toBe(1);
    expect(opt.getState('b').step).toBe(0);
    expect(model.b.dataSync()).toEqual(b0);
    expect(() => opt.getState('nope')).toThrow(ValueError);
    opt.dispose();
    model.dispose();
  });

  it.each(ALL_OPTIMIZERS)(
    '%s: one fused kernel per parameter (cpu, wasm; elsewhere one per state tensor and one for the parameter); no read-back, no upload',
    (name, make, slots) => {
      const model = new Affine();
      const { x, y, dispose } = lsqData();
      const opt = make(model);
      for (let i = 0; i < 3; i++) {
        backwardLsq(model, x, y);
        const before = device().memory();
        opt.step();
        const after = device().memory();
        expect(after.readbacks - before.readbacks, 'read-backs').toBe(0);
        expect(after.uploads - before.uploads, 'uploads').toBe(0);
        const kernels = after.kernels - before.kernels;
        if (name === 'LAMB') {
          // m, v, the direction, two squared norms (a square kernel and a sum reduction each) and the parameter
          expect(kernels, 'LAMB kernels for 2 parameters').toBe(2 * 8);
        } else expect(kernels, `${name} kernels for 2 parameters`).toBe(2 * (fuses() ? 1 : slots + 1));
        opt.zeroGrad();
      }
      opt.dispose();
      dispose();
      model.dispose();
    },
  );

  it('RMSprop centered with momentum and weight decay: one kernel per parameter where updates fuse, else one more (the decayed gradient)', () => {
    const model = new Affine();
    const { x, y, dispose } = lsqData();
    const opt = rmsprop(model, { momentum: 0.9, centered: true, weightDecay: 0.1 });
    backwardLsq(model, x, y);
    const before = device().memory().kernels;
    opt.step();
    expect(device().memory().kernels - before).toBe(2 * (fuses() ? 1 : 5));
    opt.dispose();
    dispose();
    model.dispose();
  });

  it.each(ALL_OPTIMIZERS)(
    '%s: live tensors, arrays, buffers and bytes stay flat over 200 steps',
    (_name, make) => {
      const model = new Affine();
      const { x, y, dispose } = lsqData();
      const opt = make(model);
      const run = (n: number) => {
        for (let i = 0; i < n; i++) {
          backwardLsq(model, x, y);
          opt.step();
          opt.zeroGrad();
        }
      };
      run(10);
      const at10 = live();
      run(190);
      expect(live()).toEqual(at10);
      const withState = live();
      opt.dispose();
      expect(live().tensors).toBeLessThan(withState.tensors);
      expect(() => opt.step()).toThrow(ValueError);
      dispose();
      model.dispose();
    },
  );

  it.each(ALL_OPTIMIZERS)('%s: stateDict -> JSON -> loadStateDict resumes bit for bit', (_name, make) => {
    const { x, y, dispose } = lsqData();
    const model = new Affine();
    const opt = make(model);
    const train = (m: Affine, o: typeof opt, n: number): Float32Array[] => {
      const out: Float32Array[] = [];
      for (let i = 0; i < n; i++) {
        backwardLsq(m, x, y);
        o.step();
        o.zeroGrad();
        out.push(m.w.dataSync(), m.b.dataSync());
      }
      return out;
    };
    train(model, opt, 5);
    opt.setLr(opt.getLr() * 0.5); // a schedule's change travels with the state dict
    const json = JSON.stringify({
      optimizer: opt.stateDict(),
      weights: { w: [...model.w.dataSync()], b: [...model.b.dataSync()] },
    });
    const expected = train(model, opt, 6);

    const saved = JSON.parse(json) as {
      optimizer: OptimizerStateDict;
      weights: { w: number[]; b: number[] };
    };
    const resumed = new Affine();
    resumed.w.assign(tensor(saved.weights.w, [2, 3]));
    resumed.b.assign(tensor(saved.weights.b, [2]));
    const opt2 = make(resumed);
    opt2.loadStateDict(saved.optimizer);
    expect(opt2.getLr()).toBe(opt.getLr());
    const got = train(resumed, opt2, 6);
    expect(got).toEqual(expected);
    for (const o of [opt, opt2]) o.dispose();
    for (const m of [model, resumed]) m.dispose();
    dispose();
  });

  it('loadStateDict checks everything before changing anything', () => {
    const model = new Affine();
    const opt = adam(model, { lr: 0.01 });
    model.w.grad = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    model.b.grad = tensor([1, 2], [2]);
    opt.step();
    const good = opt.stateDict();
    const snapshot = JSON.stringify(good);
    const bad = (patch: (sd: OptimizerStateDict) => unknown) =>
      patch(JSON.parse(snapshot)) as OptimizerStateDict;
    expectValueError(
      () => opt.loadStateDict({ ...good, optimizer: 'SGD' }),
      "Adam.loadStateDict: the state dict is of 'SGD', not 'Adam'",
    );
    expectValueError(
      () => opt.loadStateDict({ ...good, paramGroups: [...good.paramGroups, ...good.paramGroups] }),
      'Adam.loadStateDict: expected 1 param groups, got 2',
    );
    expectValueError(
      () =>
        opt.loadStateDict(
          bad((sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0], params: ['b', 'w'] }] })),
        ),
      'Adam.loadStateDict: param group 0 has parameters [b,w], expected [w, b]',
    );
    expectValueError(
      () => opt.loadStateDict(bad((sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0], lr: -1 }] }))),
      'Adam.loadStateDict: lr must be >= 0, got -1',
    );
    expectValueError(
      () =>
        opt.loadStateDict(
          bad((sd) => {
            const s = sd.state as Record<string, { slots: Record<string, unknown> }>;
            s.b.slots.expAvgSq = { shape: [3], data: [1, 2, 3] };
            return sd;
          }),
        ),
      "Adam.loadStateDict: state['b'].slots.expAvgSq: shape [3] differs from the parameter's [2]",
    );
    expect(JSON.stringify(opt.stateDict())).toBe(snapshot);
    opt.dispose();
    model.dispose();
  });

  it('per-group learning rates and hyperparameters, changed between steps', () => {
    const model = new Affine();
    const opt = sgd([{ params: [model.w] }, { params: [model.b], lr: 0.5, momentum: 0.9 }], { lr: 0.1 });
    expect([opt.getLr(0), opt.getLr(1)]).toEqual([0.1, 0.5]);
    expect(opt.getHyperparam('momentum', 1)).toBe(0.9);
    opt.setLr(0.2, 1);
    expect([opt.getLr(0), opt.getLr(1)]).toEqual([0.1, 0.2]);
    opt.setLr(0.3);
    expect([opt.getLr(0), opt.getLr(1)]).toEqual([0.3, 0.3]);
    opt.setHyperparam('momentum', 0.5, 1);
    expect([opt.getHyperparam('momentum', 0), opt.getHyperparam('momentum', 1)]).toEqual([0, 0.5]);
    expectValueError(() => opt.setLr(-1), 'SGD: lr must be >= 0, got -1');
    expectValueError(
      () => opt.setHyperparam('nesterov', true, 0),
      'SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0 and dampening 0',
    );
    expectValueError(() => opt.getLr(2), 'SGD.getLr: group must be an integer in [0, 1], got 2');
    expect(opt.getLr(1)).toBe(0.3); // a rejected change changes nothing

    // the update uses the group's current lr: p <- p - lr g
    const w0 = model.w.dataSync();
    model.w.grad = tensor([1, 1, 1, 1, 1, 1], [2, 3]);
    opt.setLr(0.25, 0);
    opt.step();
    const w1 = model.w.dataSync();
    w0.forEach((v, i) => {
      expect(w1[i]).toBeCloseTo(v - 0.25, 6);
    });
    opt.dispose();
    model.dispose();
  });

  it('step(closure) evaluates the loss with gradients enabled and returns it', () => {
    const model = new Affine();
    const { x, y, dispose } = lsqData();
    const opt = adam(model, { lr: 0.01 });
    let loss: Tensor | undefined;
    const returned = opt.step(() => {
      backwardLsq(model, x, y);
      loss = tensor([1]);
      return loss;
    });
    expect(returned).toBe(loss);
    expect(opt.getState('w').step).toBe(1);
    loss?.dispose();
    opt.dispose();
    dispose();
    model.dispose();
  });
});
