// When a GEMM is split across worker threads: measured per product shape, on the machine and
// engine that run it, so that the default never runs a shape slower than one thread does.
//
// A fixed size threshold cannot promise that: waking a worker costs 10-50 us in Node and more in
// a browser page, and whether the split pays depends on the cores, the engine and what else runs
// (on this 2-core machine, in Chromium, 2 threads made square products of n = 128 and 256 slower,
// 0.69-0.89x, while the MNIST step's products gained 1.4-1.5x). Results do not depend on the
// choice (every element of C is computed by one thread in the same order), only the time does.

/** How a product ran: on the calling thread alone, or split across the ready workers too. */
export type ThreadMode = 'single' | 'split';

/** What the thread policy knows about one product shape (see `WasmBackend.threadStats`). */
export interface ShapeThreadStats {
  /** `m,k,n` and the transposes, e.g. `'128,784,256,NT'`. */
  readonly shape: string;
  /** The mode the next calls use. */
  readonly mode: ThreadMode;
  /** Calls so far. */
  readonly calls: number;
  /** The median of the recent times on one thread, in ms (NaN before any sample). */
  readonly singleMs: number;
  /** The median of the recent times split across the threads, in ms (NaN before any sample). */
  readonly splitMs: number;
}

/** Samples kept per mode and shape; the median of these decides (one outlier cannot flip it). */
const WINDOW = 3;
/** Samples of each mode before the policy settles. */
const PROBES = 3;
/**
 * After settling, one call in this many runs the other mode, so a changed machine is noticed: one
 * in 16 during a shape's first 256 calls (a choice made while the machine was briefly busy is
 * undone within about 32 calls), then one in 64.
 */
const REPROBE_EARLY = 16;
const REPROBE_EARLY_CALLS = 256;
const REPROBE_EVERY = 64;
/** Splitting must be this much faster than one thread to be chosen (a tie stays on one thread). */
const SPLIT_GAIN = 0.95;

interface Entry {
  calls: number;
  single: number[];
  split: number[];
  mode: ThreadMode;
}

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/**
 * Chooses, per product shape, whether a GEMM is split across worker threads: the first calls of a
 * shape alternate between one thread and the split (three samples each), then the faster by
 * median time is used (the split only when at least 5% faster), and one call in 16 (after the
 * shape's first 256 calls, one in 64) runs the other mode again, keeping the last three samples
 * of each, so the choice follows the machine's load.
 * Products below `minMacs` multiply-adds always run on one thread.
 *
 * @example
 * ```ts
 * const policy = new ThreadPolicy(1 << 20);
 * const mode = policy.choose('128,784,256,NT', 128 * 784 * 256); // 'split' first, then 'single', ...
 * policy.record('128,784,256,NT', mode, 1.3); // milliseconds the product took
 * ```
 */
export class ThreadPolicy {
  private readonly shapes = new Map<string, Entry>();

  /** @param minMacs products below this many multiply-adds never split. */
  constructor(readonly minMacs: number) {}

  /** The mode for the next product of `shape` with `macs` multiply-adds. */
  choose(shape: string, macs: number): ThreadMode {
    if (macs < this.minMacs) return 'single';
    let e = this.shapes.get(shape);
    if (!e) {
      e = { calls: 0, single: [], split: [], mode: 'split' };
      this.shapes.set(shape, e);
    }
    e.calls++;
    if (e.single.length < PROBES || e.split.length < PROBES) {
      // probing: whichever mode has fewer samples, the split first
      return e.split.length <= e.single.length ? 'split' : 'single';
    }
    const every = e.calls <= REPROBE_EARLY_CALLS ? REPROBE_EARLY : REPROBE_EVERY;
    if (e.calls % every === 0) return e.mode === 'split' ? 'single' : 'split';
    return e.mode;
  }

  /** Records that a product of `shape` ran in `mode` and took `ms` milliseconds. */
  record(shape: string, mode: ThreadMode, ms: number): void {
    const e = this.shapes.get(shape);
    if (!e || !(ms >= 0)) return;
    const xs = mode === 'split' ? e.split : e.single;
    xs.push(ms);
    if (xs.length > WINDOW) xs.shift();
    if (e.single.length >= PROBES && e.split.length >= PROBES) {
      e.mode = median(e.split) < SPLIT_GAIN * median(e.single) ? 'split' : 'single';
    }
  }

  /** What is known per shape, for reports and tests. */
  stats(): ShapeThreadStats[] {
    return [...this.shapes].map(([shape, e]) => ({
      shape,
      mode: e.mode,
      calls: e.calls,
      singleMs: median(e.single),
      splitMs: median(e.split),
    }));
  }
}
