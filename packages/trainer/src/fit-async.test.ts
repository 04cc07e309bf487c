import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import type { Module } from '@gradkit/tensor';
import { memory, Rng } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import type { Callback } from './callbacks/callback.js';
import { Dataset } from './data/dataset.js';
import { Trainer } from './trainer.js';

// fitAsync does not freeze the thread it runs on: between batches it gives the event loop a turn
// (every yieldEveryMs), so timers fire while it trains; an AbortSignal stops it between batches.

function data(n: number, seed = 3): Dataset {
  const rng = new Rng(seed);
  const features = Float32Array.from({ length: n * 8 }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) =>
    features[i * 8] + features[i * 8 + 1] > 0 ? 1 : 0,
  );
  return new Dataset({ features, labels, numFeatures: 8, numClasses: 2, name: 'async' });
}

function setup(): { trainer: Trainer; model: Module } {
  const model = buildModel(
    [{ type: 'linear', in: 8, out: 64 }, { type: 'relu' }, { type: 'linear', in: 64, out: 2 }],
    { rng: new Rng(7) },
  );
  return { model, trainer: new Trainer({ model, optimizer: adam(model, { lr: 0.01 }) }) };
}

const weights = (m: Module) => Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.data)]);

/** Counts the ticks of a 1 ms interval timer while `run` goes on. */
async function ticksDuring<T>(run: () => Promise<T> | T): Promise<{ ticks: number; ms: number; result: T }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  try {
    const result = await run();
    return { ticks, ms: performance.now() - t0, result };
  } finally {
    clearInterval(timer);
  }
}

describe.each(testBackends)('fitAsync on %s', (backend) => {
  useBackend(backend);
  const train = data(1200);

  it('keeps a timer firing while it trains, and ends with the weights of fit', async () => {
    const sync = setup();
    const blocked = await ticksDuring(() => sync.trainer.fit(train, { epochs: 3, batchSize: 16, seed: 1 }));
    expect(blocked.ticks).toBe(0); // fit holds the thread: no timer runs until it returns

    const async = setup();
    const batches: number[] = [];
    const progress: Callback = { name: 'progress', onBatchEnd: (info) => batches.push(info.step) };
    const free = await ticksDuring(() =>
      async.trainer.fitAsync(train, {
        epochs: 3,
        batchSize: 16,
        seed: 1,
        callbacks: [progress],
        yieldEveryMs: 4,
      }),
    );
    // a turn after every ~4 ms of training (timers fire at most once a turn): at least one tick per
    // 100 ms of wall time, a bound loose enough for a machine whose cores are busy with other jobs
    // (the process is then descheduled for whole slices, training and timer alike: measured 24 ms
    // per tick at load 6 on 2 cores, 4 ms when idle)
    expect(free.ticks).toBeGreaterThanOrEqual(Math.floor(free.ms / 100));
    expect(free.ticks).toBeGreaterThan(3);
    expect(batches.length).toBe(3 * 75);
    expect(free.result.epochs.map((r) => r.logs.loss)).toEqual(blocked.result.epochs.map((r) => r.logs.loss));
    expect(weights(async.model)).toEqual(weights(sync.model));
  });

  it('yieldEveryMs: 0 yields after every batch; Infinity never', async () => {
    const small = data(64);
    const everyBatch = await ticksDuring(() =>
      setup().trainer.fitAsync(small, { epochs: 1, batchSize: 8, yieldEveryMs: 0 }),
    );
    const never = await ticksDuring(() =>
      setup().trainer.fitAsync(small, { epochs: 1, batchSize: 8, yieldEveryMs: Number.POSITIVE_INFINITY }),
    );
    expect(never.ticks).toBe(0);
    expect(everyBatch.ticks).toBeGreaterThan(0);
    await expect(setup().trainer.fitAsync(small, { epochs: 1, yieldEveryMs: -1 })).rejects.toThrow(
      'fitAsync: yieldEveryMs must be a non-negative number of milliseconds, got -1',
    );
  });

  it('an AbortSignal stops it between batches, keeps the completed steps and leaves no tensor behind', async () => {
    const { trainer } = setup();
    trainer.fit(train, { epochs: 1, batchSize: 16, seed: 1 }); // warm up: what fit keeps alive is there
    const before = memory();
    const controller = new AbortController();
    let seen = 0;
    const stopper: Callback = {
      name: 'stopper',
      onBatchEnd: (info) => {
        seen++;
        if (info.epoch === 2 && info.batch === 9) setTimeout(() => controller.abort(), 0);
      },
    };
    const run = trainer.fitAsync(train, {
      epochs: 3,
      batchSize: 16,
      seed: 1,
      callbacks: [stopper],
      yieldEveryMs: 0,
      signal: controller.signal,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(trainer.epoch).toBe(1); // the interrupted epoch is not in the history
    expect(trainer.history.length).toBe(1);
    expect(trainer.step).toBe(75 + seen);
    expect(seen).toBeGreaterThanOrEqual(10);
    expect(seen).toBeLessThan(75);
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.buffers).toBe(before.buffers);
    // the trainer is still usable: a later fit runs the interrupted epoch again
    const h = await trainer.fitAsync(train, { epochs: 2, batchSize: 16, seed: 1 });
    expect(h.epochs.map((r) => r.epoch)).toEqual([1, 2]);
    // an already aborted signal stops before the first batch
    await expect(
      trainer.fitAsync(train, { epochs: 3, signal: AbortSignal.abort(new Error('user stop')) }),
    ).rejects.toThrow('user stop');
    await expect(trainer.evaluateAsync(train, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('evaluateAsync yields too, with the result of evaluate', async () => {
    const { trainer } = setup();
    const want = trainer.evaluate(train, { batchSize: 16 });
    const r = await ticksDuring(() => trainer.evaluateAsync(train, { batchSize: 16, yieldEveryMs: 0 }));
    expect(r.result).toEqual(want);
    expect(r.ticks).toBeGreaterThan(0);
  });
});
