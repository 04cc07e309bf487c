import { getDevice, getRng, manualSeed, Rng, ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { type Batch, toTensors } from './batches.js';
import { Dataset } from './dataset.js';

/** N rows of D features where row i is [i*10, i*10+1, ...]; label i % 3. */
function numbered(n: number, d = 2): Dataset {
  const features = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) features[i * d + j] = i * 10 + j;
  return new Dataset({ features, labels: Int32Array.from({ length: n }, (_, i) => i % 3), numFeatures: d });
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const allIndices = (batches: Iterable<Batch>): number[] => [...batches].flatMap((b) => Array.from(b.indices));

/** Every batch's x and y are the rows its indices name. */
function expectRowsMatch(ds: Dataset, b: Batch): void {
  expect(b.x.length).toBe(b.size * ds.numFeatures);
  expect(b.y.length).toBe(b.size);
  for (let r = 0; r < b.size; r++) {
    const row = b.indices[r];
    expect(Array.from(b.x.subarray(r * ds.numFeatures, (r + 1) * ds.numFeatures))).toEqual(
      Array.from(ds.get(row).x),
    );
    expect(b.y[r]).toBe(ds.labels[row]);
  }
}

describe('Dataset.batches', () => {
  it('without shuffle: index order, last batch partial, every row once', () => {
    const ds = numbered(10);
    const epoch = ds.batches(4);
    expect(epoch.numBatches).toBe(3);
    expect(epoch.rngState).toBeNull();
    expect(Array.from(epoch.order)).toEqual(range(10));
    const batches = [...epoch];
    expect(batches.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(batches.map((b) => b.index)).toEqual([0, 1, 2]);
    expect(allIndices(batches)).toEqual(range(10));
    expect(Array.from(batches[2].x)).toEqual([80, 81, 90, 91]);
    expect(Array.from(batches[2].y)).toEqual([2, 0]);
    for (const b of batches) expectRowsMatch(ds, b);
  });

  it('reusing(): the same batches as iterating, written into one pair of arrays', () => {
    const ds = numbered(11, 3);
    const epoch = ds.batches(4, { shuffle: true, seed: 5, startBatch: 1 });
    const fresh = [...epoch];
    let buffer: ArrayBufferLike | null = null;
    let count = 0;
    for (const b of epoch.reusing()) {
      const want = fresh[count++];
      expect([b.index, b.size]).toEqual([want.index, want.size]);
      expect(Array.from(b.indices)).toEqual(Array.from(want.indices));
      expectRowsMatch(ds, b);
      buffer ??= b.x.buffer;
      expect(b.x.buffer).toBe(buffer); // no allocation per batch
    }
    expect(count).toBe(2); // batches 1 and 2 (startBatch 1), the last one partial
    expect(fresh[1].size).toBe(3);
  });

  it('dropLast leaves out the partial batch; a batch larger than the data is one batch', () => {
    const ds = numbered(10);
    const epoch = ds.batches(4, { dropLast: true });
    expect(epoch.numBatches).toBe(2);
    expect([...epoch].map((b) => b.size)).toEqual([4, 4]);
    expect(ds.batches(5, { dropLast: true }).numBatches).toBe(2);
    expect([...ds.batches(64)].map((b) => b.size)).toEqual([10]);
    expect(ds.batches(64, { dropLast: true }).numBatches).toBe(0);
    expect([...numbered(0).batches(3)]).toEqual([]);
  });

  it('shuffle: a permutation that covers every row exactly once per epoch', () => {
    const ds = numbered(103);
    const rng = new Rng(11);
    const orders: number[][] = [];
    for (let epoch = 0; epoch < 5; epoch++) {
      const it = ds.batches(8, { shuffle: true, rng });
      const seen = allIndices(it);
      expect(seen.length).toBe(103);
      expect([...seen].sort((a, b) => a - b)).toEqual(range(103));
      expect(seen).toEqual(Array.from(it.order));
      for (const b of it) expectRowsMatch(ds, b);
      orders.push(seen);
    }
    // a shared generator advances: each epoch has its own order, none is the identity
    expect(new Set(orders.map((o) => o.join())).size).toBe(5);
    for (const o of orders) expect(o).not.toEqual(range(103));
  });

  it('with dropLast, a shuffled epoch visits distinct rows and leaves out length % batchSize', () => {
    const ds = numbered(23);
    const it = ds.batches(5, { shuffle: true, seed: 2, dropLast: true });
    const seen = allIndices(it);
    expect(seen.length).toBe(20);
    expect(new Set(seen).size).toBe(20);
    expect(seen).toEqual(Array.from(it.order.subarray(0, 20)));
  });

  it('the same seed gives the same batches; iterating twice gives the same batches', () => {
    const ds = numbered(40);
    const a = ds.batches(6, { shuffle: true, seed: 5 });
    const b = ds.batches(6, { shuffle: true, seed: 5 });
    const c = ds.batches(6, { shuffle: true, seed: 6 });
    expect(allIndices(a)).toEqual(allIndices(b));
    expect(allIndices(a)).toEqual(allIndices(a));
    expect(allIndices(a)).not.toEqual(allIndices(c));
    expect(Array.from(a.batch(3).x)).toEqual(Array.from(b.batch(3).x));
    expect(a.rngState).toEqual(new Rng(5).state());
  });

  it('default generator: the global one of @gradkit/tensor (manualSeed)', () => {
    const ds = numbered(30);
    manualSeed(123);
    const first = allIndices(ds.batches(4, { shuffle: true }));
    const second = allIndices(ds.batches(4, { shuffle: true }));
    expect(first).not.toEqual(second);
    manualSeed(123);
    expect(allIndices(ds.batches(4, { shuffle: true }))).toEqual(first);
    const saved = getRng().state();
    const again = ds.batches(4, { shuffle: true });
    expect(again.rngState).toEqual(saved);
  });

  it('exact resume: from the saved order or the saved rng state, skipping done batches', () => {
    const ds = numbered(50);
    const rng = new Rng(9);
    rng.nextU32(); // some earlier use
    const epoch = ds.batches(7, { shuffle: true, rng });
    const full = [...epoch];
    // resume after 3 batches from a JSON checkpoint
    const checkpoint = JSON.parse(
      JSON.stringify({ order: Array.from(epoch.order), rng: epoch.rngState, next: 3 }),
    );
    const fromOrder = [...ds.batches(7, { order: checkpoint.order, startBatch: checkpoint.next })];
    const restored = new Rng(0);
    restored.setState(checkpoint.rng);
    const fromRng = [...ds.batches(7, { shuffle: true, rng: restored, startBatch: checkpoint.next })];
    for (const resumed of [fromOrder, fromRng]) {
      expect(resumed.map((b) => b.index)).toEqual([3, 4, 5, 6, 7]);
      expect(resumed.map((b) => Array.from(b.indices))).toEqual(
        full.slice(3).map((b) => Array.from(b.indices)),
      );
      expect(resumed.map((b) => Array.from(b.x))).toEqual(full.slice(3).map((b) => Array.from(b.x)));
    }
    // after the shuffle, the restored generator is where the original one is
    expect(restored.state()).toEqual(rng.state());
    expect([...ds.batches(7, { order: checkpoint.order, startBatch: 8 })]).toEqual([]);
  });

  it('rejects bad arguments', () => {
    const ds = numbered(5);
    expect(() => ds.batches(0)).toThrow('batches: batchSize must be a positive integer, got 0');
    expect(() => ds.batches(2.5)).toThrow(ValueError);
    expect(() => ds.batches(2, { shuffle: true, seed: 1, rng: new Rng(1) })).toThrow(
      'batches: pass seed or rng, not both',
    );
    expect(() => ds.batches(2, { seed: 1 })).toThrow(
      'batches: seed / rng given without shuffle: true (rows would not be shuffled)',
    );
    expect(() => ds.batches(2, { order: [0, 1, 2, 3, 4], shuffle: true })).toThrow(
      'batches: pass either order or shuffle (with seed / rng), not both',
    );
    expect(() => ds.batches(2, { order: [0, 1, 2, 3] })).toThrow(
      'batches: order must be a permutation of 0..4, got 4 indices',
    );
    expect(() => ds.batches(2, { order: [0, 1, 2, 3, 3] })).toThrow(
      'batches: order must be a permutation of 0..4: order[4] = 3 is a repeat',
    );
    expect(() => ds.batches(2, { order: [0, 1, 2, 3, 5] })).toThrow(
      'batches: order must be a permutation of 0..4: order[4] = 5 is not an index',
    );
    expect(() => ds.batches(2, { startBatch: 4 })).toThrow(
      'batches: startBatch must be an integer in [0, 3], got 4',
    );
    expect(() => ds.batches(2).batch(3)).toThrow('batch: batch index must be an integer in [0, 3), got 3');
  });
});

describe('toTensors', () => {
  it('uploads x [B, D] and y [B] to the default device', () => {
    const ds = numbered(5, 3);
    const batch = ds.batches(4).batch(1);
    const { x, y } = toTensors(batch);
    try {
      expect(x.device).toBe(getDevice());
      expect(x.shape).toEqual([1, 3]);
      expect(Array.from(x.dataSync())).toEqual([40, 41, 42]);
      expect(y.shape).toEqual([1]);
      expect(Array.from(y.dataSync())).toEqual([1]);
    } finally {
      x.dispose();
      y.dispose();
    }
    const full = toTensors(ds.batches(5).batch(0), getDevice());
    expect(full.x.shape).toEqual([5, 3]);
    expect(Array.from(full.y.dataSync())).toEqual([0, 1, 2, 0, 1]);
    expect(Array.from(full.x.dataSync())).toEqual(Array.from(ds.features));
    full.x.dispose();
    full.y.dispose();
  });
});
