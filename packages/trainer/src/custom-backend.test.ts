import type { BackendName } from '@gradkit/kernels';
import {
  ACTIVATION_GRAD,
  availableBackends,
  BackendError,
  BINARY,
  createDevice,
  registerBackend,
  registeredBackends,
  SCALAR,
  UNARY,
  unregisterBackend,
  ValueError,
} from '@gradkit/kernels';
import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import { Rng, setDevice } from '@gradkit/tensor';
import { toyBackendFactory } from '@gradkit/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { Dataset } from './data/dataset.js';
import { Trainer } from './trainer.js';

// A backend registered from outside @gradkit/kernels (tools/test-utils: the CPU kernels under the
// name 'toy', read-backs counted) is selectable by name, by GRADKIT_BACKEND and by priority, runs
// every element-wise kernel, the reductions, matmul, transpose and gather with the same results as
// the built-in cpu backend, and trains a model end to end.

const toy = toyBackendFactory('toy', 0);
registerBackend(toy);
afterAll(() => {
  unregisterBackend('toy');
  unregisterBackend('toy-first');
  setDevice(createDevice({ backend: 'cpu' }));
});

function values(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

describe('the backend registry', () => {
  it('lists a registered backend by priority and creates devices on it by name', () => {
    expect(registeredBackends()).toContain('toy');
    const names = registeredBackends();
    expect(names.indexOf('toy')).toBeGreaterThan(names.indexOf('cpu')); // priority 0 < cpu's 100
    const a = availableBackends().find((b) => b.name === 'toy')!;
    expect(a).toEqual({ name: 'toy', available: true, gpuMode: 'toy', reason: '' });
    const d = createDevice({ backend: 'toy' as BackendName });
    expect(d.info().name).toBe('toy');
    expect(d.info().reason).toMatch(/requested by option: backend 'toy'/);
    d.destroy();
  });

  it('automatic selection takes the highest priority that starts', () => {
    const first = toyBackendFactory('toy-first', 1000);
    registerBackend(first);
    const saved = process.env.GRADKIT_BACKEND;
    delete process.env.GRADKIT_BACKEND;
    try {
      const d = createDevice();
      expect(d.info().name).toBe('toy-first');
      expect(d.info().reason).toBe('auto: best available');
      d.destroy();
      registerBackend(
        { ...first, probe: () => ({ ok: false, mode: 'x', reason: 'switched off' }) },
        { replace: true },
      );
      const e = createDevice();
      expect(e.info().name).not.toBe('toy-first');
      expect(e.info().reason).toMatch(/toy-first unavailable: switched off/);
      e.destroy();
    } finally {
      if (saved !== undefined) process.env.GRADKIT_BACKEND = saved;
      unregisterBackend('toy-first');
    }
  });

  it('GRADKIT_BACKEND names a registered backend', () => {
    const saved = process.env.GRADKIT_BACKEND;
    process.env.GRADKIT_BACKEND = 'toy';
    try {
      const d = createDevice();
      expect(d.info().name).toBe('toy');
      expect(d.info().reason).toBe('requested by GRADKIT_BACKEND=toy');
      d.destroy();
    } finally {
      if (saved === undefined) delete process.env.GRADKIT_BACKEND;
      else process.env.GRADKIT_BACKEND = saved;
    }
  });

  it('refuses bad registrations and unknown names with clear errors', () => {
    expect(() => registerBackend(toy)).toThrow(/already registered/);
    expect(() => registerBackend({ ...toy, name: 'Bad Name' })).toThrow(ValueError);
    expect(() => registerBackend({ ...toy, name: 'auto' })).toThrow(/not a backend name/);
    expect(() => registerBackend({ ...toy, name: 'x', priority: Number.NaN })).toThrow(/priority/);
    expect(() => createDevice({ backend: 'nope' as BackendName })).toThrow(/unknown backend 'nope'/);
    expect(unregisterBackend('never-registered')).toBe(false);
  });

  it('asking for gl when it is not registered says how to register it', async () => {
    const had = registeredBackends().includes('gl');
    if (had) unregisterBackend('gl');
    try {
      expect(() => createDevice({ backend: 'gl' })).toThrow(BackendError);
      expect(() => createDevice({ backend: 'gl' })).toThrow(/registered by import '@gradkit\/kernels\/gl'/);
    } finally {
      // the setup file registered gl for this process: put it back
      if (had) (await import('@gradkit/kernels/gl')).registerGlBackend();
    }
    expect(registeredBackends().includes('gl')).toBe(had);
  });
});

describe('kernels on a backend registered from outside @gradkit/kernels', () => {
  const d = createDevice({ backend: 'toy' as BackendName });
  const cpu = createDevice({ backend: 'cpu' });
  afterAll(() => {
    d.destroy();
    cpu.destroy();
  });
  const same = (f: (dev: typeof d) => ReturnType<typeof d.array>) => {
    const a = f(d);
    const b = f(cpu);
    expect(Array.from(a.read())).toEqual(Array.from(b.read()));
    a.dispose();
    b.dispose();
  };

  it.each(Object.keys(UNARY))('unary %s', (op) => {
    const x = values(37, 1);
    same((dev) => dev.unary(op as keyof typeof UNARY, dev.array(x)));
  });
  it.each(Object.keys(SCALAR))('scalar %s', (op) => {
    const x = values(37, 2, 0.1, 3);
    const spec = SCALAR[op as keyof typeof SCALAR];
    same((dev) => dev.scalar(op as keyof typeof SCALAR, dev.array(x), ...[0.5, 2].slice(0, spec.params)));
  });
  it.each(Object.keys(BINARY))('binary %s, broadcast', (op) => {
    const a = values(24, 3);
    const b = values(6, 4);
    same((dev) => dev.binary(op as keyof typeof BINARY, dev.array(a, [4, 6]), dev.array(b, [6])));
  });
  it.each(Object.keys(ACTIVATION_GRAD))('activation gradient %s', (op) => {
    const a = values(20, 5, 0.05, 0.95);
    const b = values(20, 6);
    const params = ACTIVATION_GRAD[op as keyof typeof ACTIVATION_GRAD].params === 1 ? [0.1] : [];
    same((dev) =>
      dev.activationGrad(op as keyof typeof ACTIVATION_GRAD, dev.array(a), dev.array(b), ...params),
    );
  });
  it.each(['sum', 'max', 'min', 'prod', 'argmax', 'argmin', 'logsumexp'] as const)('reduce %s', (op) => {
    const x = values(60, 7);
    same((dev) => dev.reduce(op, dev.array(x, [3, 4, 5]), 1));
  });
  it('matmul (all transposes), transpose, gather', () => {
    const a = values(12, 8);
    const b = values(20, 9);
    same((dev) => dev.matmul(dev.array(a, [3, 4]), dev.array(b, [4, 5])));
    same((dev) => dev.matmul(dev.array(a, [4, 3]), dev.array(b, [4, 5]), { transA: true }));
    same((dev) => dev.matmul(dev.array(a, [3, 4]), dev.array(b, [5, 4]), { transB: true }));
    same((dev) => dev.transpose(dev.array(b, [4, 5]), [1, 0]));
    same((dev) => dev.gather(dev.array(b, [4, 5]), dev.array([3, 0, 3]), 0));
  });
});

describe('training on a backend registered from outside @gradkit/kernels', () => {
  it('fits a model with the same losses as cpu, and the counting backend sees every read-back', () => {
    const rng = new Rng(11);
    const n = 64;
    const features = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const labels = Int32Array.from({ length: n }, (_, i) => (features[i * 3] > 0 ? 1 : 0));
    const run = (backend: string) => {
      setDevice(createDevice({ backend: backend as BackendName }));
      const model = buildModel(
        [{ type: 'linear', in: 3, out: 8 }, { type: 'relu' }, { type: 'linear', in: 8, out: 2 }],
        { rng: new Rng(2) },
      );
      const trainer = new Trainer({ model, optimizer: adam(model, { lr: 0.05 }) });
      const h = trainer.fit(new Dataset({ features, labels, numFeatures: 3 }), {
        epochs: 3,
        batchSize: 16,
        seed: 1,
      });
      model.dispose();
      return h.epochs.map((e) => e.logs.loss);
    };
    const before = toy.instances.length;
    const onToy = run('toy');
    const onCpu = run('cpu');
    expect(onToy).toEqual(onCpu);
    expect(onToy[2]).toBeLessThan(onToy[0]);
    const used = toy.instances[before];
    expect(used.counts.sync + used.counts.async).toBeGreaterThan(0);
  });
});
