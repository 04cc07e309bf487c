import { buildModel } from '@gradkit/nn';
import { sgd } from '@gradkit/optimizers';
import { arange, memory, Rng, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { Dataset } from './data/dataset.js';
import { HitTally, intoSlot } from './device-tally.js';
import { Trainer } from './trainer.js';

// The training loop's device-side bookkeeping: batch losses stored into slots of a window and
// correct predictions counted per row, one kernel a step each. Checked against host arithmetic.

/** Host reference: the first index of the row maximum equals the label. */
function hostHits(logits: Float32Array, classes: number, labels: Int32Array): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    if (best === labels[i]) hits++;
  }
  return hits;
}

function blobs(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const features = Float32Array.from({ length: n * 4 }, () => rng.normal());
  const labels = Int32Array.from(
    { length: n },
    (_, i) => (features[i * 4] > 0 ? 1 : 0) + (features[i * 4 + 1] > 0.5 ? 1 : 0),
  );
  return new Dataset({ features, labels, numFeatures: 4, numClasses: 3, name: 'tally' });
}

describe.each(testBackends)('device tallies on %s', (backend) => {
  useBackend(backend);

  it('HitTally counts argmax == label over batches of two sizes, ties to the first maximum', () => {
    const before = memory().tensors;
    const tally = new HitTally();
    // batch of 4 rows, 3 classes: rows 1 and 3 tie (first maximum wins)
    const a = Float32Array.from([0.1, 2, -1, 5, 5, 0, -3, -2, -1, 1, 1, 1]);
    const ya = Int32Array.from([1, 1, 2, 0]); // right, wrong (tie -> 0), right, right
    // batch of 3 rows
    const b = Float32Array.from([0, 0, 9, 7, -1, 2, -0.5, -0.25, -0.75]);
    const yb = Int32Array.from([2, 0, 0]); // right, right, wrong (argmax 1)
    expect(tally.total()).toBeNull();
    const la = tensor(a, [4, 3]);
    const lb = tensor(b, [3, 3]);
    for (let step = 0; step < 3; step++) {
      tally.add(la, ya);
      tally.add(lb, yb);
    }
    la.dispose();
    lb.dispose();
    expect(hostHits(a, 3, ya)).toBe(3);
    expect(hostHits(b, 3, yb)).toBe(2);
    const total = tally.total()!;
    expect(total.shape).toEqual([]);
    expect(total.item()).toBe(3 * (3 + 2));
    total.dispose();
    tally.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('intoSlot stores each value in its slot bit for bit (NaN, -0, infinities) and keeps the others', () => {
    const slots = arange(0, 5);
    const values = [Number.NaN, -0, Number.POSITIVE_INFINITY, 1.5, Number.NEGATIVE_INFINITY];
    let w = intoSlot(slots, 0, tensor(values[0]), null);
    let first = Array.from(w.toArray() as number[]);
    expect(Number.isNaN(first[0])).toBe(true);
    expect(first.slice(1)).toEqual([0, 0, 0, 0]);
    for (let k = 1; k < values.length; k++) {
      const next = intoSlot(slots, k, tensor(values[k]), w);
      w.dispose();
      w = next;
    }
    first = Array.from(w.toArray() as number[]);
    expect(Number.isNaN(first[0])).toBe(true);
    expect(Object.is(first[1], -0)).toBe(true);
    expect(first.slice(2)).toEqual([Number.POSITIVE_INFINITY, 1.5, Number.NEGATIVE_INFINITY]);
    w.dispose();
    slots.dispose();
  });

  it("evaluate's accuracy and a frozen fit's epoch accuracy equal the host count over predict()'s logits", () => {
    const data = blobs(203, 5); // batch 16: 12 full batches and one of 11 rows
    const model = buildModel(
      [{ type: 'linear', in: 4, out: 16 }, { type: 'relu' }, { type: 'linear', in: 16, out: 3 }],
      { rng: new Rng(2) },
    );
    const optimizer = sgd(model, { lr: 0 }); // the weights never move: every pass sees one model
    const trainer = new Trainer({ model, optimizer });
    const logits = trainer.predict(data, { batchSize: 16 });
    const labels = data.labels;
    const want = hostHits(logits, 3, labels) / data.length;
    expect(want).toBeGreaterThan(0.1);
    expect(want).toBeLessThan(0.9);
    expect(trainer.evaluate(data, { batchSize: 16 }).accuracy).toBe(want);
    expect(trainer.evaluate(data, { batchSize: 64 }).accuracy).toBe(want);
    const history = trainer.fit(data, { epochs: 2, batchSize: 16, seed: 1 });
    expect(history.epochs.map((e) => e.logs.accuracy)).toEqual([want, want]);
    optimizer.dispose();
    model.dispose();
  });
});
