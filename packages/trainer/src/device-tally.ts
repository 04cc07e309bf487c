// What the training loop counts on the device between read-backs, each in one small kernel per
// step: the batch losses (one slot each in a vector read every `lossReadInterval` steps) and the
// correct predictions (a per-row count read at the end of the epoch). On a GPU backend every
// launch has a fixed host cost, so a step's bookkeeping should add as few as possible.
import { defineKernel, keep, noGrad, Tensor, tensor } from '@gradkit/tensor';

/** `a == p0 ? b : c`: slot `p0` of the window `c` set to `b` (the slots `a` are `0..n-1`). */
const PUT_SLOT = defineKernel({ name: 'trainer.putSlot', arity: 3, params: 1, expr: 'a == p0 ? b : c' });
/** `a == p0 ? b : 0`: a new window holding `b` in slot `p0`. */
const FIRST_SLOT = defineKernel({
  name: 'trainer.firstSlot',
  arity: 2,
  params: 1,
  expr: 'a == p0 ? b : 0.0',
});
/** `c + (a == b)`: a row's count of correct predictions, `a` the predicted class, `b` the label. */
const ADD_HIT = defineKernel({ name: 'trainer.addHit', arity: 3, params: 0, expr: 'a == b ? c + 1.0 : c' });
/** `a == b`: the first count of a row. */
const FIRST_HIT = defineKernel({ name: 'trainer.firstHit', arity: 2, params: 0, expr: 'a == b ? 1.0 : 0.0' });

/**
 * `where(slots == k, value, prev ?? 0)` in one kernel: the window `prev` (`[n]`) with slot `k` set
 * to the scalar `value`, bit for bit (a NaN or infinite loss is stored as it is). `slots` holds
 * `0..n-1`.
 *
 * @internal
 * @example
 * ```ts
 * const w = intoSlot(arange(0, 4), 2, tensor(0.5), null); // [0, 0, 0.5, 0]
 * ```
 */
export function intoSlot(slots: Tensor, k: number, value: Tensor, prev: Tensor | null): Tensor {
  const d = slots.device;
  return new Tensor(
    prev
      ? d.map(PUT_SLOT, [slots.array, value.array, prev.array], [k])
      : d.map(FIRST_SLOT, [slots.array, value.array], [k]),
  );
}

/**
 * Correct predictions counted on the device with one kernel per step and no reduction: a vector
 * per batch size seen, whose row `i` counts the batches whose row `i` was predicted right
 * (`argmax(logits)_i == label_i`). {@link HitTally.total} sums them once. Counts are integers in
 * float32, exact while the epoch has fewer than 2^24 rows.
 *
 * @internal
 * @example
 * ```ts
 * const tally = new HitTally();
 * tally.add(logits, labels); // every step, inside its scope
 * const hits = tally.total(); // a scalar tensor to read at the end; tally.dispose() after
 * ```
 */
export class HitTally {
  private readonly rows = new Map<number, Tensor>();

  /** Counts one batch: `logits` `[B, C]`, `labels` the `B` class indices. */
  add(logits: Tensor, labels: Int32Array): void {
    noGrad(() => {
      const predicted = logits.argmax(-1);
      const y = tensor(labels);
      const d = predicted.device;
      const prev = this.rows.get(labels.length);
      const next = new Tensor(
        prev
          ? d.map(ADD_HIT, [predicted.array, y.array, prev.array])
          : d.map(FIRST_HIT, [predicted.array, y.array]),
      );
      predicted.dispose();
      y.dispose();
      this.rows.set(labels.length, keep(next));
      prev?.dispose();
    });
  }

  /** The correct predictions so far as a scalar tensor (the caller disposes it), or null before any batch. */
  total(): Tensor | null {
    let sum: Tensor | null = null;
    noGrad(() => {
      for (const r of this.rows.values()) {
        const s = r.sum();
        const next = sum ? sum.add(s) : s;
        if (sum) {
          sum.dispose();
          s.dispose();
        }
        sum = next;
      }
    });
    return sum;
  }

  /** Releases the counts. */
  dispose(): void {
    for (const r of this.rows.values()) r.dispose();
    this.rows.clear();
  }
}
