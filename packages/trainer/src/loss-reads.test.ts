import type { BackendName } from '@gradkit/kernels';
import { createDevice, registerBackend, unregisterBackend } from '@gradkit/kernels';
import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import type { Module } from '@gradkit/tensor';
import { memory, Rng, setDevice } from '@gradkit/tensor';
import type { CountingBackend } from '@gradkit/test-utils';
import { toyBackendFactory } from '@gradkit/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { Callback } from './callbacks/callback.js';
import { ProgressBar } from './callbacks/progress.js';
import { Dataset } from './data/dataset.js';
import type { BatchLoss } from './logs.js';
import { NonFiniteError, Trainer } from './trainer.js';

// How often training reads values back. Two backends registered from outside the kernels package
// count every read: 'slow-reads' says a synchronous read stalls (as on a GPU), 'async-only' has no
// synchronous read at all (as WebGPU). Losses are collected on the device and read once per
// lossReadInterval steps; the history, the weights and a resumed run are the same bit for bit
// whatever the interval.

const slow = toyBackendFactory('slow-reads', -10, 'stalls');
const asyncOnly = toyBackendFactory('async-only', -20, 'none');
registerBackend(slow);
registerBackend(asyncOnly);
afterAll(() => {
  unregisterBackend('slow-reads');
  unregisterBackend('async-only');
  setDevice(createDevice({ backend: 'cpu' }));
});

const N = 200; // rows; batch 16 -> 13 batches per epoch
function data(seed = 3): Dataset {
  const rng = new Rng(seed);
  const features = Float32Array.from({ length: N * 4 }, () => rng.normal());
  const labels = Int32Array.from({ length: N }, (_, i) =>
    features[i * 4] + features[i * 4 + 1] > 0 ? 1 : 0,
  );
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 2, name: 'reads' });
}

function setup(backend: string): { trainer: Trainer; model: Module; device: CountingBackend | null } {
  const factory = backend === 'slow-reads' ? slow : backend === 'async-only' ? asyncOnly : null;
  const before = factory?.instances.length ?? 0;
  setDevice(createDevice({ backend: backend as BackendName }));
  const model = buildModel(
    [{ type: 'linear', in: 4, out: 8 }, { type: 'relu' }, { type: 'linear', in: 8, out: 2 }],
    { rng: new Rng(7) },
  );
  const trainer = new Trainer({ model, optimizer: adam(model, { lr: 0.02 }) });
  return { trainer, model, device: factory ? factory.instances[before] : null };
}

const weights = (m: Module) => Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.data)]);

describe('loss reads', () => {
  it('one read per lossReadInterval steps, plus two per epoch, and the same history as reading every step', () => {
    const runs = [1, 5, 32].map((interval) => {
      const { trainer, model, device } = setup('slow-reads');
      const h = trainer.fit(data(), { epochs: 3, batchSize: 16, seed: 1, lossReadInterval: interval });
      const reads = device!.counts.sync;
      const out = { logs: h.epochs.map((e) => e.logs), w: weights(model), reads };
      model.dispose();
      return { interval, ...out };
    });
    const batches = Math.ceil(N / 16);
    for (const r of runs) {
      // per epoch: the loss windows, the accuracy sum, the finite-weights flag
      expect(r.reads, `interval ${r.interval}`).toBe(3 * (Math.ceil(batches / r.interval) + 2));
    }
    expect(runs[1].logs).toEqual(runs[0].logs);
    expect(runs[2].logs).toEqual(runs[0].logs);
    expect(runs[2].w).toEqual(runs[0].w);
    // and the same as the built-in cpu backend, which reads every loss before its update
    const cpu = setup('cpu');
    const hc = cpu.trainer.fit(data(), { epochs: 3, batchSize: 16, seed: 1 });
    expect(hc.epochs.map((e) => e.logs)).toEqual(runs[0].logs);
    cpu.model.dispose();
  });

  it('defaults: every step where reads are cheap, every 32 steps where they stall', () => {
    const { trainer, model, device } = setup('slow-reads');
    trainer.fit(data(), { epochs: 2, batchSize: 4, seed: 1 }); // 50 batches per epoch
    expect(device!.counts.sync).toBe(2 * (Math.ceil(50 / 32) + 2));
    model.dispose();
  });

  it('validation costs two reads per pass; a non-live progress bar none', () => {
    const { trainer, model, device } = setup('slow-reads');
    const seen: BatchLoss[] = [];
    const spy: Callback = { name: 'spy', onLossesRead: (b) => seen.push(...b) };
    const stream = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
    trainer.fit(data(), {
      epochs: 2,
      batchSize: 16,
      seed: 1,
      validationSplit: 0.25,
      lossReadInterval: 4,
      callbacks: [new ProgressBar({ stream }), spy],
    });
    const batches = Math.ceil(150 / 16);
    expect(device!.counts.sync).toBe(2 * (Math.ceil(batches / 4) + 2 + 2));
    // every batch loss delivered once, in order
    expect(seen.map((b) => `${b.epoch}:${b.batch}`)).toEqual(
      [1, 2].flatMap((e) => Array.from({ length: batches }, (_, b) => `${e}:${b}`)),
    );
    model.dispose();
  });

  it('extra metrics read the logits of each batch once, in fit and in evaluate, and agree with accuracy', () => {
    setDevice(createDevice({ backend: 'slow-reads' as BackendName }));
    const device = slow.instances[slow.instances.length - 1];
    const m2 = buildModel(
      [{ type: 'linear', in: 4, out: 8 }, { type: 'relu' }, { type: 'linear', in: 8, out: 2 }],
      { rng: new Rng(7) },
    );
    // host-side accuracy from the logits the trainer hands over
    const hostAccuracy = () => {
      let hits = 0;
      let seen = 0;
      return {
        reset() {
          hits = 0;
          seen = 0;
        },
        update(logits: Float32Array, labels: Int32Array, classes: number) {
          for (let i = 0; i < labels.length; i++) {
            const row = logits.subarray(i * classes, (i + 1) * classes);
            if (row.indexOf(Math.max(...row)) === labels[i]) hits++;
          }
          seen += labels.length;
        },
        value: () => hits / seen,
      };
    };
    const trainer = new Trainer({
      model: m2,
      optimizer: adam(m2, { lr: 0.02 }),
      metrics: { hostAcc: hostAccuracy },
    });
    const h = trainer.fit(data(), {
      epochs: 1,
      batchSize: 16,
      seed: 1,
      validationSplit: 0.25,
      lossReadInterval: 4,
    });
    const batches = Math.ceil(150 / 16);
    const valBatches = Math.ceil(50 / 256);
    // windows + accuracy + finite flag, one logits read per batch, then validation: 2 + its logits
    expect(device.counts.sync).toBe(Math.ceil(batches / 4) + 2 + batches + 2 + valBatches);
    const logs = h.epochs[0].logs;
    expect(logs.val_hostAcc).toBeCloseTo(logs.val_accuracy, 12);
    expect(logs.hostAcc).toBeGreaterThan(0);
    const r = trainer.evaluate(data(9));
    expect(r.hostAcc).toBeCloseTo(r.accuracy, 12);
    m2.dispose();
  });

  it('a callback that reads info.loss gets it at once (a read per step), as before', () => {
    const { trainer, model, device } = setup('slow-reads');
    const got: number[] = [];
    const eager: Callback = { name: 'eager', onBatchEnd: (info) => got.push(info.loss) };
    const h = trainer.fit(data(), {
      epochs: 1,
      batchSize: 16,
      seed: 1,
      lossReadInterval: 8,
      callbacks: [eager],
    });
    const batches = Math.ceil(N / 16);
    expect(got).toHaveLength(batches);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(device!.counts.sync).toBe(batches + 2);
    const mean = got.reduce((s, v, i) => s + v * (i < batches - 1 ? 16 : N - 16 * (batches - 1)), 0) / N;
    expect(h.epochs[0].logs.loss).toBeCloseTo(mean, 12);
    model.dispose();
  });

  it('resume is bit-identical with windowed reads', () => {
    const straight = setup('slow-reads');
    straight.trainer.fit(data(), { epochs: 3, batchSize: 16, seed: 2, lossReadInterval: 6 });
    const first = setup('slow-reads');
    first.trainer.fit(data(), { epochs: 2, batchSize: 16, seed: 2, lossReadInterval: 6 });
    const ckpt = first.trainer.checkpoint();
    const resumed = setup('slow-reads');
    resumed.trainer.restore(ckpt);
    resumed.trainer.fit(data(), { epochs: 3, batchSize: 16, seed: 2, lossReadInterval: 6 });
    expect(weights(resumed.model)).toEqual(weights(straight.model));
    expect(resumed.trainer.history).toEqual(
      straight.trainer.history.map((r, i) => ({ ...r, seconds: resumed.trainer.history[i].seconds })),
    );
    for (const s of [straight, first, resumed]) s.model.dispose();
  });

  it('a NaN loss between reads is named by epoch, batch and step at the next read', () => {
    const { trainer, model } = setup('slow-reads');
    const ds = data();
    ds.features[(16 * 2 + 3) * 4] = Number.NaN; // batch 2 (no shuffle)
    expect(() => trainer.fit(ds, { epochs: 1, batchSize: 16, shuffle: false, lossReadInterval: 5 })).toThrow(
      /loss is NaN at epoch 1, batch 2 \(step 3\); found at the loss read after step 5 \(lossReadInterval 5\)/,
    );
    expect(trainer.history).toHaveLength(0);
    model.dispose();
  });

  it('memory stays flat across epochs with windowed reads', () => {
    const { trainer, model } = setup('slow-reads');
    trainer.fit(data(), { epochs: 1, batchSize: 16, seed: 1, lossReadInterval: 3 });
    const a = memory();
    trainer.fit(data(), { epochs: 4, batchSize: 16, seed: 1, lossReadInterval: 3 });
    const b = memory();
    expect({ tensors: b.tensors, arrays: b.arrays }).toEqual({ tensors: a.tensors, arrays: a.arrays });
    model.dispose();
  });
});

describe('a backend without synchronous reads', () => {
  it('fit says to use fitAsync; fitAsync and evaluateAsync train with awaited reads only', async () => {
    const { trainer, model, device } = setup('async-only');
    expect(() => trainer.fit(data(), { epochs: 1 })).toThrow(
      /reads only asynchronously: use await trainer.fitAsync/,
    );
    const h = await trainer.fitAsync(data(), { epochs: 3, batchSize: 16, seed: 1, lossReadInterval: 4 });
    expect(device!.counts.sync).toBe(0);
    expect(device!.counts.async).toBe(3 * (Math.ceil(13 / 4) + 2));
    const r = await trainer.evaluateAsync(data(9));
    expect(device!.counts.sync).toBe(0);
    // the same numbers as synchronous training on cpu
    const cpu = setup('cpu');
    const hc = cpu.trainer.fit(data(), { epochs: 3, batchSize: 16, seed: 1 });
    expect(h.epochs.map((e) => e.logs)).toEqual(hc.epochs.map((e) => e.logs));
    expect(r).toEqual(cpu.trainer.evaluate(data(9)));
    expect(h.epochs[2].logs.accuracy).toBeGreaterThan(0.8);
    model.dispose();
    cpu.model.dispose();
  });

  it('tensor reads say to read asynchronously', () => {
    const { model } = setup('async-only');
    expect(() => model.stateDict()).toThrow(/reads only asynchronously: use readAsync\(\)/);
    model.dispose();
  });
});

describe('non-finite guard unchanged where reads are cheap', () => {
  it('lossReadInterval 1 still checks before the update and names the layer', () => {
    const { trainer, model } = setup('cpu');
    const ds = data();
    ds.features[(16 * 2 + 3) * 4] = Number.NaN;
    expect(() => trainer.fit(ds, { epochs: 1, batchSize: 16, shuffle: false })).toThrow(NonFiniteError);
    expect(() => trainer.fit(ds, { epochs: 1, batchSize: 16, shuffle: false })).toThrow(
      /loss is NaN at epoch 1, batch 2; first non-finite output: layer 0 \(Linear\)/,
    );
    model.dispose();
  });
});
